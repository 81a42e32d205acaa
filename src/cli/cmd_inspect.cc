// `scitune inspect FILE|DIR`: what a model file holds — like gguf-dump, but for GGUF, safetensors, HF model
// folders and PEFT adapters alike. Architecture and config first, then metadata, the tensor table and totals.
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>

#include "cli/commands.h"
#include "io/gguf.h"
#include "io/json_limits.h"
#include "io/safetensors.h"
#include "io/safetensors_index.h"
#include "model/gguf_model.h"
#include "model/hf_folder.h"
#include "util/error.h"
#include "util/progress.h"

namespace scitune::cli {

namespace {

namespace fs = std::filesystem;

struct InspectOptions {
  std::string path;
  size_t max_array = 8;
  bool no_tensors = false;
};

std::string human_count(uint64_t n) {
  char buf[32];
  if (n >= 1000000000) std::snprintf(buf, sizeof buf, "%.2fB", n / 1e9);
  else if (n >= 1000000) std::snprintf(buf, sizeof buf, "%.2fM", n / 1e6);
  else if (n >= 1000) std::snprintf(buf, sizeof buf, "%.1fK", n / 1e3);
  else std::snprintf(buf, sizeof buf, "%llu", static_cast<unsigned long long>(n));
  return buf;
}

// Per-dtype totals, printed after every tensor table.
struct Totals {
  std::map<std::string, std::pair<uint64_t, uint64_t>> by_type;  // type -> (values, bytes)
  uint64_t values = 0, bytes = 0, count = 0;
  void add(const std::string& type, uint64_t n, uint64_t b) {
    auto& t = by_type[type];
    t.first += n;
    t.second += b;
    values += n;
    bytes += b;
    ++count;
  }
  void print() const {
    std::printf("totals: %llu tensors, %s values (%llu), %s\n", static_cast<unsigned long long>(count),
                human_count(values).c_str(), static_cast<unsigned long long>(values), human_bytes(bytes).c_str());
    for (const auto& [type, vb] : by_type)
      std::printf("  %-6s %10s values  %12s\n", type.c_str(), human_count(vb.first).c_str(),
                  human_bytes(vb.second).c_str());
  }
};

void print_safetensors_tensors(const TensorStore& store, const InspectOptions& o) {
  Totals totals;
  if (!o.no_tensors) std::printf("%-64s %-5s %-20s %12s\n", "name", "dtype", "shape", "bytes");
  for (const auto& name : store.names()) {
    TensorView t = store.tensor(name);
    const std::string dt(dtype_name(t.dtype()));
    if (!o.no_tensors)
      std::printf("%-64s %-5s %-20s %12llu\n", name.c_str(), dt.c_str(), shape_to_string(t.shape()).c_str(),
                  static_cast<unsigned long long>(t.info->nbytes()));
    totals.add(dt, t.numel(), t.info->nbytes());
  }
  totals.print();
}

void inspect_gguf(const fs::path& path, const InspectOptions& o) {
  GgufFile f = GgufFile::open(path);
  std::printf("file: %s\nformat: GGUF v%u, %s, alignment %zu, %zu keys, %zu tensors\n", path.c_str(), f.version(),
              human_bytes(fs::file_size(path)).c_str(), f.alignment(), f.metadata().size(), f.tensors().size());
  auto arch = f.get_optional<std::string>("general.architecture");
  if (arch) std::printf("architecture: %s\n", arch->c_str());
  if (arch == "gemma3") {
    try {  // a file scitune cannot run is still worth listing
      std::printf("\nconfig (as llama.cpp reads gemma3 files):\n%s\n", describe(config_from_gguf(f)).c_str());
    } catch (const UserError& e) {
      std::printf("\nconfig: not usable by scitune: %s\n", e.what());
    }
  }
  std::printf("\nmetadata:\n");
  for (const auto& [key, value] : f.metadata())
    std::printf("  %-44s %-14s %s\n", key.c_str(), gguf_type_name(value.type()).c_str(),
                to_string(value, o.max_array).c_str());
  std::printf("\ntensors:\n");
  Totals totals;
  if (!o.no_tensors) std::printf("%-40s %-6s %-24s %12s %12s\n", "name", "type", "ne", "offset", "bytes");
  for (const auto& t : f.tensors()) {
    const std::string type(ggml_info(t.type).name);
    if (!o.no_tensors) {
      std::string ne = "{";
      for (size_t i = 0; i < t.ne.size(); ++i) ne += (i ? ", " : "") + std::to_string(t.ne[i]);
      ne += "}";
      std::printf("%-40s %-6s %-24s %12llu %12llu\n", t.name.c_str(), type.c_str(), ne.c_str(),
                  static_cast<unsigned long long>(t.offset), static_cast<unsigned long long>(t.nbytes));
    }
    totals.add(type, t.n_elements(), t.nbytes);
  }
  totals.print();
}

void inspect_safetensors(const fs::path& path, const InspectOptions& o) {
  TensorStore store = TensorStore::open_file(path);
  std::printf("file: %s\nformat: safetensors, %s, %zu tensors\n", path.c_str(),
              human_bytes(fs::file_size(path)).c_str(), store.size());
  const auto& meta = store.files().front()->metadata();
  if (!meta.empty()) {
    std::printf("\nmetadata:\n");
    for (const auto& [k, v] : meta) std::printf("  %-32s %s\n", k.c_str(), v.c_str());
  }
  std::printf("\ntensors:\n");
  print_safetensors_tensors(store, o);
}

void inspect_adapter(const fs::path& dir, const InspectOptions& o) {
  nlohmann::json cfg = read_json_file(dir / "adapter_config.json");
  std::printf("folder: %s\nformat: PEFT adapter\n\nadapter_config.json:\n", dir.c_str());
  for (const char* key : {"peft_type", "task_type", "r", "lora_alpha", "use_rslora", "lora_dropout", "bias",
                          "target_modules", "base_model_name_or_path"})
    if (cfg.contains(key)) std::printf("  %-24s %s\n", key, cfg[key].dump().c_str());
  for (const char* name : {"adapter_model.safetensors", "adapter_model.bin"}) {
    if (!fs::exists(dir / name)) continue;
    if (std::string(name) == "adapter_model.bin")
      fail((dir / name).string() + ": pickled PyTorch adapters are not read (unsafe); save with safetensors");
    std::printf("\ntensors (%s):\n", name);
    print_safetensors_tensors(TensorStore::open_file(dir / name), o);
    return;
  }
  fail(dir.string() + ": adapter_config.json found but no adapter_model.safetensors");
}

void inspect_model_folder(const fs::path& dir, const InspectOptions& o) {
  HfModelFolder folder = HfModelFolder::open(dir);
  std::printf("folder: %s\nformat: HF model folder (%s, model_type %s%s), %zu safetensors file(s)\n", dir.c_str(),
              folder.origin().architecture.c_str(), folder.origin().model_type.c_str(),
              folder.origin().multimodal ? ", multimodal wrapper: text decoder only" : "",
              folder.store().num_files());
  std::printf("text tensors under: \"%s\"; other tensors (vision/projector, left alone): %zu\n",
              folder.text_prefix().c_str(), folder.other_tensors().size());
  std::printf("\nconfig:\n%s\n", describe(folder.config()).c_str());
  const GenerationDefaults& g = folder.generation();
  std::printf("generation: do_sample %s, temperature %g, top_k %lld, top_p %g, min_p %g, repetition_penalty %g\n",
              g.do_sample ? "true" : "false", g.temperature, static_cast<long long>(g.top_k), g.top_p, g.min_p,
              g.repetition_penalty);
  std::printf("\ntensors:\n");
  print_safetensors_tensors(folder.store(), o);
}

bool has_gguf_magic(const fs::path& p) {
  FILE* f = std::fopen(p.c_str(), "rb");
  if (!f) fail(p.string() + ": cannot open");
  char m[4] = {};
  size_t n = std::fread(m, 1, 4, f);
  std::fclose(f);
  return n == 4 && m[0] == 'G' && m[1] == 'G' && m[2] == 'U' && m[3] == 'F';
}

void run_inspect(const InspectOptions& o) {
  const fs::path p(o.path);
  std::error_code ec;
  if (!fs::exists(p, ec)) fail(o.path + ": no such file or folder");
  if (fs::is_directory(p, ec)) {
    if (fs::exists(p / "adapter_config.json")) return inspect_adapter(p, o);
    if (fs::exists(p / "config.json")) return inspect_model_folder(p, o);
    fail(o.path + ": folder has neither config.json (HF model) nor adapter_config.json (PEFT adapter)");
  }
  if (has_gguf_magic(p)) return inspect_gguf(p, o);
  if (p.extension() == ".safetensors") return inspect_safetensors(p, o);
  fail(o.path + ": not a GGUF (no GGUF magic) and not a .safetensors file");
}

}  // namespace

void register_inspect(CLI::App& app) {
  auto opts = std::make_shared<InspectOptions>();
  CLI::App* cmd = app.add_subcommand(
      "inspect", "Show architecture, config, metadata and tensors of a GGUF, safetensors file, HF folder or adapter");
  cmd->add_option("path", opts->path, "GGUF file, .safetensors file, HF model folder or PEFT adapter folder")
      ->required();
  cmd->add_option("--max-array", opts->max_array, "Array elements to show per metadata value")
      ->capture_default_str();
  cmd->add_flag("--no-tensors", opts->no_tensors, "Only the summary and totals, no per-tensor rows");
  cmd->callback([opts] { run_inspect(*opts); });
}

}  // namespace scitune::cli
