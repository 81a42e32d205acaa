// Load-time benchmark for model files (ours side; bench/load_vs_python.sh runs the Python references on the
// same files in the same run and prints ratios).
//   load_bench make-gguf OUT.gguf [preset] [type]  writes a random GGUF at a preset's shapes (default gemma3-1b, q8_0)
//   load_bench gguf FILE | safetensors DIR          prints JSON: open_ms (parse + index), read_ms (open + copy
//                                                    every tensor's bytes into owned memory), bytes
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "io/gguf.h"
#include "io/safetensors_index.h"
#include "model/config.h"
#include "model/gguf_model.h"
#include "model/tensor_names.h"

using namespace scitune;

namespace {

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

int make_gguf(const std::string& out, const std::string& preset_name, const std::string& type_name) {
  ModelConfig c = *preset(preset_name);
  GgmlType qt = type_name == "f16" ? GgmlType::F16 : type_name == "q4_0" ? GgmlType::Q4_0 : GgmlType::Q8_0;
  GgufWriter w;
  w.add("general.architecture", GgufValue::str("gemma3"));
  w.add("gemma3.block_count", GgufValue::u32(static_cast<uint32_t>(c.num_hidden_layers)));
  w.add("gemma3.embedding_length", GgufValue::u32(static_cast<uint32_t>(c.hidden_size)));
  for_each_tensor(c, [&](const TensorDesc& d) {
    std::vector<uint64_t> ne(d.shape.rbegin(), d.shape.rend());
    GgmlType t = d.shape.size() == 1 ? GgmlType::F32 : qt;
    const uint64_t rows = d.shape.size() == 1 ? 1 : static_cast<uint64_t>(d.shape[0]);
    const size_t row_bytes = ggml_row_size(t, ne[0]);
    w.add_tensor(*gguf_tensor_name(d.name), t, ne, [row_bytes, rows, t](GgufTensorSink& sink) {
      std::mt19937 rng(1);
      std::vector<uint8_t> row(row_bytes);
      for (uint64_t r = 0; r < rows; ++r) {
        for (auto& b : row) b = static_cast<uint8_t>(rng());
        if (t == GgmlType::F32) std::memset(row.data(), 0, row.size());
        sink.write(row);
      }
    });
  });
  w.write(out, Overwrite::kYes);
  return 0;
}

template <class Open, class ForEach>
void measure(const char* fmt, Open open, ForEach for_each_tensor_bytes) {
  { auto warm = open(); }  // same warm-up as the Python side
  auto t0 = std::chrono::steady_clock::now();
  { auto f = open(); }
  const double open_ms = ms_since(t0);
  t0 = std::chrono::steady_clock::now();
  uint64_t total = 0;
  {
    auto f = open();
    for_each_tensor_bytes(f, [&](std::span<const uint8_t> bytes) {
      std::vector<uint8_t> copy(bytes.begin(), bytes.end());
      total += copy.size();
    });
  }
  std::printf("{\"format\": \"%s\", \"impl\": \"scitune\", \"open_ms\": %.2f, \"read_ms\": %.1f, \"bytes\": %llu}\n",
              fmt, open_ms, ms_since(t0), static_cast<unsigned long long>(total));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 3 && std::string(argv[1]) == "make-gguf")
    return make_gguf(argv[2], argc > 3 ? argv[3] : "gemma3-1b", argc > 4 ? argv[4] : "q8_0");
  if (argc == 3 && std::string(argv[1]) == "gguf") {
    measure("gguf", [&] { return GgufFile::open(argv[2]); },
            [](const GgufFile& f, auto fn) {
              for (const auto& t : f.tensors()) fn(t.data);
            });
    return 0;
  }
  if (argc == 3 && std::string(argv[1]) == "safetensors") {
    measure("safetensors", [&] { return TensorStore::open_folder(argv[2]); },
            [](const TensorStore& s, auto fn) {
              for (const auto& name : s.names()) {
                TensorView v = s.tensor(name);
                fn(v.data);
              }
            });
    return 0;
  }
  std::fprintf(stderr, "usage: load_bench make-gguf OUT [preset] [type] | gguf FILE | safetensors DIR\n");
  return 1;
}
