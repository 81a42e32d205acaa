// `scitune export`: a base model (+ a LoRA adapter) in the forms people run — a PEFT adapter, a merged HF
// folder, a GGUF for llama.cpp / Ollama (F32 down to Q4_K_M), a llama.cpp LoRA GGUF — each in a folder of its
// own with a model card, written into a staging folder and moved into place only when complete.
#include <cstdio>
#include <filesystem>
#include <string>

#include "cli/commands.h"
#include "export/export_base.h"
#include "export/gguf_export.h"
#include "export/hf_export.h"
#include "export/imatrix.h"
#include "export/lora_export.h"
#include "export/model_card.h"
#include "export/staged_output.h"
#include "quant/quants_imatrix.h"
#include "util/atomic_file.h"
#include "util/error.h"
#include "util/progress.h"

namespace scitune::cli {

namespace {

namespace fs = std::filesystem;

struct ExportOptions {
  std::string model, adapter, format, out, quant = "f16", dtype, imatrix, tokenizer, name;
  std::string max_shard = "5GB";
  bool ollama = false, force = false;
};

uint64_t parse_size(const std::string& s) {
  size_t pos = 0;
  double v = 0;
  try {
    v = std::stod(s, &pos);
  } catch (const std::exception&) {
    fail("--max-shard-size: expected a size like 5GB or 500MB, got \"" + s + "\"");
  }
  std::string unit = s.substr(pos);
  for (char& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  double mul = unit == "" || unit == "B" ? 1 : unit == "KB" ? 1e3 : unit == "MB" ? 1e6 : unit == "GB" ? 1e9
             : unit == "KIB" ? 1024.0 : unit == "MIB" ? 1048576.0 : unit == "GIB" ? 1073741824.0 : -1;
  if (mul < 0 || v <= 0) fail("--max-shard-size: expected a size like 5GB or 500MB, got \"" + s + "\"");
  return static_cast<uint64_t>(v * mul);
}

std::string quant_tag(std::string_view q) {
  std::string t(q);
  for (char& c : t) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return t;
}

// File names inside the export folder: --name, else the base's name (+ "-sci" when an adapter is merged in).
std::string file_stem(const ExportBase& base, const std::string& name) {
  std::string s = name.empty() ? base.path().filename().string() : name;
  if (s.size() > 5 && s.compare(s.size() - 5, 5, ".gguf") == 0) s.resize(s.size() - 5);
  for (char& c : s)
    if (c == ' ' || c == '/') c = '-';
  return s + (base.adapter() && name.empty() ? "-sci" : "");
}

void write_card(const ExportBase& base, const StagedOutput& out, const std::string& format) {
  CardFacts f{format, {}, fs::path(out.target()).filename().string()};
  for (const auto& e : fs::directory_iterator(out.dir())) f.files.push_back(e.path().filename().string());
  std::sort(f.files.begin(), f.files.end());
  f.files.push_back("README.md");
  write_file_atomic(out.dir() / "README.md", model_card(base, f));
}

void run_export(const ExportOptions& o) {
  if (!o.imatrix.empty() && o.format != "gguf")
    fail("--imatrix: only --format gguf quantises with an importance matrix, not --format " + o.format);
  ExportBase base = ExportBase::open(o.model);
  if (!o.adapter.empty()) base.attach_adapter(o.adapter);
  const std::optional<fs::path> tokenizer = o.tokenizer.empty() ? std::nullopt : std::optional<fs::path>(o.tokenizer);
  if (o.ollama && o.format != "gguf") fail("--ollama needs --format gguf (Ollama runs a merged GGUF)");

  if (o.format == "peft" || o.format == "gguf-lora") {
    if (!base.adapter()) fail("--format " + o.format + " needs --adapter DIR");
    if (o.format == "peft") {
      StagedOutput out(o.out, o.force, 64ull << 20);
      base.adapter()->save(out.dir() / "adapter", Overwrite::kYes);
      for (const char* f : {"adapter_config.json", "adapter_model.safetensors"})
        fs::rename(out.dir() / "adapter" / f, out.dir() / f);
      fs::remove(out.dir() / "adapter");
      write_card(base, out, "peft");
      out.commit();
    } else {
      const std::string dt = o.dtype.empty() ? "f32" : o.dtype;
      const auto ft = parse_gguf_file_type(dt);
      if (!ft || ggml_info(ft->default_type).quantized) fail("--dtype: gguf-lora takes f32, f16 or bf16, got \"" + dt + "\"");
      StagedOutput out(o.out, o.force, 256ull << 20);
      const std::string file = file_stem(base, o.name) + "-lora-" + quant_tag(dt) + ".gguf";
      gguf_lora_writer(*base.adapter(), ft->default_type, file_stem(base, o.name) + " LoRA").write(out.dir() / file);
      write_card(base, out, "gguf-lora " + dt);
      out.commit();
    }
  } else if (o.format == "merged") {
    MergedExportOptions mo;
    const std::string dt = o.dtype.empty() ? "bf16" : o.dtype;
    mo.dtype = dt == "f32" ? DType::F32 : dt == "f16" ? DType::F16 : dt == "bf16" ? DType::BF16
             : (fail("--dtype: expected f32, f16 or bf16, got \"" + dt + "\""), DType::F32);
    mo.max_shard_bytes = parse_size(o.max_shard);
    mo.tokenizer = tokenizer;
    const uint64_t bytes = merged_export_bytes(base, mo);
    StagedOutput out(o.out, o.force, bytes);
    ProgressBar bar("export", bytes, "bytes");
    const int shards = write_merged_folder(base, mo, out.dir(), [&](uint64_t n) { bar.update(n); });
    bar.finish();
    if (!fs::exists(out.dir() / "tokenizer.json") && !fs::exists(out.dir() / "tokenizer.model"))
      std::printf("note: no tokenizer files were copied (the base has none); pass --tokenizer DIR to include them\n");
    write_card(base, out, "merged (" + dt + ")");
    out.commit();
    std::printf("wrote %s: %d shard%s, %s of %s tensors\n", out.target().c_str(), shards, shards == 1 ? "" : "s",
                human_bytes(bytes).c_str(), dt.c_str());
  } else if (o.format == "gguf") {
    const auto ft = parse_gguf_file_type(o.quant);
    if (!ft) fail("--quant: unknown GGUF type \"" + o.quant + "\" (expected one of " + std::string(kGgufFileTypeNames) + ")");
    std::shared_ptr<const ImportanceMatrix> imatrix;
    if (!o.imatrix.empty()) {
      if (!quant_uses_importance(ft->default_type))
        fail("--imatrix: --quant " + o.quant + " has no use for an importance matrix (ggml ignores it for f32, f16, "
             "bf16 and q8_0); it applies to q4_0, q4_1, q5_0, q5_1, q4_k_m, q5_k_m and q6_k");
      try {
        imatrix = std::make_shared<const ImportanceMatrix>(read_imatrix(o.imatrix));
      } catch (const UserError& e) {
        fail(std::string("--imatrix: ") + e.what());
      }
    }
    ProgressBar* bar_ptr = nullptr;
    GgufExportPlan plan = plan_gguf_export(base, {*ft, o.name, tokenizer, imatrix}, [&](uint64_t n) {
      if (bar_ptr) bar_ptr->update(n);
    });
    uint64_t data_bytes = 0;
    for (const auto& t : plan.writer.layout()) data_bytes += t.nbytes;
    StagedOutput out(o.out, o.force, data_bytes + (64ull << 20));
    const std::string file = file_stem(base, o.name) + "-" + quant_tag(ft->name) + ".gguf";
    ProgressBar bar("export", data_bytes, "bytes");
    bar_ptr = &bar;
    plan.writer.write(out.dir() / file);
    bar.finish();
    if (o.ollama) {
      write_file_atomic(out.dir() / "Modelfile", ollama_modelfile(file));
      write_file_atomic(out.dir() / "OLLAMA.md",
                        "# Run this model with Ollama\n\n    cd " + out.target().string() +
                            "\n    ollama create " + file_stem(base, o.name) + " -f Modelfile\n    ollama run " +
                            file_stem(base, o.name) +
                            "\n\nThe Modelfile points at the GGUF beside it (FROM ./" + file +
                            "), uses Gemma 3's turn template and stops on <end_of_turn> and <eos>. The adapter is "
                            "merged into the weights: Ollama's Gemma 3 engine does not apply ADAPTER lines.\n");
    }
    write_card(base, out, "gguf " + std::string(ft->name));
    out.commit();
    std::map<std::string, int> counts;
    for (const auto& t : plan.tensors) ++counts[std::string(ggml_info(t.type).name)];
    std::string types;
    for (const auto& [t, n] : counts) types += (types.empty() ? "" : ", ") + std::to_string(n) + " " + t;
    std::printf("wrote %s: %zu tensors (%s)%s%s\n", (out.target() / file).c_str(), plan.tensors.size(), types.c_str(),
                plan.fallbacks ? (", " + std::to_string(plan.fallbacks) +
                                  " fell back from a K-quant: row length not a multiple of 256").c_str()
                               : "",
                imatrix ? (", " + std::to_string(plan.imatrix_tensors) + " quantised with the imatrix").c_str() : "");
  } else {
    fail("--format: expected peft, merged, gguf or gguf-lora, got \"" + o.format + "\"");
  }
  if (o.format != "gguf" && o.format != "merged") std::printf("wrote %s\n", o.out.c_str());
}

}  // namespace

void register_export(CLI::App& app) {
  auto o = std::make_shared<ExportOptions>();
  CLI::App* cmd = app.add_subcommand("export", "Write a model (+ LoRA adapter) as PEFT, merged HF, GGUF or GGUF LoRA");
  cmd->add_option("--model", o->model, "Base model: HF folder or gemma3 GGUF")->required();
  cmd->add_option("--adapter", o->adapter, "PEFT LoRA adapter folder to merge or convert");
  cmd->add_option("--format", o->format, "peft | merged | gguf | gguf-lora")->required();
  cmd->add_option("--out", o->out, "Output folder (created; refused if it exists unless --force)")->required();
  cmd->add_option("--quant", o->quant, "gguf: " + std::string(kGgufFileTypeNames) + " (default f16)");
  cmd->add_option("--dtype", o->dtype, "merged: f32 | f16 | bf16 (default bf16); gguf-lora: f32 | f16 | bf16 (default f32)");
  cmd->add_flag("--ollama", o->ollama, "gguf: also write a Modelfile for `ollama create`");
  cmd->add_option("--imatrix", o->imatrix, "gguf: importance matrix from llama-imatrix (GGUF or legacy .dat), "
                  "used as llama-quantize --imatrix uses it");
  cmd->add_option("--tokenizer", o->tokenizer, "Folder with tokenizer files, when the base has none");
  cmd->add_option("--name", o->name, "Model name (general.name, file names)");
  cmd->add_option("--max-shard-size", o->max_shard, "merged: largest safetensors shard (default 5GB)");
  cmd->add_flag("--force", o->force, "Replace the output folder if it exists");
  cmd->callback([o] { run_export(*o); });
}

}  // namespace scitune::cli
