// Decoding (HF `tokenizers` decoders: Replace, ByteFallback, Fuse, Strip) and streaming decode.
#include <algorithm>

#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/utf8.h"
#include "util/error.h"

namespace scitune {

namespace {

using Kind = DecoderStep::Kind;

void replace_all(std::string& s, const std::string& pattern, const std::string& content) {
  if (s.find(pattern) == std::string::npos) return;
  std::string out;
  size_t from = 0;
  for (size_t at = s.find(pattern); at != std::string::npos; at = s.find(pattern, from)) {
    out.append(s, from, at - from);
    out += content;
    from = at + pattern.size();
  }
  out.append(s, from, std::string::npos);
  s.swap(out);
}

// HF: a 6-byte "<0x..>" whose middle parses as u8::from_str_radix(_, 16), which accepts a leading '+'.
std::optional<uint8_t> byte_of(const std::string& t) {
  if (t.size() != 6 || t.compare(0, 3, "<0x") != 0 || t[5] != '>') return std::nullopt;
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (t[3] == '+') {
    const int lo = hex(t[4]);
    if (lo < 0) return std::nullopt;
    return uint8_t(lo);
  }
  const int hi = hex(t[3]), lo = hex(t[4]);
  if (hi < 0 || lo < 0) return std::nullopt;
  return uint8_t(hi * 16 + lo);
}

// HF Strip: up to `start` leading and `stop` trailing characters equal to `content` are removed.
void strip_token(std::string& t, const std::string& content, int start, int stop) {
  std::vector<std::pair<size_t, size_t>> chars;  // byte ranges of code points
  for (size_t pos = 0; pos < t.size();) {
    const size_t b = pos;
    tok::next_code_point(t, pos);
    chars.emplace_back(b, pos);
  }
  auto is_content = [&](size_t i) { return t.compare(chars[i].first, chars[i].second - chars[i].first, content) == 0; };
  size_t begin = 0, end = chars.size();
  for (size_t i = 0; i < chars.size() && i < size_t(start) && is_content(i); ++i) begin = i + 1;
  for (size_t i = 0; i < size_t(stop) && i < chars.size() && is_content(chars.size() - 1 - i); ++i)
    end = chars.size() - 1 - i;
  if (begin >= end) {
    t.clear();
    return;
  }
  t = t.substr(chars[begin].first, chars[end - 1].second - chars[begin].first);
}

void byte_fallback(std::vector<std::string>& tokens) {
  std::vector<std::string> out;
  std::string run;
  size_t run_len = 0;
  auto flush = [&] {
    if (run_len == 0) return;
    if (!tok::find_invalid_utf8(run)) {
      out.push_back(run);
    } else {
      for (size_t i = 0; i < run_len; ++i) out.emplace_back("\xEF\xBF\xBD");  // U+FFFD per byte of the run
    }
    run.clear();
    run_len = 0;
  };
  for (std::string& t : tokens) {
    if (auto b = byte_of(t)) {
      run += char(*b);
      ++run_len;
      continue;
    }
    flush();
    out.push_back(std::move(t));
  }
  flush();
  tokens.swap(out);
}

}  // namespace

std::optional<uint8_t> Tokenizer::Impl::byte_piece_value(int32_t id) const {
  std::string t = id_to_string[id];
  for (const DecoderStep& d : spec.decoder) {
    if (d.kind == Kind::kByteFallback) return byte_of(t);
    if (d.kind == Kind::kReplace) replace_all(t, d.pattern, d.content);
    if (d.kind == Kind::kStrip) strip_token(t, d.content, d.start, d.stop);
    if (d.kind == Kind::kFuse) return std::nullopt;
  }
  return std::nullopt;
}

std::string Tokenizer::Impl::decode(std::span<const int32_t> ids, bool skip_special) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (int32_t id : ids) {
    check_id(id);
    if (skip_special && special[id]) continue;
    tokens.push_back(id_to_string[id]);
  }
  if (spec.decoder.empty()) {  // HF joins raw tokens with spaces when there is no decoder
    std::string out;
    for (size_t i = 0; i < tokens.size(); ++i) out += (i ? " " : "") + tokens[i];
    return out;
  }
  for (const DecoderStep& d : spec.decoder) {
    switch (d.kind) {
      case Kind::kReplace:
        for (std::string& t : tokens) replace_all(t, d.pattern, d.content);
        break;
      case Kind::kStrip:
        for (std::string& t : tokens) strip_token(t, d.content, d.start, d.stop);
        break;
      case Kind::kByteFallback:
        byte_fallback(tokens);
        break;
      case Kind::kFuse: {
        std::string all;
        for (const std::string& t : tokens) all += t;
        tokens.assign(1, std::move(all));
        break;
      }
    }
  }
  std::string out;
  for (const std::string& t : tokens) out += t;
  return out;
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool skip_special_tokens) const {
  return impl_->decode(ids, skip_special_tokens);
}

StreamDecoder::StreamDecoder(const Tokenizer& tokenizer, bool skip_special_tokens)
    : tokenizer_(tokenizer), skip_special_(skip_special_tokens) {
  if (!tokenizer_.impl().stream_safe)
    fail(tokenizer_.source() + ": its decoder chain has steps after Fuse, which cannot be decoded incrementally");
}

std::string StreamDecoder::push(int32_t id) {
  const Tokenizer::Impl& impl = tokenizer_.impl();
  impl.check_id(id);
  if (skip_special_ && impl.special[id]) return "";  // HF drops these before the decoder chain
  if (impl.spec.decoder.empty()) {                   // no decoder: tokens joined by spaces
    std::string out = (emitted_ ? " " : "") + impl.id_to_string[id];
    emitted_ = true;
    return out;
  }
  pending_.push_back(id);
  if (impl.byte_piece_value(id)) return "";  // a byte run may continue
  std::string out = impl.decode(pending_, skip_special_);
  pending_.clear();
  return out;
}

std::string StreamDecoder::finish() {
  std::string out = pending_.empty() ? "" : tokenizer_.impl().decode(pending_, skip_special_);
  pending_.clear();
  return out;
}

}  // namespace scitune
