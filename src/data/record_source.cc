#include "data/record_source.h"

#include <fnmatch.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <functional>
#include <vector>

#include "data/byte_source.h"
#include "data/parquet_source.h"
#include "io/json_limits.h"
#include "tokenizer/json_dom.h"
#include "tokenizer/utf8.h"

namespace scitune {

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string mib(size_t n) {
  return n % (1 << 20) == 0 ? std::to_string(n >> 20) + " MiB" : std::to_string(n) + " bytes";
}

std::string format_name(std::string_view shape, Compression c) {
  std::string out(shape);
  if (c != Compression::kNone) out += "+" + std::string(to_string(c));
  return out;
}

class JsonlSource : public RecordSource {
 public:
  JsonlSource(std::unique_ptr<ByteSource> bytes, std::string name, const ReaderLimits& limits)
      : format_(format_name("jsonl", bytes->compression())),
        name_(name),
        lines_(std::move(bytes), std::move(name), limits.max_record_bytes) {}
  std::string_view format() const override { return format_; }

  std::optional<RawRecord> next() override {
    while (auto line = lines_.next()) {
      std::string_view text = *line;
      // A UTF-8 BOM may open the file; a blank line is not a record.
      if (lines_.line() == 1 && text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
      if (text.find_first_not_of(" \t\r") == std::string_view::npos) continue;
      return parse_record(text, name_ + ":" + std::to_string(lines_.line()));
    }
    return std::nullopt;
  }

 private:
  std::string format_, name_;
  LineReader lines_;
};

// Cuts the elements out of "[ elem, elem, ... ]" one at a time: strings and brackets are tracked so that a
// comma inside an element does not end it; each element is then parsed on its own.
class JsonArraySource : public RecordSource {
 public:
  JsonArraySource(std::unique_ptr<ByteSource> bytes, std::string name, const ReaderLimits& limits)
      : format_(format_name("json-array", bytes->compression())),
        bytes_(std::move(bytes)),
        name_(std::move(name)),
        max_(limits.max_record_bytes) {
    skip_blank(/*allow_bom=*/true);
    if (get() != '[') fail(name_ + ":" + std::to_string(line_) + ": expected '[' (a JSON array of records)");
    skip_blank();
    if (peek() == ']') {
      get();
      finish();
    }
  }
  std::string_view format() const override { return format_; }

  std::optional<RawRecord> next() override {
    if (done_) return std::nullopt;
    const size_t start_line = line_;
    const std::string where = name_ + ":" + std::to_string(start_line);
    std::string elem;
    const int first = peek();
    if (first < 0) fail(where + ": the JSON array is not closed (the file ends before ']')");
    if (first == ',' || first == '}' || first == ']')
      fail(where + ": expected an array element, found '" + char(first) + "'");
    if (first == '{' || first == '[') {
      int depth = 0;
      bool in_string = false, escape = false;
      do {
        const int c = get();
        if (c < 0) fail(where + ": the JSON array is not closed (the file ends inside the element starting here)");
        if (elem.size() >= max_) too_long(where);
        elem.push_back(char(c));
        if (in_string) {
          if (escape)
            escape = false;
          else if (c == '\\')
            escape = true;
          else if (c == '"')
            in_string = false;
        } else if (c == '"') {
          in_string = true;
        } else if (c == '{' || c == '[') {
          ++depth;
        } else if (c == '}' || c == ']') {
          --depth;
        }
      } while (depth > 0);
    } else {  // a scalar (or garbage): up to the next separator
      bool in_string = false, escape = false;
      while (true) {
        const int c = peek();
        if (c < 0) break;
        if (!in_string && (c == ',' || c == ']' || c == '}' || is_blank(char(c))) && !elem.empty()) break;
        get();
        if (elem.size() >= max_) too_long(where);
        elem.push_back(char(c));
        if (in_string) {
          if (escape)
            escape = false;
          else if (c == '\\')
            escape = true;
          else if (c == '"')
            in_string = false;
        } else if (c == '"') {
          in_string = true;
        }
      }
    }
    skip_blank();
    const int sep = get();
    if (sep == ']') {
      finish();
    } else if (sep == ',') {
      skip_blank();
      if (peek() == ']') fail(name_ + ":" + std::to_string(line_) + ": trailing comma before ']' (not JSON)");
    } else if (sep < 0) {
      fail(name_ + ":" + std::to_string(line_) + ": the JSON array is not closed (the file ends before ']')");
    } else {
      fail(name_ + ":" + std::to_string(line_) + ": expected ',' or ']' after the array element starting at line " +
           std::to_string(start_line));
    }
    return parse_record(elem, where);
  }

 private:
  [[noreturn]] void too_long(const std::string& where) const {
    fail(where + ": array element is longer than the limit of " + mib(max_));
  }
  int peek() {
    if (pos_ >= chunk_.size()) {
      if (eof_) return -1;
      chunk_ = bytes_->next();
      pos_ = 0;
      if (chunk_.empty()) {
        eof_ = true;
        return -1;
      }
    }
    return chunk_[pos_];
  }
  int get() {
    const int c = peek();
    if (c >= 0) {
      ++pos_;
      if (c == '\n') ++line_;
    }
    return c;
  }
  void skip_blank(bool allow_bom = false) {
    if (allow_bom && peek() == 0xEF) {
      get();
      if (get() != 0xBB || get() != 0xBF) fail(name_ + ":1: invalid UTF-8 at the start of the file");
    }
    while (peek() >= 0 && is_blank(char(peek()))) get();
  }
  void finish() {
    done_ = true;
    skip_blank();
    if (peek() >= 0)
      fail(name_ + ":" + std::to_string(line_) + ": unexpected data after the closing ']' of the JSON array");
  }

  std::string format_;
  std::unique_ptr<ByteSource> bytes_;
  std::string name_;
  size_t max_;
  std::span<const uint8_t> chunk_;
  size_t pos_ = 0;
  size_t line_ = 1;
  bool eof_ = false, done_ = false;
};

// First non-blank byte of the (decompressed) stream, after an optional BOM; -1 if there is none.
int first_byte(ByteSource& bytes) {
  bool start = true;
  for (auto chunk = bytes.next(); !chunk.empty(); chunk = bytes.next()) {
    size_t i = 0;
    if (start && chunk.size() >= 3 && chunk[0] == 0xEF && chunk[1] == 0xBB && chunk[2] == 0xBF) i = 3;
    start = false;
    for (; i < chunk.size(); ++i)
      if (!is_blank(char(chunk[i]))) return chunk[i];
  }
  return -1;
}

// The shape is sniffed on a first stream, then read from a second one (cheap: a map, or at most a few
// decompressed chunks to find the first non-blank byte).
std::unique_ptr<RecordSource> open_with(const std::function<std::unique_ptr<ByteSource>()>& open,
                                        const std::string& name, const ReaderLimits& limits) {
  const int first = first_byte(*open());
  if (first == '[') return std::make_unique<JsonArraySource>(open(), name, limits);
  return std::make_unique<JsonlSource>(open(), name, limits);
}

bool is_parquet(const std::filesystem::path& path) {
  if (path.extension() == ".parquet") return true;
  char magic[4] = {};
  std::ifstream in(path, std::ios::binary);
  return in.read(magic, 4) && std::string_view(magic, 4) == "PAR1";
}

std::unique_ptr<RecordSource> open_file(const std::filesystem::path& path, const ReaderLimits& limits) {
  if (is_parquet(path)) return open_parquet_source(path);
  return open_with([&] { return open_byte_source(path); }, path.string(), limits);
}

// Several files read as one source, each opened when the one before it ends.
class ChainSource : public RecordSource {
 public:
  ChainSource(std::vector<std::filesystem::path> files, const ReaderLimits& limits)
      : files_(std::move(files)), limits_(limits), current_(open_file(files_[0], limits_)) {
    format_ = std::string(current_->format());
    if (files_.size() > 1) format_ += " x " + std::to_string(files_.size()) + " files";
  }
  std::string_view format() const override { return format_; }

  std::optional<RawRecord> next() override {
    while (current_) {
      if (auto r = current_->next()) return r;
      current_.reset();
      if (++index_ < files_.size()) current_ = open_file(files_[index_], limits_);
    }
    return std::nullopt;
  }

 private:
  std::vector<std::filesystem::path> files_;
  ReaderLimits limits_;
  size_t index_ = 0;
  std::unique_ptr<RecordSource> current_;
  std::string format_;
};

}  // namespace

std::vector<std::filesystem::path> expand_data_path(const std::filesystem::path& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<fs::path> out;
  if (fs::is_directory(path, ec)) {
    for (const auto& e : fs::directory_iterator(path, ec))
      if (e.path().extension() == ".parquet" && e.is_regular_file(ec)) out.push_back(e.path());
    if (ec) fail(path.string() + ": cannot list the folder: " + ec.message());
    if (out.empty())
      fail(path.string() + ": a folder source is read as its *.parquet shards, and it has none" +
           (fs::is_directory(path / "data", ec)
                ? " (Hugging Face datasets keep theirs in " + (path / "data").string() + ")"
                : ""));
  } else {
    const std::string pattern = path.filename().string();
    if (fs::exists(path, ec) || pattern.find_first_of("*?[") == std::string::npos) return {path};
    const fs::path dir = path.parent_path();
    if (dir.string().find_first_of("*?[") != std::string::npos)
      fail(path.string() + ": a glob may only be in the file name, not in the folders");
    for (const auto& e : fs::directory_iterator(dir.empty() ? fs::path(".") : dir, ec)) {
      const std::string name = e.path().filename().string();
      if (fnmatch(pattern.c_str(), name.c_str(), FNM_PERIOD) == 0 && e.is_regular_file(ec)) out.push_back(dir / name);
    }
    if (ec)
      fail(path.string() + ": cannot list " + (dir.empty() ? std::string(".") : dir.string()) + ": " + ec.message());
    if (out.empty()) fail(path.string() + ": no file matches");
  }
  std::sort(out.begin(), out.end());
  return out;
}

RawRecord parse_record(std::string_view text, std::string where) {
  RawRecord r;
  r.where = std::move(where);
  auto reject = [&](std::string kind, const std::string& msg) {
    r.reject = Reject{std::move(kind), msg};
    return r;
  };
  if (const auto bad = tok::find_invalid_utf8(text))
    return reject("invalid UTF-8", r.where + ": invalid UTF-8 at byte " + std::to_string(*bad + 1) + " of the record");
  thread_local simdjson::dom::parser parser;  // reused: its buffers grow to the longest record
  simdjson::dom::element root;
  try {
    root = tok::parse_json(parser, text, r.where);
  } catch (const UserError& first) {
    // simdjson says little about where; the slow parser, only on this error path, says line and column.
    std::string msg;
    try {
      parse_json_strict(text, r.where);
      msg = first.what();
    } catch (const UserError& e) {
      msg = e.what();
    }
    return reject("invalid JSON", msg);
  }
  if (!root.is_object()) {
    const char* type = root.is_array() ? "an array" : root.is_string() ? "a string" : "a scalar";
    return reject("not an object", r.where + ": expected a JSON object (one record), found " + std::string(type));
  }
  try {
    r.value = tok::to_nlohmann(root, r.where + ": record");  // nested keys: "<file>:<line>: record.a[0]"
  } catch (const UserError& e) {
    return reject("duplicate key", e.what());
  }
  return r;
}

std::unique_ptr<RecordSource> open_record_source(const std::filesystem::path& path, const ReaderLimits& limits) {
  std::vector<std::filesystem::path> files = expand_data_path(path);
  if (files.size() == 1 && files[0] == path) return open_file(path, limits);
  return std::make_unique<ChainSource>(std::move(files), limits);
}

std::unique_ptr<RecordSource> open_record_source(std::span<const uint8_t> bytes, const std::string& name,
                                                 const ReaderLimits& limits) {
  if (bytes.size() >= 4 && std::memcmp(bytes.data(), "PAR1", 4) == 0) return open_parquet_source(bytes, name);
  return open_with([&] { return memory_byte_source(bytes, name); }, name, limits);
}

}  // namespace scitune
