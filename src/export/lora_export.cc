#include "export/lora_export.h"

#include <cmath>
#include <memory>

#include "model/gguf_model.h"
#include "quant/quants.h"
#include "util/error.h"

namespace scitune {

GgufWriter gguf_lora_writer(const LoraAdapter& adapter, GgmlType type, const std::string& name) {
  if (type != GgmlType::F32 && type != GgmlType::F16 && type != GgmlType::BF16)
    fail("gguf-lora: --dtype must be f32, f16 or bf16");
  const auto& mods = adapter.modules();
  if (mods.empty()) fail("gguf-lora: the adapter has no LoRA modules");
  // One alpha for the file when scale·r agrees across modules (alpha/r, or alpha/sqrt(r) with one r).
  const double alpha_file = static_cast<double>(mods[0].scale) * static_cast<double>(mods[0].r);
  bool uniform = true;
  for (const LoraModule& m : mods)
    uniform &= std::fabs(static_cast<double>(m.scale) * static_cast<double>(m.r) - alpha_file) <= 1e-6 * alpha_file;
  GgufWriter w;
  w.add("general.architecture", GgufValue::str("gemma3"));
  w.add("general.type", GgufValue::str("adapter"));
  w.add("general.name", GgufValue::str(name));
  w.add("adapter.type", GgufValue::str("lora"));
  w.add("adapter.lora.alpha", GgufValue::f32(uniform ? static_cast<float>(alpha_file) : 0.0f));
  w.add("general.file_type", GgufValue::u32(type == GgmlType::F32 ? 0 : type == GgmlType::F16 ? 1 : 32));
  for (const LoraModule& m : mods) {
    const std::string base = *gguf_tensor_name("layers." + std::to_string(m.layer) + "." + proj_path(m.proj) + ".weight");
    auto add = [&](const std::string& tname, const std::vector<float>& src, float mul, std::vector<uint64_t> ne) {
      auto values = std::make_shared<std::vector<float>>(src);
      if (mul != 1.0f)
        for (float& v : *values) v *= mul;
      const int64_t n = static_cast<int64_t>(values->size());
      w.add_tensor(tname, type, std::move(ne), [values, type, n](GgufTensorSink& sink) {
        std::vector<uint8_t> bytes(ggml_row_size(type, static_cast<uint64_t>(n)));
        quantize_row(type, values->data(), bytes.data(), n);
        sink.write(bytes);
      });
    };
    add(base + ".lora_a", m.A, 1.0f, {static_cast<uint64_t>(m.in), static_cast<uint64_t>(m.r)});
    add(base + ".lora_b", m.B, uniform ? 1.0f : m.scale, {static_cast<uint64_t>(m.r), static_cast<uint64_t>(m.out)});
  }
  return w;
}

}  // namespace scitune
