// The papers corpus: what `scitune papers parse` writes (corpus.jsonl, one document per line) and what
// `papers chunk` / `papers report` read. One struct per document with its pages, detected sections and the
// problems found while reading it, so a bad PDF is a record with a reason rather than a missing line.
#pragma once
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace scitune {

struct CorpusSection {
  std::string title;     // "Abstract", "1 Introduction", "References", ...
  int64_t first_page = 1;  // 1-based page where the heading is
  int64_t begin = 0, end = 0;  // byte offsets of the section's text in PaperDocument::text
};

struct PaperDocument {
  std::string id;      // stable: the file's sha256 (first 16 hex digits)
  std::string file;    // path as given
  std::string sha256;  // of the file's bytes
  std::string title, authors, date;  // from the PDF metadata, title falling back to the first page
  int64_t pages = 0;
  std::vector<int64_t> page_offsets;  // byte offset in `text` where each page begins (size == pages)
  std::vector<CorpusSection> sections;
  std::string text;     // cleaned body text, paragraphs separated by "\n\n"
  std::string status;   // "ok", or why the text is missing or partial: "encrypted", "no text layer",
                        // "malformed", "truncated", ...
  std::vector<std::string> problems;  // per-file messages (never fatal for the batch)
  bool ok() const { return status == "ok"; }
  int64_t words() const;  // whitespace-separated words of `text`
  // 1-based page of a byte offset in `text`.
  int64_t page_of(int64_t offset) const;
};

// Whitespace-separated words (ASCII whitespace), as PaperDocument::words() counts them.
int64_t count_words(std::string_view text);

nlohmann::ordered_json to_json(const PaperDocument& d);
// Validates every field; UserError naming `where` ("corpus.jsonl:3") and the field.
PaperDocument paper_from_json(const nlohmann::json& j, const std::string& where);

// One document per line; UserError names file:line for a malformed line.
std::vector<PaperDocument> read_corpus(const std::filesystem::path& jsonl);
void write_corpus(const std::filesystem::path& jsonl, const std::vector<PaperDocument>& docs, bool overwrite);

}  // namespace scitune
