// The README.md written into every export (a Hugging Face model card with YAML front matter) and, for
// --ollama, the Modelfile that makes the GGUF an Ollama model with Gemma's turns and stop tokens.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "export/export_base.h"

namespace scitune {

struct CardFacts {
  std::string format;                  // "gguf q4_k_m", "merged (bf16)", "peft", "gguf-lora"
  std::vector<std::string> files;      // what the export folder holds
  std::string title;
};

// Reads the training run beside the adapter (ADAPTER/../train_config.yaml and train_log.jsonl) when present:
// data, hyper-parameters, final train loss, best eval loss.
std::string model_card(const ExportBase& base, const CardFacts& facts);

// Modelfile for `ollama create NAME -f Modelfile` next to `gguf_file`: FROM, the Gemma 3 turn TEMPLATE,
// stop on <end_of_turn> and <eos>, the Gemma card's sampling defaults.
std::string ollama_modelfile(const std::string& gguf_file);

}  // namespace scitune
