#include "papers/corpus.h"

#include <algorithm>
#include <fstream>

#include "io/json_limits.h"
#include "util/atomic_file.h"
#include "util/error.h"

namespace scitune {

int64_t PaperDocument::words() const { return count_words(text); }

int64_t count_words(std::string_view text) {
  int64_t n = 0;
  bool in_word = false;
  for (unsigned char c : text) {
    const bool space = c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
    if (!space && !in_word) ++n;
    in_word = !space;
  }
  return n;
}

int64_t PaperDocument::page_of(int64_t offset) const {
  const auto it = std::upper_bound(page_offsets.begin(), page_offsets.end(), offset);
  return std::max<int64_t>(1, static_cast<int64_t>(it - page_offsets.begin()));
}

nlohmann::ordered_json to_json(const PaperDocument& d) {
  nlohmann::ordered_json sections = nlohmann::ordered_json::array();
  for (const auto& s : d.sections)
    sections.push_back({{"title", s.title}, {"first_page", s.first_page}, {"begin", s.begin}, {"end", s.end}});
  return {{"id", d.id},           {"file", d.file},         {"sha256", d.sha256}, {"title", d.title},
          {"authors", d.authors}, {"date", d.date},         {"pages", d.pages},   {"page_offsets", d.page_offsets},
          {"sections", sections}, {"status", d.status},     {"problems", d.problems}, {"text", d.text}};
}

PaperDocument paper_from_json(const nlohmann::json& j, const std::string& where) {
  json_object(j, where);
  auto field = [&](const char* k) -> const nlohmann::json& {
    if (!j.contains(k)) fail(where + ": missing \"" + k + "\"");
    return j.at(k);
  };
  auto str = [&](const char* k) { return json_string(field(k), where + ": \"" + k + "\""); };
  PaperDocument d;
  d.id = str("id");
  d.file = str("file");
  d.sha256 = str("sha256");
  d.title = str("title");
  d.authors = str("authors");
  d.date = str("date");
  d.pages = json_int(field("pages"), where + ": \"pages\"");
  d.status = str("status");
  d.text = str("text");
  for (const auto& o : json_array(field("page_offsets"), where + ": \"page_offsets\""))
    d.page_offsets.push_back(json_int(o, where + ": \"page_offsets\""));
  for (const auto& p : json_array(field("problems"), where + ": \"problems\""))
    d.problems.push_back(json_string(p, where + ": \"problems\""));
  for (const auto& s : json_array(field("sections"), where + ": \"sections\"")) {
    const std::string w = where + ": \"sections\"";
    json_object(s, w);
    CorpusSection c;
    if (!s.contains("title") || !s.contains("first_page") || !s.contains("begin") || !s.contains("end"))
      fail(w + ": each section needs title, first_page, begin, end");
    c.title = json_string(s.at("title"), w);
    c.first_page = json_int(s.at("first_page"), w);
    c.begin = json_int(s.at("begin"), w);
    c.end = json_int(s.at("end"), w);
    if (c.begin < 0 || c.end < c.begin || c.end > static_cast<int64_t>(d.text.size()))
      fail(w + ": section \"" + c.title + "\" has offsets outside the text");
    d.sections.push_back(std::move(c));
  }
  if (d.pages < 0) fail(where + ": \"pages\" is negative");
  if (static_cast<int64_t>(d.page_offsets.size()) != d.pages)
    fail(where + ": \"page_offsets\" has " + std::to_string(d.page_offsets.size()) + " entries for " +
         std::to_string(d.pages) + " pages");
  for (size_t i = 0; i < d.page_offsets.size(); ++i)
    if (d.page_offsets[i] < 0 || d.page_offsets[i] > static_cast<int64_t>(d.text.size()) ||
        (i > 0 && d.page_offsets[i] < d.page_offsets[i - 1]))
      fail(where + ": \"page_offsets\" must be increasing offsets into the text");
  return d;
}

std::vector<PaperDocument> read_corpus(const std::filesystem::path& jsonl) {
  std::ifstream in(jsonl, std::ios::binary);
  if (!in) fail(jsonl.string() + ": cannot open (expected a corpus.jsonl from scitune papers parse)");
  std::vector<PaperDocument> docs;
  std::string line;
  int64_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = jsonl.string() + ":" + std::to_string(n);
    docs.push_back(paper_from_json(parse_json_strict(line, where), where));
  }
  return docs;
}

void write_corpus(const std::filesystem::path& jsonl, const std::vector<PaperDocument>& docs, bool overwrite) {
  std::string out;
  for (const PaperDocument& d : docs) out += to_json(d).dump() + "\n";
  write_file_atomic(jsonl, out, overwrite ? Overwrite::kYes : Overwrite::kNo);
}

}  // namespace scitune
