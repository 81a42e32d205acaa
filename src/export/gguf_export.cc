#include "export/gguf_export.h"

#include <algorithm>
#include <mutex>
#include <unordered_map>

#include "kernels/cpu/thread_pool.h"
#include "model/gguf_model.h"
#include "quant/quants.h"
#include "quant/quants_imatrix.h"
#include "tokenizer/sentencepiece_model.h"
#include "tokenizer/tokenizer.h"
#include "util/mapped_file.h"
#include "tokenizer/tokenizer_impl.h"
#include "util/error.h"

namespace scitune {

namespace fs = std::filesystem;

const char* const kGemma3ChatTemplate =
    "{{ bos_token }}{% set ns = namespace(prefix='') %}"
    "{% for m in messages %}"
    "{% if m['role'] == 'system' %}{% set ns.prefix = m['content'] | trim + '\n\n' %}"
    "{% else %}{{ '<start_of_turn>' + ('model' if m['role'] == 'assistant' else m['role']) + '\n' + ns.prefix + "
    "m['content'] | trim + '<end_of_turn>\n' }}{% set ns.prefix = '' %}{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<start_of_turn>model\n' }}{% endif %}";

void check_llama_cpp_gemma3(const ModelConfig& c, const std::string& source) {
  auto no = [&](const std::string& what) {
    fail(source + ": " + what + "; llama.cpp's gemma3 graph hard-codes this, so a GGUF of this model would compute "
                                "something else (export it as --format merged instead)");
  };
  if (c.layer_types != ModelConfig::pattern_layer_types(c.num_hidden_layers, 6))
    no("layer_types is not the 5 sliding + 1 global pattern");
  if (c.sliding_window <= 0) no("sliding_window is not set");
  if (c.rope_local_base_freq != 10000.0) no("rope_local_base_freq is " + std::to_string(c.rope_local_base_freq) + ", not 10000");
  if (c.query_pre_attn_scalar != static_cast<double>(c.head_dim))
    no("query_pre_attn_scalar (" + std::to_string(c.query_pre_attn_scalar) + ") is not head_dim");
  if (c.attn_logit_softcapping != 0) no("attn_logit_softcapping is set");
}

namespace {

void add_arch_keys(GgufWriter& w, const ModelConfig& c) {
  auto u32 = [](int64_t v) { return GgufValue::u32(static_cast<uint32_t>(v)); };
  w.add("gemma3.context_length", u32(c.max_position_embeddings));
  w.add("gemma3.embedding_length", u32(c.hidden_size));
  w.add("gemma3.block_count", u32(c.num_hidden_layers));
  w.add("gemma3.feed_forward_length", u32(c.intermediate_size));
  w.add("gemma3.attention.head_count", u32(c.num_attention_heads));
  w.add("gemma3.attention.head_count_kv", u32(c.num_key_value_heads));
  w.add("gemma3.attention.key_length", u32(c.head_dim));
  w.add("gemma3.attention.value_length", u32(c.head_dim));
  w.add("gemma3.attention.layer_norm_rms_epsilon", GgufValue::f32(static_cast<float>(c.rms_norm_eps)));
  w.add("gemma3.attention.sliding_window", u32(c.sliding_window));
  w.add("gemma3.rope.freq_base", GgufValue::f32(static_cast<float>(c.rope_theta)));
  w.add("gemma3.rope.freq_base_swa", GgufValue::f32(static_cast<float>(c.rope_local_base_freq)));
  if (c.rope_scaling_factor != 1.0) {
    w.add("gemma3.rope.scaling.type", GgufValue::str("linear"));
    w.add("gemma3.rope.scaling.factor", GgufValue::f32(static_cast<float>(c.rope_scaling_factor)));
  }
  if (c.final_logit_softcapping != 0)
    w.add("gemma3.final_logit_softcapping", GgufValue::f32(static_cast<float>(c.final_logit_softcapping)));
}

// tokenizer.ggml.* from an HF tokenizer folder, as convert_hf_to_gguf.py builds them for Gemma: pieces by id
// with their SentencePiece scores and types (from tokenizer.model when the folder has one; from tokenizer.json
// otherwise, where a piece's score is minus the rank of the first merge that makes it, which gives llama.cpp's
// highest-score-first merging exactly the merge order of tokenizer.json), then every added token overlaid as the
// converter does it (special, or <pad>/<mask>/<unused..>/<|..|> -> CONTROL; else USER_DEFINED with '▁' written as
// ' '; score -1000), and ids without a piece up to the embedding's rows as UNUSED "[PAD<id>]".
}  // namespace

void add_tokenizer_keys_from_hf(GgufWriter& w, const Tokenizer& tok, const fs::path& dir, const ModelConfig& c) {
  const auto& spec = tok.impl().spec;
  const size_t V = static_cast<size_t>(c.vocab_size);
  std::vector<std::string> tokens(V);
  std::vector<float> scores(V, -1000.0f);
  std::vector<int32_t> types(V, 5);  // UNUSED
  std::vector<bool> have(V, false);
  if (fs::exists(dir / "tokenizer.model")) {
    const MappedFile f(dir / "tokenizer.model");
    const SentencePieceModel sp = parse_sentencepiece_model(f.bytes(), (dir / "tokenizer.model").string());
    for (size_t i = 0; i < sp.pieces.size() && i < V; ++i) {
      tokens[i] = sp.pieces[i].piece;
      scores[i] = sp.pieces[i].score;
      types[i] = sp.pieces[i].type;
      have[i] = true;
    }
  } else {
    std::unordered_map<std::string, int32_t> id_of;
    for (size_t i = 0; i < spec.pieces.size(); ++i) id_of.emplace(spec.pieces[i], static_cast<int32_t>(i));
    std::vector<int64_t> rank(spec.pieces.size(), -1);
    for (size_t r = 0; r < spec.merges.size(); ++r) {
      const auto [a, b] = spec.merges[r];
      const auto it = id_of.find(spec.pieces[static_cast<size_t>(a)] + spec.pieces[static_cast<size_t>(b)]);
      if (it != id_of.end() && rank[static_cast<size_t>(it->second)] < 0) rank[static_cast<size_t>(it->second)] = static_cast<int64_t>(r);
    }
    const int64_t n_merges = static_cast<int64_t>(spec.merges.size());
    for (size_t i = 0; i < spec.pieces.size() && i < V; ++i) {
      const std::string& p = spec.pieces[i];
      const bool byte = p.size() == 6 && p.rfind("<0x", 0) == 0 && p[5] == '>';
      tokens[i] = p;
      types[i] = byte ? 6 : 1;
      scores[i] = byte ? 0.0f : -static_cast<float>(rank[i] >= 0 ? rank[i] : n_merges + static_cast<int64_t>(i));
      have[i] = true;
    }
  }
  for (const auto& a : spec.added) {
    if (a.id < 0 || static_cast<size_t>(a.id) >= V) continue;
    const std::string& t = a.content;
    const bool looks_special = t == "<pad>" || t == "<mask>" || (t.rfind("<unused", 0) == 0 && t.size() > 7 && t.back() == '>') ||
                               (t.rfind("<|", 0) == 0 && t.size() >= 4 && t.compare(t.size() - 2, 2, "|>") == 0);
    const size_t i = static_cast<size_t>(a.id);
    if (a.special || looks_special) {
      tokens[i] = t;
      types[i] = 3;  // CONTROL
    } else {
      std::string pre;  // pre-normalised: llama.cpp matches user-defined tokens in raw text
      for (size_t k = 0; k < t.size();) {
        if (t.compare(k, 3, "\xe2\x96\x81") == 0) pre += ' ', k += 3;
        else pre += t[k++];
      }
      tokens[i] = pre;
      types[i] = 4;  // USER_DEFINED
    }
    scores[i] = -1000.0f;
    have[i] = true;
  }
  for (size_t i = 0; i < V; ++i)
    if (!have[i]) tokens[i] = "[PAD" + std::to_string(i) + "]";
  w.add("tokenizer.ggml.model", GgufValue::str("llama"));
  w.add("tokenizer.ggml.pre", GgufValue::str("default"));
  w.add("tokenizer.ggml.tokens", GgufValue::array(std::move(tokens)));
  w.add("tokenizer.ggml.scores", GgufValue::array(std::move(scores)));
  w.add("tokenizer.ggml.token_type", GgufValue::array(std::move(types)));
  auto id_key = [&](const char* key, std::optional<int64_t> v) {
    if (v) w.add(key, GgufValue::u32(static_cast<uint32_t>(*v)));
  };
  id_key("tokenizer.ggml.bos_token_id", spec.bos_id ? std::optional<int64_t>(*spec.bos_id) : c.bos_token_id);
  id_key("tokenizer.ggml.eos_token_id",
         spec.eos_id ? std::optional<int64_t>(*spec.eos_id)
                     : (c.eos_token_ids.empty() ? std::nullopt : std::optional<int64_t>(c.eos_token_ids[0])));
  if (spec.unk_id) id_key("tokenizer.ggml.unknown_token_id", *spec.unk_id);
  id_key("tokenizer.ggml.padding_token_id", spec.pad_id ? std::optional<int64_t>(*spec.pad_id) : c.pad_token_id);
  w.add("tokenizer.ggml.add_bos_token", GgufValue::boolean(true));
  w.add("tokenizer.ggml.add_sep_token", GgufValue::boolean(false));
  w.add("tokenizer.ggml.add_eos_token", GgufValue::boolean(false));
  w.add("tokenizer.ggml.add_space_prefix", GgufValue::boolean(false));
  if (!spec.chat_template.empty()) w.add("tokenizer.chat_template", GgufValue::str(spec.chat_template));
}

namespace {

fs::path hf_tokenizer_path(const ExportBase& base, const GgufExportOptions& o) {
  if (o.tokenizer) return *o.tokenizer;
  for (const char* f : {"tokenizer.json", "tokenizer.model"})
    if (fs::exists(base.path() / f)) return base.path();
  fail(base.path().string() + ": no tokenizer.json or tokenizer.model in the model folder; a GGUF needs the "
       "vocabulary: pass --tokenizer DIR");
}

// llama-quantize's --imatrix keys (tools/quantize/quantize.cpp, set as KV overrides after general.file_type).
// Its override buffers hold 127 bytes of a string, so longer paths and dataset names are cut there.
void add_imatrix_keys(GgufWriter& w, const ImportanceMatrix& im) {
  w.add("quantize.imatrix.file", GgufValue::str(im.source.substr(0, 127)));
  if (!im.datasets.empty()) w.add("quantize.imatrix.dataset", GgufValue::str(im.datasets[0].substr(0, 127)));
  w.add("quantize.imatrix.entries_count", GgufValue::u32(static_cast<uint32_t>(im.entries.size())));
  if (im.chunk_count > 0) w.add("quantize.imatrix.chunks_count", GgufValue::u32(im.chunk_count));
}

// The importance vector llama-quantize hands to ggml_quantize_chunk for a tensor it converts: the entry of the
// same name, which must have one value per column (ne[0] x experts); a size mismatch is fatal there except for
// token_embd.weight, which is then quantised without. No entry: none.
const std::vector<float>* importance_for(const ImportanceMatrix& im, const GgufTensorPlan& t) {
  const std::vector<float>* v = im.find(t.name);
  if (!v || t.type == GgmlType::F32) return nullptr;
  uint64_t want = t.ne[0];
  for (size_t i = 2; i < t.ne.size(); ++i) want *= t.ne[i];
  if (v->size() == want) return v;
  if (t.name == "token_embd.weight") return nullptr;
  fail(im.source + ": tensor \"" + t.name + "\" has " + std::to_string(v->size()) + " importance values but " +
       std::to_string(want) + " columns; the imatrix was made for another model");
}

}  // namespace

GgufExportPlan plan_gguf_export(const ExportBase& base, const GgufExportOptions& o,
                                std::function<void(uint64_t)> progress) {
  const ModelConfig& c = base.config();
  check_llama_cpp_gemma3(c, base.path().string());
  GgufExportPlan plan;
  GgufWriter& w = plan.writer;
  w.add("general.architecture", GgufValue::str("gemma3"));
  w.add("general.type", GgufValue::str("model"));
  std::string name = o.name;
  if (name.empty() && base.gguf())
    if (const auto n = base.gguf()->get_optional<std::string>("general.name")) name = *n;
  if (name.empty()) name = base.path().filename().string();
  w.add("general.name", GgufValue::str(name));
  if (const GgufFile* g = base.gguf())  // the base's other general.* facts (licence, tags, ...) carry over
    for (const auto& [k, v] : g->metadata())
      if (k.rfind("general.", 0) == 0 && !w.find(k) && k != "general.file_type" && k != "general.quantization_version" &&
          k != "general.alignment")
        w.add(k, v);
  add_arch_keys(w, c);

  if (const GgufFile* g = base.gguf()) {
    for (const auto& [k, v] : g->metadata())
      if (k.rfind("tokenizer.", 0) == 0) w.add(k, v);
  } else {
    const fs::path tdir = hf_tokenizer_path(base, o);
    const Tokenizer tok = Tokenizer::load(tdir);
    add_tokenizer_keys_from_hf(w, tok, fs::is_directory(tdir) ? tdir : tdir.parent_path(), c);
  }
  const auto* tokens = w.find("tokenizer.ggml.tokens");
  const auto* token_list = tokens ? tokens->get_if<GgufArray>() : nullptr;
  if (!token_list || token_list->size() != static_cast<size_t>(c.vocab_size))
    fail(base.path().string() + ": the vocabulary does not have one token per embedding row (" +
         std::to_string(c.vocab_size) + ")");
  if (!w.find("tokenizer.chat_template")) w.add("tokenizer.chat_template", GgufValue::str(kGemma3ChatTemplate));

  // Tensors in llama.cpp's order, types planned as llama-quantize would.
  std::vector<TensorDesc> descs;
  for (const TensorDesc& d : text_tensors(c)) descs.push_back(d);
  std::map<std::string, TensorDesc> by_name;
  for (const TensorDesc& d : descs) {
    const std::string gname = d.role == TensorRole::kLmHead ? "output.weight" : *gguf_tensor_name(d.name);
    by_name.emplace(gname, d);
    plan.tensors.push_back({gname, std::vector<uint64_t>(d.shape.rbegin(), d.shape.rend()), GgmlType::F32, false});
  }
  std::stable_sort(plan.tensors.begin(), plan.tensors.end(),
                   [](const GgufTensorPlan& a, const GgufTensorPlan& b) { return llama_tensor_order_less(a.name, b.name); });
  plan_gguf_types(o.type, plan.tensors, o.imatrix != nullptr);
  bool any_quantised = false;
  for (const auto& t : plan.tensors) {
    any_quantised |= ggml_info(t.type).quantized;
    plan.fallbacks += t.fell_back;
  }
  if (any_quantised) w.add("general.quantization_version", GgufValue::u32(2));
  w.add("general.file_type", GgufValue::u32(o.type.ftype));
  if (o.imatrix) add_imatrix_keys(w, *o.imatrix);

  auto done = std::make_shared<uint64_t>(0);
  for (const GgufTensorPlan& t : plan.tensors) {
    const TensorDesc d = by_name.at(t.name);
    const GgmlType type = t.type;
    const std::vector<float>* importance = o.imatrix ? importance_for(*o.imatrix, t) : nullptr;
    plan.imatrix_tensors += importance && quant_uses_importance(type);
    // `keep` holds the imatrix that `importance` points into until the file is written.
    w.add_tensor(t.name, type, t.ne, [&base, d, type, done, progress, keep = o.imatrix,
                                      importance](GgufTensorSink& sink) {
      const int64_t cols = row_length(d), rows = row_count(d);
      const size_t row_bytes = ggml_row_size(type, static_cast<uint64_t>(cols));
      const int64_t band = std::max<int64_t>(1, (int64_t{1} << 22) / cols);  // ~16 MiB of fp32 per band
      std::vector<float> x(static_cast<size_t>(std::min(band, rows) * cols));
      std::vector<uint8_t> q(static_cast<size_t>(std::min(band, rows)) * row_bytes);
      for (int64_t r0 = 0; r0 < rows; r0 += band) {
        const int64_t n = std::min(band, rows - r0);
        base.read_rows(d, r0, n, std::span<float>(x.data(), static_cast<size_t>(n * cols)), true);
        ThreadPool::global().parallel_for(n, [&](int64_t a, int64_t b) {
          for (int64_t r = a; r < b; ++r)
            quantize_row_weighted(type, x.data() + r * cols, q.data() + static_cast<size_t>(r) * row_bytes, cols,
                                  importance ? importance->data() : nullptr);
        });
        sink.write(std::span<const uint8_t>(q.data(), static_cast<size_t>(n) * row_bytes));
        *done += static_cast<uint64_t>(n) * row_bytes;
        if (progress) progress(*done);
      }
    });
  }
  for (const auto& t : w.layout()) plan.file_bytes = std::max(plan.file_bytes, t.offset + t.nbytes);
  return plan;
}

}  // namespace scitune
