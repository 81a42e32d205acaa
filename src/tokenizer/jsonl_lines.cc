#include "tokenizer/jsonl_lines.h"

#include "tokenizer/json_dom.h"

namespace scitune {

JsonlLines::JsonlLines(const std::string& path) : name_(path == "-" ? "stdin" : path) {
  if (path == "-") {
    in_ = &std::cin;
    return;
  }
  file_.open(path, std::ios::binary);
  if (!file_) fail(path + ": cannot open for reading");
  in_ = &file_;
}

std::optional<JsonlLines::Row> JsonlLines::next() {
  std::string text;
  if (!std::getline(*in_, text)) {
    if (in_->bad()) fail(name_ + ": read error after line " + std::to_string(line_));
    return std::nullopt;
  }
  ++line_;
  if (!text.empty() && text.back() == '\r') text.pop_back();  // CRLF files
  Row row{nullptr, line_, name_ + ":" + std::to_string(line_)};
  if (text.find_first_not_of(" \t") == std::string::npos) fail(row.where + ": empty line (expected a JSON object)");
  // Strict: invalid UTF-8, unpaired surrogates, duplicate keys and trailing data are errors.
  thread_local simdjson::dom::parser parser;  // reused: its buffers grow to the longest line
  row.value = tok::to_nlohmann(tok::parse_json(parser, text, row.where), row.where);
  if (!row.value.is_object()) fail(row.where + ": expected a JSON object");
  return row;
}

}  // namespace scitune
