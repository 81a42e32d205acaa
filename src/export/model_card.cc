#include "export/model_card.h"

#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>

namespace scitune {

namespace fs = std::filesystem;

namespace {

struct RunFacts {
  std::vector<std::pair<std::string, std::string>> hyper;  // key, value as written in the config
  std::vector<std::string> data;
  std::optional<double> last_loss, best_eval_loss;
  int64_t steps = 0;
};

RunFacts read_run(const fs::path& adapter_dir) {
  RunFacts r;
  const fs::path run = adapter_dir.parent_path();
  if (fs::exists(run / "train_config.yaml")) {
    try {
      const YAML::Node y = YAML::LoadFile((run / "train_config.yaml").string());
      for (const char* k : {"learning_rate", "lr_scheduler_type", "warmup_steps", "num_train_epochs", "max_steps",
                            "per_device_train_batch_size", "gradient_accumulation_steps", "weight_decay",
                            "max_seq_length", "optim", "r", "lora_alpha", "lora_dropout", "use_rslora", "quant", "seed"})
        if (y[k] && y[k].IsScalar()) r.hyper.emplace_back(k, y[k].as<std::string>());
      if (y["target_modules"] && y["target_modules"].IsSequence()) {
        std::string t;
        for (const auto& m : y["target_modules"]) t += (t.empty() ? "" : ", ") + m.as<std::string>();
        r.hyper.emplace_back("target_modules", t);
      }
      if (y["data"] && y["data"].IsSequence())
        for (const auto& d : y["data"]) r.data.push_back(d.as<std::string>());
      else if (y["data"] && y["data"].IsScalar()) r.data.push_back(y["data"].as<std::string>());
    } catch (const YAML::Exception&) {
      // A card without hyper-parameters is still a card.
    }
  }
  std::ifstream log(run / "train_log.jsonl");
  std::string line;
  while (std::getline(log, line)) {
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_object()) continue;
    if (j.contains("loss") && j["loss"].is_number()) {
      r.last_loss = j["loss"].get<double>();
      r.steps = j.value("step", r.steps);
    }
    if (j.contains("eval_loss") && j["eval_loss"].is_number()) {
      const double e = j["eval_loss"].get<double>();
      if (!r.best_eval_loss || e < *r.best_eval_loss) r.best_eval_loss = e;
    }
  }
  return r;
}

}  // namespace

std::string model_card(const ExportBase& base, const CardFacts& f) {
  std::ostringstream o;
  o << "---\nlicense: gemma\nbase_model: " << base.path().filename().string()
    << "\nlibrary_name: " << (f.format == "peft" ? "peft" : "transformers")
    << "\ntags:\n- gemma3\n- scitune\n" << (base.adapter() ? "- lora\n" : "") << "---\n\n";
  o << "# " << f.title << "\n\n";
  o << "Exported by scitune as **" << f.format << "**.\n\n## Base model\n\n";
  const ModelConfig& c = base.config();
  o << "- `" << base.path().string() << "` (" << (base.is_gguf() ? "GGUF" : "HF folder") << "): Gemma 3, "
    << c.num_hidden_layers << " layers, hidden size " << c.hidden_size << ", vocabulary " << c.vocab_size << "\n";
  if (const auto q = base.quantised_base_type())
    o << "- The base stores quantised weights (" << *q << "). "
      << (base.adapter() ? "The adapter was merged into their dequantised values (what QLoRA training saw), not into "
                           "an unquantised original.\n"
                         : "Tensors were dequantised and written in the export's types.\n");
  if (base.adapter()) {
    const LoraConfig& lc = base.adapter()->config();
    o << "\n## Fine-tuning\n\n- Adapter: `" << base.adapter_dir().string() << "` — LoRA r " << lc.r << ", alpha "
      << lc.alpha << (lc.use_rslora ? " (rsLoRA)" : "") << ", " << base.adapter()->modules().size() << " modules\n";
    const RunFacts run = read_run(base.adapter_dir());
    if (!run.data.empty()) {
      o << "- Data:";
      for (const auto& d : run.data) o << " `" << d << "`";
      o << "\n";
    }
    if (!run.hyper.empty()) {
      o << "\n| hyper-parameter | value |\n|---|---|\n";
      for (const auto& [k, v] : run.hyper) o << "| " << k << " | " << v << " |\n";
    }
    if (run.last_loss) {
      char buf[160];
      std::snprintf(buf, sizeof buf, "\n- Final training loss %.4f after %lld steps", *run.last_loss,
                    static_cast<long long>(run.steps));
      o << buf;
      if (run.best_eval_loss) {
        std::snprintf(buf, sizeof buf, "; best validation loss %.4f", *run.best_eval_loss);
        o << buf;
      }
      o << "\n";
    }
  }
  o << "\n## Files\n\n";
  for (const auto& file : f.files) o << "- `" << file << "`\n";
  o << "\n## Licences\n\nThe base model is Gemma, used under the Gemma Terms of Use (https://ai.google.dev/gemma/terms); "
       "derivatives carry the same terms. The licences of the training data are those of its sources: check each "
       "before you redistribute this model.\n";
  return o.str();
}

std::string ollama_modelfile(const std::string& gguf_file) {
  std::string m = "FROM ./" + gguf_file + "\n\n";
  // Gemma 3 turns; a system message goes in front of the first user turn, as the Jinja template does.
  m += R"(TEMPLATE """{{- $system := .System }}
{{- range $i, $m := .Messages }}
{{- $last := eq (len (slice $.Messages $i)) 1 }}
{{- if eq $m.Role "system" }}{{ $system = $m.Content }}
{{- else if eq $m.Role "user" }}<start_of_turn>user
{{ if $system }}{{ $system }}

{{ $system = "" }}{{ end }}{{ $m.Content }}<end_of_turn>
{{ if $last }}<start_of_turn>model
{{ end }}
{{- else if eq $m.Role "assistant" }}<start_of_turn>model
{{ $m.Content }}{{ if not $last }}<end_of_turn>
{{ end }}
{{- end }}
{{- end }}"""
)";
  m += "\nPARAMETER stop \"<end_of_turn>\"\nPARAMETER stop \"<eos>\"\nPARAMETER temperature 1\nPARAMETER top_k 64\n"
       "PARAMETER top_p 0.95\nPARAMETER num_ctx 4096\n";
  return m;
}

}  // namespace scitune
