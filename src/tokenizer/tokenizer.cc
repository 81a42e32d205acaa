#include <algorithm>
#include <atomic>
#include <exception>
#include <nlohmann/json.hpp>
#include <thread>

#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/utf8.h"
#include "util/error.h"

namespace scitune {

namespace {

constexpr char32_t kMetaSpace = 0x2581;  // '▁'
constexpr std::string_view kMetaSpaceUtf8 = "\xE2\x96\x81";
std::atomic<uint64_t> g_next_serial{1};

}  // namespace

Tokenizer::Impl::Impl(TokenizerSpec spec_in) : spec(std::move(spec_in)), serial(g_next_serial++) {
  const std::string& src = spec.source;
  if (spec.pieces.empty()) fail(src + ": the vocabulary is empty");
  // Added tokens beyond the vocabulary take the next ids (HF numbers them so); a far larger id would only
  // make a huge, mostly empty id table.
  size_t n_ids = spec.pieces.size();
  const size_t id_limit = spec.pieces.size() + spec.added.size();
  for (const AddedTokenSpec& a : spec.added) {
    if (a.id < 0 || size_t(a.id) >= id_limit)
      fail(src + ": added token " +
           nlohmann::json(a.content).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + " has id " +
           std::to_string(a.id) + "; ids must be below " + std::to_string(id_limit) +
           " (vocabulary size + number of added tokens)");
    n_ids = std::max(n_ids, size_t(a.id) + 1);
  }
  id_to_string.assign(n_ids, std::string());
  valid.assign(n_ids, 0);
  special.assign(n_ids, 0);
  for (size_t i = 0; i < spec.pieces.size(); ++i) {
    const std::string& p = spec.pieces[i];
    if (auto bad = tok::find_invalid_utf8(p)) fail(src + ": piece " + std::to_string(i) + " is not valid UTF-8");
    id_to_string[i] = p;
    valid[i] = 1;
  }
  for (const AddedTokenSpec& a : spec.added) {
    if (a.content.empty()) fail(src + ": added token " + std::to_string(a.id) + " is empty");
    if (tok::find_invalid_utf8(a.content)) fail(src + ": added token " + std::to_string(a.id) + " is not valid UTF-8");
    if (!added_ids.emplace(a.content, a.id).second) fail(src + ": added token \"" + a.content + "\" is listed twice");
    if (size_t(a.id) >= spec.pieces.size()) {
      if (valid[a.id]) fail(src + ": two added tokens have id " + std::to_string(a.id));
      id_to_string[a.id] = a.content;
    } else if (spec.pieces[a.id] != a.content) {
      fail(src + ": added token \"" + a.content + "\" has id " + std::to_string(a.id) + ", which is the piece \"" +
           spec.pieces[a.id] + "\"");
    }
    valid[a.id] = 1;
    special[a.id] = a.special;
  }
  for (const auto& [name, id] : std::initializer_list<std::pair<const char*, std::optional<int32_t>>>{
           {"unk", spec.unk_id}, {"bos", spec.bos_id}, {"eos", spec.eos_id}, {"pad", spec.pad_id}})
    if (id && (*id < 0 || size_t(*id) >= n_ids || !valid[*id]))
      fail(src + ": the " + name + " token id " + std::to_string(*id) + " is not in the vocabulary");
  for (int32_t id : spec.prefix_ids)
    if (id < 0 || size_t(id) >= n_ids || !valid[id])
      fail(src + ": post-processor id " + std::to_string(id) + " unknown");
  for (int32_t id : spec.suffix_ids)
    if (id < 0 || size_t(id) >= n_ids || !valid[id])
      fail(src + ": post-processor id " + std::to_string(id) + " unknown");
  for (const NormalizerStep& s : spec.normalizer)
    if (s.kind == NormalizerStep::Kind::kReplace && s.pattern.empty()) fail(src + ": empty normalizer pattern");
  if (spec.split_merged_with_previous && spec.split_merged_with_previous->empty())
    fail(src + ": empty pre-tokenizer pattern");

  bpe = tok::BpeModel(spec.pieces, spec.merges, spec.byte_fallback, spec.unk_id.value_or(-1), spec.fuse_unk, src);

  // HF normalises a normalized=true token's content before matching it in normalised text.
  for (const AddedTokenSpec& a : spec.added) {
    if (!a.normalized) {
      raw_tokens.add(a.content, a.id);
      continue;
    }
    std::string n;
    normalize(a.content, n);
    if (!n.empty()) normalized_tokens.add(n, a.id);
  }
  raw_tokens.seal();
  normalized_tokens.seal();

  // Where words may be cut for caching (tokenizer.h): '▁' must be a piece, byte and unknown symbols must
  // never merge, and the code points that some merged piece has right before a '▁' are recorded.
  cut_words = bpe.piece_id(kMetaSpaceUtf8).has_value();
  no_cut_bmp.assign(0x10000, 0);
  std::vector<uint8_t> is_byte_or_unk(n_ids, 0);
  for (int b = 0; b < 256; ++b)
    if (bpe.byte_id(uint8_t(b)) >= 0) is_byte_or_unk[bpe.byte_id(uint8_t(b))] = 1;
  if (spec.unk_id) is_byte_or_unk[*spec.unk_id] = 1;
  std::vector<uint8_t> is_result(spec.pieces.size(), 0);
  for (const auto& [l, r] : spec.merges) {
    if (is_byte_or_unk[l] || is_byte_or_unk[r]) cut_words = false;
    const tok::PairMap::Value* v = bpe.merges().find(l, r);
    if (v) is_result[v->id] = 1;
  }
  for (size_t id = 0; id < spec.pieces.size(); ++id) {
    if (!is_result[id]) continue;
    const std::string& p = spec.pieces[id];
    for (size_t at = p.find(kMetaSpaceUtf8, 1); at != std::string::npos; at = p.find(kMetaSpaceUtf8, at + 1)) {
      size_t start = at - 1;
      while (start > 0 && (uint8_t(p[start]) & 0xC0) == 0x80) --start;
      size_t pos = start;
      const char32_t before = tok::next_code_point(p, pos);
      if (before == kMetaSpace) continue;
      if (before < 0x10000)
        no_cut_bmp[before] = 1;
      else
        no_cut_astral.insert(before);
    }
  }

  // Chunked (streaming) decoding equals whole decoding when nothing but Fuse follows the first Fuse.
  stream_safe = true;
  bool fused = false;
  for (const DecoderStep& d : spec.decoder) {
    if (fused && d.kind != DecoderStep::Kind::kFuse) stream_safe = false;
    if (d.kind == DecoderStep::Kind::kFuse) fused = true;
  }
}

bool Tokenizer::Impl::may_cut_after(char32_t cp) const {
  if (cp == kMetaSpace) return false;
  if (cp < 0x10000) return !no_cut_bmp[cp];
  return !no_cut_astral.count(cp);
}

void Tokenizer::Impl::normalize(std::string_view in, std::string& out) const {
  out.assign(in);
  std::string tmp;
  for (const NormalizerStep& s : spec.normalizer) {
    if (s.kind == NormalizerStep::Kind::kPrepend) {
      if (!out.empty()) out.insert(0, s.content);
      continue;
    }
    if (out.find(s.pattern) == std::string::npos) continue;
    tmp.clear();
    size_t from = 0;
    for (size_t at = out.find(s.pattern); at != std::string::npos; at = out.find(s.pattern, from)) {
      tmp.append(out, from, at - from);
      tmp += s.content;
      from = at + s.pattern.size();
    }
    tmp.append(out, from, std::string::npos);
    out.swap(tmp);
  }
}

const int32_t* tok::WordCache::find(std::string_view word, uint64_t hash, uint32_t* count) const {
  if (slots_.empty()) return nullptr;
  for (size_t i = hash & (kSlots - 1);; i = (i + 1) & (kSlots - 1)) {
    const Slot& s = slots_[i];
    if (!s.used) return nullptr;
    if (s.hash == hash && std::string_view(words_).substr(s.word_offset, s.word_len) == word) {
      *count = s.ids_len;
      return ids_.data() + s.ids_offset;
    }
  }
}

void tok::WordCache::insert(std::string_view word, uint64_t hash, const int32_t* ids, uint32_t count) {
  if (slots_.empty()) slots_.resize(kSlots);
  if (used_ * 2 >= kSlots || words_.size() > (64u << 20)) clear();
  size_t i = hash & (kSlots - 1);
  while (slots_[i].used) i = (i + 1) & (kSlots - 1);
  slots_[i] = {hash, uint32_t(words_.size()), uint32_t(word.size()), uint32_t(ids_.size()), count, true};
  words_.append(word);
  ids_.insert(ids_.end(), ids, ids + count);
  ++used_;
}

void tok::WordCache::clear() {
  std::fill(slots_.begin(), slots_.end(), Slot{});
  words_.clear();
  ids_.clear();
  used_ = 0;
}

void Tokenizer::Impl::encode_cached(std::string_view piece, std::vector<int32_t>& out, Scratch& scr) const {
  constexpr size_t kMaxCachedBytes = 64;
  if (piece.size() > kMaxCachedBytes) {
    bpe.encode_word(piece, out, scr.bpe);
    return;
  }
  const uint64_t hash = tok::PieceIndex::hash(piece);
  uint32_t count = 0;
  if (const int32_t* ids = scr.cache.find(piece, hash, &count)) {
    out.insert(out.end(), ids, ids + count);
    return;
  }
  const size_t before = out.size();
  bpe.encode_word(piece, out, scr.bpe);
  scr.cache.insert(piece, hash, out.data() + before, uint32_t(out.size() - before));
}

void Tokenizer::Impl::encode_word(std::string_view word, std::vector<int32_t>& out, Scratch& scr) const {
  if (!cut_words) {
    encode_cached(word, out, scr);
    return;
  }
  size_t start = 0, pos = 0;
  char32_t prev = kMetaSpace;
  while (pos < word.size()) {
    const size_t at = pos;
    const char32_t cp = tok::next_code_point(word, pos);
    if (cp == kMetaSpace && at > start && may_cut_after(prev)) {
      encode_cached(word.substr(start, at - start), out, scr);
      start = at;
    }
    prev = cp;
  }
  if (start < word.size()) encode_cached(word.substr(start), out, scr);
}

void Tokenizer::Impl::encode_normalized(std::string_view s, std::vector<int32_t>& out, Scratch& scr) const {
  if (!spec.split_merged_with_previous) {
    if (!s.empty()) encode_word(s, out, scr);
    return;
  }
  // HF Split(MergedWithPrevious): the text is cut into matches and the text between them; a match joins the
  // piece before it unless that piece is itself a match.
  const std::string& pat = *spec.split_merged_with_previous;
  size_t at = s.find(pat);
  if (at == std::string_view::npos) {
    if (!s.empty()) encode_word(s, out, scr);
    return;
  }
  std::vector<std::pair<size_t, size_t>> pieces;
  size_t from = 0;
  bool prev_match = false;
  for (; at != std::string_view::npos; at = s.find(pat, from)) {
    if (at > from) {
      pieces.emplace_back(from, at);
      prev_match = false;
    }
    if (!prev_match && !pieces.empty())
      pieces.back().second = at + pat.size();
    else
      pieces.emplace_back(at, at + pat.size());
    prev_match = true;
    from = at + pat.size();
  }
  if (from < s.size()) pieces.emplace_back(from, s.size());
  for (const auto& [b, e] : pieces) encode_word(s.substr(b, e - b), out, scr);
}

void Tokenizer::Impl::encode_into(std::string_view text, bool add_special, std::vector<int32_t>& out,
                                  Scratch& scr) const {
  if (auto bad = tok::find_invalid_utf8(text)) fail("text is not valid UTF-8 (byte " + std::to_string(*bad) + ")");
  if (add_special) out.insert(out.end(), spec.prefix_ids.begin(), spec.prefix_ids.end());
  raw_tokens.split(text, [&](std::string_view piece, int32_t id) {
    if (id >= 0) {
      out.push_back(id);
      return;
    }
    std::string& norm = scr.normalized;
    normalize(piece, norm);
    if (normalized_tokens.empty()) {
      encode_normalized(norm, out, scr);
      return;
    }
    const std::string copy = norm;  // scr.normalized is reused below
    normalized_tokens.split(copy, [&](std::string_view sub, int32_t sub_id) {
      if (sub_id >= 0)
        out.push_back(sub_id);
      else
        encode_normalized(sub, out, scr);
    });
  });
  if (add_special) out.insert(out.end(), spec.suffix_ids.begin(), spec.suffix_ids.end());
}

void Tokenizer::Impl::check_id(int32_t id) const {
  if (id < 0 || size_t(id) >= valid.size() || !valid[id])
    fail("token id " + std::to_string(id) + " is not in the vocabulary of " + spec.source + " (" +
         std::to_string(valid.size()) + " ids)");
}

Tokenizer Tokenizer::from_spec(TokenizerSpec spec) { return Tokenizer(std::make_shared<const Impl>(std::move(spec))); }

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_special_tokens) const {
  thread_local Impl::Scratch scratch;
  if (scratch.owner != impl_.get() || scratch.serial != impl_->serial) {
    scratch.cache.clear();
    scratch.owner = impl_.get();
    scratch.serial = impl_->serial;
  }
  std::vector<int32_t> out;
  impl_->encode_into(text, add_special_tokens, out, scratch);
  return out;
}

std::vector<std::vector<int32_t>> Tokenizer::encode_batch(std::span<const std::string> texts, bool add_special_tokens,
                                                          unsigned threads) const {
  std::vector<std::vector<int32_t>> results(texts.size());
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  threads = unsigned(std::min<size_t>(threads, texts.size()));
  std::atomic<size_t> next{0};
  std::vector<std::exception_ptr> errors(threads);
  auto work = [&](unsigned t) {
    Impl::Scratch scratch;
    try {
      for (size_t i = next++; i < texts.size(); i = next++)
        impl_->encode_into(texts[i], add_special_tokens, results[i], scratch);
    } catch (...) {
      errors[t] = std::current_exception();
      next = texts.size();  // the others stop early
    }
  };
  if (threads <= 1) {
    if (!texts.empty()) work(0);
  } else {
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < threads; ++t) pool.emplace_back(work, t);
    for (auto& th : pool) th.join();
  }
  for (const std::exception_ptr& e : errors)
    if (e) std::rethrow_exception(e);
  return results;
}

size_t Tokenizer::vocab_size() const { return impl_->valid.size(); }

std::optional<int32_t> Tokenizer::token_to_id(std::string_view token) const {
  auto it = impl_->added_ids.find(std::string(token));
  if (it != impl_->added_ids.end()) return it->second;
  return impl_->bpe.piece_id(token);
}

const std::string& Tokenizer::id_to_token(int32_t id) const {
  impl_->check_id(id);
  return impl_->id_to_string[id];
}

bool Tokenizer::is_valid_id(int32_t id) const {
  return id >= 0 && size_t(id) < impl_->valid.size() && impl_->valid[id];
}
bool Tokenizer::is_special(int32_t id) const { return is_valid_id(id) && impl_->special[id]; }
std::optional<int32_t> Tokenizer::bos_id() const { return impl_->spec.bos_id; }
std::optional<int32_t> Tokenizer::eos_id() const { return impl_->spec.eos_id; }
std::optional<int32_t> Tokenizer::pad_id() const { return impl_->spec.pad_id; }
const std::string& Tokenizer::chat_template() const { return impl_->spec.chat_template; }
const std::string& Tokenizer::source() const { return impl_->spec.source; }

}  // namespace scitune
