#include "export/gguf_export.h"

#include <algorithm>
#include <mutex>

#include "kernels/cpu/thread_pool.h"
#include "model/gguf_model.h"
#include "quant/quants.h"
#include "tokenizer/tokenizer.h"
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

// tokenizer.ggml.* from an HF tokenizer (tokenizer.json or tokenizer.model): pieces by id, padded to the
// embedding's rows with [PAD<id>]; types as llama.cpp's SentencePiece vocab (added special -> CONTROL,
// added -> USER_DEFINED, <0xNN> -> BYTE); scores -id for normal pieces, which orders merges exactly as the
// tokenizer's merge list does (convert_hf_to_gguf.py copies tokenizer.model's scores instead).
void add_tokenizer_keys_from_hf(GgufWriter& w, const Tokenizer& tok, const ModelConfig& c) {
  const auto& spec = tok.impl().spec;
  std::vector<int> added_kind(static_cast<size_t>(c.vocab_size), 0);  // 0 no, 1 added, 2 added special
  for (const auto& a : spec.added)
    if (a.id >= 0 && a.id < c.vocab_size) added_kind[static_cast<size_t>(a.id)] = a.special ? 2 : 1;
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<int32_t> types;
  tokens.reserve(static_cast<size_t>(c.vocab_size));
  for (int64_t id = 0; id < c.vocab_size; ++id) {
    const int32_t i = static_cast<int32_t>(id);
    if (!tok.is_valid_id(i)) {
      tokens.push_back("[PAD" + std::to_string(id) + "]");
      scores.push_back(-1000.0f);
      types.push_back(5);  // UNUSED
      continue;
    }
    const std::string& piece = tok.id_to_token(i);
    tokens.push_back(piece);
    const bool byte = piece.size() == 6 && piece.rfind("<0x", 0) == 0 && piece[5] == '>';
    if (added_kind[static_cast<size_t>(id)]) {
      scores.push_back(-1000.0f);
      types.push_back(added_kind[static_cast<size_t>(id)] == 2 ? 3 : 4);
    } else if (byte) {
      scores.push_back(0.0f);
      types.push_back(6);
    } else {
      scores.push_back(-static_cast<float>(id));
      types.push_back(1);
    }
  }
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
  w.add("tokenizer.ggml.add_eos_token", GgufValue::boolean(false));
  w.add("tokenizer.ggml.add_space_prefix", GgufValue::boolean(false));
  if (!spec.chat_template.empty()) w.add("tokenizer.chat_template", GgufValue::str(spec.chat_template));
}

fs::path hf_tokenizer_path(const ExportBase& base, const GgufExportOptions& o) {
  if (o.tokenizer) return *o.tokenizer;
  for (const char* f : {"tokenizer.json", "tokenizer.model"})
    if (fs::exists(base.path() / f)) return base.path();
  fail(base.path().string() + ": no tokenizer.json or tokenizer.model in the model folder; a GGUF needs the "
       "vocabulary: pass --tokenizer DIR");
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
    const Tokenizer tok = Tokenizer::load(hf_tokenizer_path(base, o));
    add_tokenizer_keys_from_hf(w, tok, c);
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
  plan_gguf_types(o.type, plan.tensors);
  bool any_quantised = false;
  for (const auto& t : plan.tensors) {
    any_quantised |= ggml_info(t.type).quantized;
    plan.fallbacks += t.fell_back;
  }
  if (any_quantised) w.add("general.quantization_version", GgufValue::u32(2));
  w.add("general.file_type", GgufValue::u32(o.type.ftype));

  auto done = std::make_shared<uint64_t>(0);
  for (const GgufTensorPlan& t : plan.tensors) {
    const TensorDesc d = by_name.at(t.name);
    const GgmlType type = t.type;
    w.add_tensor(t.name, type, t.ne, [&base, d, type, done, progress](GgufTensorSink& sink) {
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
            quantize_row(type, x.data() + r * cols, q.data() + static_cast<size_t>(r) * row_bytes, cols);
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
