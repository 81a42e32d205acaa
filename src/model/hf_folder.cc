#include "model/hf_folder.h"

#include <set>

#include "model/tensor_names.h"
#include "util/error.h"

namespace scitune {

namespace fs = std::filesystem;

namespace {

// Where the text decoder lives in each layout, and where that layout keeps a separate LM head.
struct Layout {
  std::string_view prefix, lm_head;
};
constexpr Layout kLayouts[] = {
    {"model.language_model.", "lm_head.weight"},                 // Gemma3ForConditionalGeneration, transformers >= 4.52
    {"language_model.model.", "language_model.lm_head.weight"},  // Gemma3ForConditionalGeneration, older layout
    {"model.", "lm_head.weight"},                                // Gemma3ForCausalLM
};

bool is_float(DType t) { return t == DType::F32 || t == DType::BF16 || t == DType::F16; }

}  // namespace

HfModelFolder HfModelFolder::open(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) fail(dir.string() + ": not a directory");
  const fs::path config_path = dir / "config.json";
  if (!fs::exists(config_path, ec)) fail(dir.string() + ": no config.json (not a Hugging Face model folder?)");
  ConfigOrigin origin;
  ModelConfig config = read_hf_config(config_path, &origin);
  GenerationDefaults generation = read_generation_config(dir / "generation_config.json", config);
  HfModelFolder f(TensorStore::open_folder(dir));
  f.dir_ = dir;
  f.config_ = std::move(config);
  f.origin_ = std::move(origin);
  f.generation_ = std::move(generation);
  f.index_tensors();
  return f;
}

void HfModelFolder::index_tensors() {
  const std::string src = dir_.string();
  const Layout* layout = nullptr;
  for (const auto& l : kLayouts)
    if (store_.contains(std::string(l.prefix) + std::string(kEmbedName))) {
      if (layout)
        fail(src + ": text decoder tensors found under both \"" + std::string(layout->prefix) + "\" and \"" +
             std::string(l.prefix) + "\"");
      layout = &l;
    }
  if (!layout)
    fail(src +
         ": no text decoder: expected \"embed_tokens.weight\" under \"model.\", \"model.language_model.\" "
         "or \"language_model.model.\"");
  prefix_ = layout->prefix;

  for (const std::string& name : store_.names()) {
    if (name == layout->lm_head) {
      lm_head_ = name;
    } else if (name.starts_with(prefix_)) {
      canonical_to_stored_.emplace(name.substr(prefix_.size()), name);
    } else {
      other_.push_back(name);
    }
  }

  const ModelConfig& c = config_;
  std::set<std::string> expected;
  const std::string implied = " (from config.json: " + std::to_string(c.num_hidden_layers) + " layers, hidden " +
                              std::to_string(c.hidden_size) + ", vocab " + std::to_string(c.vocab_size) + ")";
  auto check = [&](const std::string& stored, const std::vector<int64_t>& shape) {
    const TensorView v = store_.tensor(stored);
    if (!std::equal(v.shape().begin(), v.shape().end(), shape.begin(), shape.end()))
      fail(src + ": tensor \"" + stored + "\" has shape " + shape_to_string(v.shape()) + ", expected " +
           shape_to_string(shape) + implied);
    if (!is_float(v.dtype()))
      fail(src + ": tensor \"" + stored + "\" has dtype " + std::string(dtype_name(v.dtype())) +
           ", expected F32, BF16 or F16");
  };
  for_each_tensor(c, [&](const TensorDesc& d) {
    if (d.role == TensorRole::kLmHead) {
      if (!lm_head_)
        fail(src + ": tensor \"" + std::string(layout->lm_head) +
             "\" is missing (config.json: tie_word_embeddings is false)");
      check(*lm_head_, d.shape);
      return;
    }
    expected.insert(d.name);
    auto it = canonical_to_stored_.find(d.name);
    if (it == canonical_to_stored_.end()) fail(src + ": tensor \"" + prefix_ + d.name + "\" is missing" + implied);
    check(it->second, d.shape);
  });
  if (c.tie_word_embeddings && lm_head_) check(*lm_head_, {c.vocab_size, c.hidden_size});
  for (const auto& [canonical, stored] : canonical_to_stored_)
    if (!expected.count(canonical))
      fail(src + ": tensor \"" + stored + "\" is not part of a Gemma 3 text decoder" + implied);
}

std::optional<TensorView> HfModelFolder::find(std::string_view canonical) const {
  if (canonical == kLmHeadName) {
    if (lm_head_) return store_.find(*lm_head_);
    return config_.tie_word_embeddings ? find(kEmbedName) : std::nullopt;
  }
  auto it = canonical_to_stored_.find(std::string(canonical));
  if (it == canonical_to_stored_.end()) return std::nullopt;
  return store_.find(it->second);
}

TensorView HfModelFolder::tensor(std::string_view canonical) const {
  auto v = find(canonical);
  if (!v) fail(dir_.string() + ": no text decoder tensor \"" + std::string(canonical) + "\"");
  return *v;
}

}  // namespace scitune
