#include "tokenizer/hf_json_loader.h"

#include <unordered_map>

#include "io/json_limits.h"
#include "tokenizer/json_dom.h"
#include "tokenizer/piece_index.h"
#include "util/error.h"
#include "util/mapped_file.h"

namespace scitune {

using json = nlohmann::json;

namespace {

std::string where(const std::string& source, const std::string& field) { return source + ": " + field; }

// A token for a message: JSON-quoted, so that "\n" or control characters stay on one line.
std::string token_quoted(const std::string& s) { return json(s).dump(-1, ' ', false, json::error_handler_t::replace); }

// `{"String": "x"}` patterns only: HF's Regex patterns would need a regex engine identical to Rust's `regex`.
std::string string_pattern(const json& v, const std::string& at) {
  const json& obj = json_object(v, at);
  if (const json* s = json_find(obj, "String")) return json_string(*s, at + ".String");
  fail(at + ": only {\"String\": ...} patterns are supported (found " + v.dump() + ")");
}

const std::string& type_of(const json& v, const std::string& at) {
  const json* t = json_find(json_object(v, at), "type");
  if (!t) fail(at + ": missing \"type\"");
  return json_string(*t, at + ".type");
}

void read_normalizer(const json& v, const std::string& at, std::vector<NormalizerStep>& out) {
  if (v.is_null()) return;
  const std::string& type = type_of(v, at);
  if (type == "Sequence") {
    const json* list = json_find(v, "normalizers");
    if (!list) fail(at + ": Sequence without \"normalizers\"");
    size_t i = 0;
    for (const json& n : json_array(*list, at + ".normalizers"))
      read_normalizer(n, at + ".normalizers[" + std::to_string(i++) + "]", out);
  } else if (type == "Replace") {
    NormalizerStep s;
    s.kind = NormalizerStep::Kind::kReplace;
    const json* p = json_find(v, "pattern");
    const json* c = json_find(v, "content");
    if (!p || !c) fail(at + ": Replace needs \"pattern\" and \"content\"");
    s.pattern = string_pattern(*p, at + ".pattern");
    if (s.pattern.empty()) fail(at + ".pattern: empty pattern");
    s.content = json_string(*c, at + ".content");
    out.push_back(std::move(s));
  } else if (type == "Prepend") {
    const json* p = json_find(v, "prepend");
    if (!p) fail(at + ": Prepend without \"prepend\"");
    out.push_back({NormalizerStep::Kind::kPrepend, "", json_string(*p, at + ".prepend")});
  } else {
    fail(at + ": normalizer type \"" + type + "\" is not supported (Replace, Prepend, Sequence)");
  }
}

void read_pre_tokenizer(const json& v, const std::string& at, TokenizerSpec& spec) {
  if (v.is_null()) return;
  const std::string& type = type_of(v, at);
  if (type == "Sequence") {
    const json* list = json_find(v, "pretokenizers");
    if (!list) fail(at + ": Sequence without \"pretokenizers\"");
    const json& arr = json_array(*list, at + ".pretokenizers");
    if (arr.size() > 1) fail(at + ": a Sequence of more than one pre-tokenizer is not supported");
    if (arr.size() == 1) read_pre_tokenizer(arr[0], at + ".pretokenizers[0]", spec);
    return;
  }
  if (type != "Split") fail(at + ": pre-tokenizer type \"" + type + "\" is not supported (Split)");
  const json* p = json_find(v, "pattern");
  const json* b = json_find(v, "behavior");
  if (!p || !b) fail(at + ": Split needs \"pattern\" and \"behavior\"");
  std::string pattern = string_pattern(*p, at + ".pattern");
  if (pattern.empty()) fail(at + ".pattern: empty pattern");
  if (json_string(*b, at + ".behavior") != "MergedWithPrevious")
    fail(at + ".behavior: only \"MergedWithPrevious\" is supported (found \"" + b->get<std::string>() + "\")");
  if (const json* inv = json_find(v, "invert"); inv && json_bool(*inv, at + ".invert"))
    fail(at + ".invert: inverted Split is not supported");
  spec.split_merged_with_previous = std::move(pattern);
}

void read_decoder(const json& v, const std::string& at, std::vector<DecoderStep>& out) {
  if (v.is_null()) return;
  const std::string& type = type_of(v, at);
  DecoderStep s;
  if (type == "Sequence") {
    const json* list = json_find(v, "decoders");
    if (!list) fail(at + ": Sequence without \"decoders\"");
    size_t i = 0;
    for (const json& d : json_array(*list, at + ".decoders"))
      read_decoder(d, at + ".decoders[" + std::to_string(i++) + "]", out);
    return;
  } else if (type == "Replace") {
    const json* p = json_find(v, "pattern");
    const json* c = json_find(v, "content");
    if (!p || !c) fail(at + ": Replace needs \"pattern\" and \"content\"");
    s.kind = DecoderStep::Kind::kReplace;
    s.pattern = string_pattern(*p, at + ".pattern");
    if (s.pattern.empty()) fail(at + ".pattern: empty pattern");
    s.content = json_string(*c, at + ".content");
  } else if (type == "ByteFallback") {
    s.kind = DecoderStep::Kind::kByteFallback;
  } else if (type == "Fuse") {
    s.kind = DecoderStep::Kind::kFuse;
  } else if (type == "Strip") {
    s.kind = DecoderStep::Kind::kStrip;
    const json* c = json_find(v, "content");
    if (!c) fail(at + ": Strip without \"content\"");
    s.content = json_string(*c, at + ".content");
    if (s.content.empty()) fail(at + ".content: empty");
    const json* st = json_find(v, "start");
    const json* sp = json_find(v, "stop");
    s.start = st ? int(json_uint(*st, at + ".start")) : 0;
    s.stop = sp ? int(json_uint(*sp, at + ".stop")) : 0;
  } else {
    fail(at + ": decoder type \"" + type + "\" is not supported (Replace, ByteFallback, Fuse, Strip, Sequence)");
  }
  out.push_back(std::move(s));
}

void read_post_processor(const json& v, const std::string& at, TokenizerSpec& spec) {
  if (v.is_null()) return;
  if (type_of(v, at) != "TemplateProcessing")
    fail(at + ": post-processor type \"" + type_of(v, at) + "\" is not supported (TemplateProcessing)");
  std::unordered_map<std::string, std::vector<int32_t>> special;
  if (const json* sp = json_find(v, "special_tokens")) {
    for (const auto& [name, tok] : json_object(*sp, at + ".special_tokens").items()) {
      const std::string t_at = at + ".special_tokens." + name;
      const json* list = json_find(json_object(tok, t_at), "ids");
      if (!list) fail(t_at + ": missing \"ids\"");
      std::vector<int32_t> tok_ids;
      for (const json& id : json_array(*list, t_at + ".ids")) tok_ids.push_back(int32_t(json_uint(id, t_at + ".ids")));
      special[name] = std::move(tok_ids);
    }
  }
  const json* single = json_find(v, "single");
  if (!single) fail(at + ": TemplateProcessing without \"single\"");
  bool seen_sequence = false;
  size_t i = 0;
  for (const json& piece : json_array(*single, at + ".single")) {
    const std::string p_at = at + ".single[" + std::to_string(i++) + "]";
    if (json_find(json_object(piece, p_at), "Sequence")) {
      if (seen_sequence) fail(p_at + ": more than one Sequence");
      seen_sequence = true;
    } else if (const json* s = json_find(piece, "SpecialToken")) {
      const json* name = json_find(json_object(*s, p_at + ".SpecialToken"), "id");
      if (!name) fail(p_at + ".SpecialToken: missing \"id\"");
      const std::string& n = json_string(*name, p_at + ".SpecialToken.id");
      auto it = special.find(n);
      if (it == special.end()) fail(p_at + ": special token \"" + n + "\" is not in special_tokens");
      auto& dst = seen_sequence ? spec.suffix_ids : spec.prefix_ids;
      dst.insert(dst.end(), it->second.begin(), it->second.end());
    } else {
      fail(p_at + ": expected {\"Sequence\": ...} or {\"SpecialToken\": ...}");
    }
  }
  if (!seen_sequence) fail(at + ".single: no Sequence");
}

namespace dom = simdjson::dom;

std::string_view dom_string(dom::element v, const std::string& at) {
  std::string_view s;
  if (v.get_string().get(s) != simdjson::SUCCESS) fail(at + ": expected a string");
  return s;
}

bool dom_bool(dom::element v, const std::string& at) {
  bool b = false;
  if (v.get_bool().get(b) != simdjson::SUCCESS) fail(at + ": expected true or false");
  return b;
}

// A JSON number without fraction or exponent that fits int64.
int64_t dom_integer(dom::element v, const std::string& at) {
  if (v.is_int64()) return v.get_int64().value_unsafe();
  if (v.is_uint64()) fail(at + ": integer out of range");
  fail(at + ": expected an integer");
}

dom::object dom_object(dom::element v, const std::string& at) {
  dom::object o;
  if (v.get_object().get(o) != simdjson::SUCCESS) fail(at + ": expected an object");
  return o;
}

dom::array dom_array(dom::element v, const std::string& at) {
  dom::array a;
  if (v.get_array().get(a) != simdjson::SUCCESS) fail(at + ": expected an array");
  return a;
}

// Reads "model": the vocabulary straight into spec.pieces and the merges into id pairs. The merge strings
// are views into the parser's DOM, which outlives this call.
void read_model(dom::element model, TokenizerSpec& spec, tok::PieceIndex& vocab) {
  const std::string& src = spec.source;
  std::string type, unk_token;
  bool have_unk = false, have_vocab = false, have_merges = false, ignore_merges = false;
  std::vector<std::pair<std::string_view, std::string_view>> merge_text;
  const dom::object obj = dom_object(model, where(src, "model"));
  tok::check_unique_keys(obj, where(src, "model"));
  for (auto [key, v] : obj) {
    const std::string k(key);
    const std::string at = "model." + k;
    const std::string w = where(src, at);
    if (k == "vocab") {
      have_vocab = true;
      const dom::object entries_obj = dom_object(v, w);
      std::vector<std::pair<std::string_view, int32_t>> entries;
      entries.reserve(entries_obj.size());
      for (auto [piece, idv] : entries_obj) {
        if (!idv.is_int64()) dom_integer(idv, w + "." + std::string(piece));  // fails, naming the piece
        const int64_t id = idv.get_int64().value_unsafe();
        if (id < 0 || id > INT32_MAX) fail(w + ": id " + std::to_string(id) + " out of range");
        entries.emplace_back(piece, int32_t(id));
      }
      spec.pieces.assign(entries.size(), std::string());
      std::vector<char> seen(entries.size(), 0);
      for (auto& [piece, id] : entries) {
        if (size_t(id) >= entries.size())
          fail(w + ": ids must be 0.." + std::to_string(entries.size() - 1) + " without gaps; \"" + std::string(piece) +
               "\" has id " + std::to_string(id));
        if (seen[id]) fail(w + ": id " + std::to_string(id) + " used twice");
        seen[id] = 1;
        spec.pieces[id] = std::string(piece);
      }
      vocab = tok::PieceIndex(&spec.pieces);
      if (auto dup = vocab.first_duplicate()) fail(w + ": piece \"" + spec.pieces[*dup] + "\" appears twice");
    } else if (k == "merges") {
      have_merges = true;
      const dom::array merges = dom_array(v, w);
      merge_text.reserve(merges.size());
      size_t i = 0;
      for (dom::element m : merges) {
        auto m_at = [&] { return w + "[" + std::to_string(i) + "]"; };  // built only for an error
        std::string_view a, b;
        if (m.is_array()) {  // ["a", "b"] (tokenizers >= 0.20)
          const dom::array pair = m.get_array().value_unsafe();
          if (pair.size() == 0) fail(m_at() + ": empty merge");
          if (pair.size() == 1) fail(m_at() + ": merge needs two pieces");
          if (pair.size() > 2) fail(m_at() + ": merge has more than two pieces");
          auto it = pair.begin();
          if ((*it).get_string().get(a) != simdjson::SUCCESS) fail(m_at() + ": expected a string");
          ++it;
          if ((*it).get_string().get(b) != simdjson::SUCCESS) fail(m_at() + ": expected a string");
        } else {  // "a b" (older files): exactly one space
          std::string_view s;
          if (m.get_string().get(s) != simdjson::SUCCESS) fail(m_at() + ": expected a string or a pair of strings");
          const size_t sp = s.find(' ');
          if (sp == std::string_view::npos || s.find(' ', sp + 1) != std::string_view::npos)
            fail(m_at() + ": merge \"" + std::string(s) + "\" is not two pieces separated by one space");
          a = s.substr(0, sp);
          b = s.substr(sp + 1);
        }
        merge_text.emplace_back(a, b);
        ++i;
      }
    } else if (k == "type") {
      type = dom_string(v, w);
    } else if (k == "unk_token") {
      if (!v.is_null()) {
        unk_token = dom_string(v, w);
        have_unk = true;
      }
    } else if (k == "fuse_unk" || k == "byte_fallback" || k == "ignore_merges") {
      const bool b = !v.is_null() && dom_bool(v, w);
      (k == "fuse_unk" ? spec.fuse_unk : k == "byte_fallback" ? spec.byte_fallback : ignore_merges) = b;
    } else if (k == "dropout") {
      if (!v.is_null()) {
        if (!v.is_number()) fail(w + ": expected a number");
        if (v.get_double().value_unsafe() != 0.0) fail(w + ": BPE dropout is random and not supported");
      }
    } else if (k == "continuing_subword_prefix" || k == "end_of_word_suffix") {
      if (!v.is_null() && !dom_string(v, w).empty()) fail(w + ": not supported (must be null)");
    }
  }
  if (type != "BPE") fail(where(src, "model.type") + ": expected \"BPE\", found \"" + type + "\"");
  if (!have_vocab) fail(where(src, "model") + ": missing \"vocab\"");
  if (!have_merges) fail(where(src, "model") + ": missing \"merges\"");
  if (ignore_merges) fail(where(src, "model.ignore_merges") + ": true is not supported");
  if (have_unk) {
    auto id = vocab.find(unk_token);
    if (!id) fail(where(src, "model.unk_token") + ": \"" + unk_token + "\" is not in the vocabulary");
    spec.unk_id = id;
  }
  spec.merges.reserve(merge_text.size());
  std::string joined;
  for (size_t i = 0; i < merge_text.size(); ++i) {
    const auto& [a, b] = merge_text[i];
    const auto ia = vocab.find(a);
    const auto ib = vocab.find(b);
    if (!ia || !ib) {
      const std::string at = "model.merges[" + std::to_string(i) + "]";
      fail(where(src, at) + ": \"" + std::string(!ia ? a : b) + "\" is not in the vocabulary");
    }
    joined.assign(a);
    joined.append(b);
    if (!vocab.find(joined))
      fail(where(src, "model.merges[" + std::to_string(i) + "]") + ": the merge result \"" + joined +
           "\" is not in the vocabulary");
    spec.merges.emplace_back(*ia, *ib);
  }
}

// "added_tokens": [{"id", "content", "single_word", "lstrip", "rstrip", "normalized", "special"}].
void read_added_tokens(dom::element list, TokenizerSpec& spec) {
  size_t i = 0;
  for (dom::element t : dom_array(list, where(spec.source, "added_tokens"))) {
    const std::string at = where(spec.source, "added_tokens[" + std::to_string(i++) + "]");
    const dom::object obj = dom_object(t, at);
    tok::check_unique_keys(obj, at);
    AddedTokenSpec a;
    bool have_id = false, have_content = false;
    for (auto [key, v] : obj) {
      const std::string k(key);
      if (k == "id") {
        const int64_t id = dom_integer(v, at + ".id");
        if (id < 0 || id > INT32_MAX) fail(at + ".id: out of range");
        a.id = int32_t(id);
        have_id = true;
      } else if (k == "content") {
        a.content = std::string(dom_string(v, at + ".content"));
        if (a.content.empty()) fail(at + ".content: empty");
        have_content = true;
      } else if (k == "special" || k == "normalized") {
        (k == "special" ? a.special : a.normalized) = dom_bool(v, at + "." + k);
      } else if (k == "lstrip" || k == "rstrip" || k == "single_word") {
        if (dom_bool(v, at + "." + k)) fail(at + ": \"" + k + "\": true is not supported");
      }
    }
    if (!have_id || !have_content) fail(at + ": needs \"id\" and \"content\"");
    spec.added.push_back(std::move(a));
  }
}

}  // namespace

TokenizerSpec parse_tokenizer_json(std::string_view text, const std::string& source) {
  TokenizerSpec spec;
  spec.source = source;
  dom::parser parser;
  const dom::element root = tok::parse_json(parser, text, source);
  if (!root.is_object()) fail(source + ": expected '{' (the file must be a JSON object)");
  const dom::object top = root.get_object().value_unsafe();
  tok::check_unique_keys(top, source);
  tok::PieceIndex vocab;
  json normalizer, pre_tokenizer, post_processor, decoder;
  bool have_model = false;
  for (auto [key, v] : top) {
    if (key == "model") {
      have_model = true;
      read_model(v, spec, vocab);
    } else if (key == "added_tokens") {
      read_added_tokens(v, spec);
    } else if (key == "normalizer") {
      normalizer = tok::to_nlohmann(v, where(source, "normalizer"));
    } else if (key == "pre_tokenizer") {
      pre_tokenizer = tok::to_nlohmann(v, where(source, "pre_tokenizer"));
    } else if (key == "post_processor") {
      post_processor = tok::to_nlohmann(v, where(source, "post_processor"));
    } else if (key == "decoder") {
      decoder = tok::to_nlohmann(v, where(source, "decoder"));
    }  // version, truncation, padding: see the header
  }
  if (!have_model) fail(source + ": missing \"model\"");
  for (const AddedTokenSpec& a : spec.added) {
    const auto id = vocab.find(a.content);
    // HF gives an added token that is also a piece the piece's id; the file must agree.
    if (id && *id != a.id)
      fail(source + ": added token " + token_quoted(a.content) + " has id " + std::to_string(a.id) +
           " but the vocabulary gives it id " + std::to_string(*id));
    if (!id && size_t(a.id) < spec.pieces.size())
      fail(source + ": added token " + token_quoted(a.content) + " has id " + std::to_string(a.id) +
           ", which belongs to vocabulary piece " + token_quoted(spec.pieces[a.id]));
  }
  read_normalizer(normalizer, source + ": normalizer", spec.normalizer);
  read_pre_tokenizer(pre_tokenizer, source + ": pre_tokenizer", spec);
  read_post_processor(post_processor, source + ": post_processor", spec);
  read_decoder(decoder, source + ": decoder", spec.decoder);
  return spec;
}

namespace {

// A special-token entry in tokenizer_config.json / special_tokens_map.json: "x" or {"content": "x", ...}.
std::optional<std::string> token_name(const json& cfg, const char* key, const std::string& src) {
  const json* v = json_find(cfg, key);
  if (!v) return std::nullopt;
  if (v->is_string()) return v->get<std::string>();
  const json* c = json_find(json_object(*v, src + ": \"" + key + "\""), "content");
  if (!c) fail(src + ": \"" + key + "\": expected a string or an object with \"content\"");
  return json_string(*c, src + ": \"" + key + ".content\"");
}

std::optional<int32_t> find_token(const TokenizerSpec& spec, const std::string& name) {
  for (const AddedTokenSpec& a : spec.added)
    if (a.content == name) return a.id;
  for (size_t i = 0; i < spec.pieces.size(); ++i)
    if (spec.pieces[i] == name) return int32_t(i);
  return std::nullopt;
}

// tokenizer_config.json "added_tokens_decoder": {"<id>": {"content", "special", "normalized", ...}}.
void apply_added_tokens_decoder(TokenizerSpec& spec, const json& cfg, const std::string& src) {
  const json* dec = json_find(cfg, "added_tokens_decoder");
  if (!dec) return;
  for (const auto& [key, t] : json_object(*dec, src + ": \"added_tokens_decoder\"").items()) {
    const std::string at = src + ": added_tokens_decoder." + key;
    size_t used = 0;
    int64_t id = -1;
    try {
      id = std::stoll(key, &used);
    } catch (const std::exception&) {
    }
    if (used != key.size() || id < 0 || id > INT32_MAX) fail(at + ": the key must be a token id");
    const json* content = json_find(json_object(t, at), "content");
    if (!content) fail(at + ": missing \"content\"");
    AddedTokenSpec a{int32_t(id), json_string(*content, at + ".content"), false, false};
    for (const char* flag : {"lstrip", "rstrip", "single_word"})
      if (const json* f = json_find(t, flag); f && json_bool(*f, at + "." + flag))
        fail(at + ": \"" + flag + "\": true is not supported");
    if (const json* f = json_find(t, "special")) a.special = json_bool(*f, at + ".special");
    if (const json* f = json_find(t, "normalized")) a.normalized = json_bool(*f, at + ".normalized");
    bool replaced = false;
    for (AddedTokenSpec& old : spec.added)
      if (old.id == a.id) {
        old = a;
        replaced = true;
      }
    if (!replaced) spec.added.push_back(std::move(a));
  }
}

}  // namespace

void apply_tokenizer_config(TokenizerSpec& spec, const std::filesystem::path& config_json,
                            const std::filesystem::path& special_tokens_map_json, bool from_sentencepiece) {
  json cfg = json::object(), map = json::object();
  const std::string cfg_src = config_json.filename().string(), map_src = special_tokens_map_json.filename().string();
  // As strict as read_json_file (duplicate keys, depth) and much faster on the 1 MB config.
  auto read = [](const std::filesystem::path& path) {
    MappedFile file(path);
    const std::string name = path.filename().string();
    simdjson::dom::parser parser;
    return tok::to_nlohmann(
        tok::parse_json(parser, std::string_view(reinterpret_cast<const char*>(file.data()), file.size()), name), name);
  };
  if (!config_json.empty() && std::filesystem::exists(config_json)) cfg = read(config_json);
  if (!special_tokens_map_json.empty() && std::filesystem::exists(special_tokens_map_json))
    map = read(special_tokens_map_json);
  json_object(cfg, cfg_src);
  json_object(map, map_src);
  auto resolve = [&](const char* key) -> std::optional<int32_t> {
    std::optional<std::string> name = token_name(cfg, key, cfg_src);
    std::string src = cfg_src;
    if (!name) {
      name = token_name(map, key, map_src);
      src = map_src;
    }
    if (!name) return std::nullopt;
    auto id = find_token(spec, *name);
    if (!id) fail(src + ": \"" + key + "\" is \"" + *name + "\", which is not a token of " + spec.source);
    return id;
  };
  if (from_sentencepiece) apply_added_tokens_decoder(spec, cfg, cfg_src);
  if (auto id = resolve("bos_token")) spec.bos_id = id;
  if (auto id = resolve("eos_token")) spec.eos_id = id;
  if (auto id = resolve("pad_token")) spec.pad_id = id;
  if (from_sentencepiece) {  // GemmaTokenizer's named special tokens (mask_token defaults to "<mask>")
    for (const char* key : {"bos_token", "eos_token", "unk_token", "pad_token", "mask_token"}) {
      std::optional<int32_t> id = resolve(key);
      if (!id && std::string_view(key) == "mask_token") id = find_token(spec, "<mask>");
      if (!id) continue;
      for (AddedTokenSpec& a : spec.added)
        if (a.id == *id) a.special = true;
    }
  }
  const json* add_bos = json_find(cfg, "add_bos_token");
  const json* add_eos = json_find(cfg, "add_eos_token");
  if (add_bos || add_eos) {  // transformers' update_post_processor()
    spec.prefix_ids.clear();
    spec.suffix_ids.clear();
    if (add_bos && json_bool(*add_bos, cfg_src + ": \"add_bos_token\"")) {
      if (!spec.bos_id) fail(cfg_src + ": add_bos_token is true but no bos_token is named");
      spec.prefix_ids.push_back(*spec.bos_id);
    }
    if (add_eos && json_bool(*add_eos, cfg_src + ": \"add_eos_token\"")) {
      if (!spec.eos_id) fail(cfg_src + ": add_eos_token is true but no eos_token is named");
      spec.suffix_ids.push_back(*spec.eos_id);
    }
  }
  if (const json* t = json_find(cfg, "chat_template")) {
    if (t->is_string()) {
      spec.chat_template = t->get<std::string>();
    } else {  // a list of {"name", "template"}: the "default" one is what apply_chat_template uses
      for (const json& named : json_array(*t, cfg_src + ": \"chat_template\"")) {
        const json* n = json_find(named, "name");
        const json* tt = json_find(named, "template");
        if (n && tt && n->is_string() && *n == "default" && tt->is_string())
          spec.chat_template = tt->get<std::string>();
      }
    }
  }
}

}  // namespace scitune
