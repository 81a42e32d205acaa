#include "data/tokenize.h"

namespace scitune {

namespace {

std::string token_name(const Tokenizer& tok, int32_t id) {
  return "\"" + tok.id_to_token(id) + "\" (" + std::to_string(id) + ")";
}

// Post-processing of one sequence; throws RecordReject.
TokenizeResult finish(std::vector<int32_t> ids, std::vector<int64_t> labels, const PendingRecord& rec,
                      const Tokenizer& tok, const TokenizeOptions& options) {
  const std::string& where = rec.where;
  const std::optional<int32_t> bos = tok.bos_id();
  if (ids.empty()) throw RecordReject("empty text", where + ": no tokens");
  for (size_t i = 0; i < ids.size(); ++i)
    if (!tok.is_valid_id(ids[i]))
      throw RecordReject("bad token ids", where + ": input_ids[" + std::to_string(i) + "] = " + std::to_string(ids[i]) +
                                              " is not in the vocabulary (size " + std::to_string(tok.vocab_size()) +
                                              ")");
  if (bos) {
    if (ids[0] != *bos)
      throw RecordReject(
          "bos", where + ": the sequence starts with " + token_name(tok, ids[0]) + ", not " + token_name(tok, *bos));
    size_t n_bos = 0;
    for (int32_t id : ids) n_bos += id == *bos;
    if (n_bos > 1)
      throw RecordReject("bos", where + ": " + std::to_string(n_bos) + " " + token_name(tok, *bos) +
                                    " tokens (the text contains a literal \"" + tok.id_to_token(*bos) +
                                    "\"); exactly one, at the start, is expected");
  }
  TokenizeResult r;
  r.original_length = int64_t(ids.size());
  const int64_t max = options.max_seq_length;
  if (max > 0 && int64_t(ids.size()) > max) {
    if (options.overlong == Overlong::kDrop)
      throw RecordReject("too long", where + ": " + std::to_string(ids.size()) + " tokens, more than the maximum " +
                                         "sequence length " + std::to_string(max));
    ids.resize(size_t(max));
    labels.resize(size_t(max));
    r.truncated = true;
  }
  TokenizedExample ex{std::move(ids), std::move(labels), where};
  if (ex.trained_tokens() == 0)
    throw RecordReject("no trained tokens",
                       r.truncated
                           ? where + ": no trained token left after truncating " + std::to_string(r.original_length) +
                                 " tokens to " + std::to_string(max) + " (the answer starts after the cut)"
                           : where + (rec.kind == RecordContent::Kind::kTokens
                                          ? ": no token is trained (every label is -100)"
                                          : ": no token is trained (the response-only mask found no model "
                                            "answer)"));
  r.example = std::move(ex);
  return r;
}

TokenizeResult tokenize_one(const PendingRecord& rec, std::vector<int32_t> encoded, const Tokenizer& tok,
                            ChatFormat format, const TokenizeOptions& options) {
  std::vector<int32_t> ids;
  std::vector<int64_t> labels;
  switch (rec.kind) {
    case RecordContent::Kind::kChat: {
      const std::vector<uint8_t> mask = response_mask(tok, format, encoded);
      labels.resize(encoded.size());
      for (size_t i = 0; i < encoded.size(); ++i) labels[i] = mask[i] ? encoded[i] : kIgnoreLabel;
      ids = std::move(encoded);
      break;
    }
    case RecordContent::Kind::kText: {
      const auto bos = tok.bos_id();
      const auto eos = tok.eos_id();
      if (bos && (encoded.empty() || encoded[0] != *bos)) ids.push_back(*bos);
      ids.insert(ids.end(), encoded.begin(), encoded.end());
      if (eos && ids.back() != *eos) ids.push_back(*eos);
      labels.assign(ids.begin(), ids.end());
      break;
    }
    case RecordContent::Kind::kTokens:
      ids = rec.ids;
      if (rec.labels.empty())
        labels.assign(ids.begin(), ids.end());
      else
        labels = rec.labels;
      break;
  }
  return finish(std::move(ids), std::move(labels), rec, tok, options);
}

}  // namespace

PendingRecord make_pending(RecordContent content, const Tokenizer& tokenizer, ChatFormat format, std::string where) {
  PendingRecord p;
  p.kind = content.kind;
  p.where = std::move(where);
  switch (content.kind) {
    case RecordContent::Kind::kChat: {
      const std::string bos = tokenizer.bos_id() ? tokenizer.id_to_token(*tokenizer.bos_id()) : "<bos>";
      try {
        p.text = render_chat(format, content.messages, ChatOptions{}, bos);
      } catch (const UserError& e) {
        throw RecordReject("role order", p.where + ": " + e.what());
      }
      break;
    }
    case RecordContent::Kind::kText:
      p.text = std::move(content.text);
      break;
    case RecordContent::Kind::kTokens:
      p.ids = std::move(content.ids);
      p.labels = std::move(content.labels);
      break;
  }
  return p;
}

std::vector<TokenizeResult> tokenize_records(std::span<const PendingRecord> records, const Tokenizer& tokenizer,
                                             ChatFormat format, const TokenizeOptions& options) {
  // Texts go through the tokenizer's own thread pool in one batch; the rest is cheap.
  std::vector<std::string> texts;
  std::vector<size_t> text_of(records.size(), SIZE_MAX);
  for (size_t i = 0; i < records.size(); ++i)
    if (records[i].kind != RecordContent::Kind::kTokens) {
      text_of[i] = texts.size();
      texts.push_back(records[i].text);
    }
  std::vector<std::vector<int32_t>> encoded =
      tokenizer.encode_batch(texts, /*add_special_tokens=*/false, options.threads);
  std::vector<TokenizeResult> out(records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    try {
      out[i] =
          tokenize_one(records[i], text_of[i] == SIZE_MAX ? std::vector<int32_t>() : std::move(encoded[text_of[i]]),
                       tokenizer, format, options);
    } catch (const RecordReject& e) {
      out[i].reject = e.reject();
    }
  }
  return out;
}

}  // namespace scitune
