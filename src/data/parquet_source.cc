#include "data/parquet_source.h"

#include "util/error.h"

#ifdef SCITUNE_HAVE_PARQUET
#include <arrow/api.h>
#include <arrow/io/file.h>
#include <arrow/io/memory.h>
#include <parquet/arrow/reader.h>
#include <parquet/exception.h>

#include <cmath>
#include <exception>
#include <set>
#include <vector>

#include "tokenizer/utf8.h"
#endif

namespace scitune {

#ifndef SCITUNE_HAVE_PARQUET

bool parquet_available() { return false; }

std::unique_ptr<RecordSource> open_parquet_source(std::span<const uint8_t>, const std::string& name) {
  fail(name +
       ": reading Parquet needs the Apache Arrow/Parquet C++ libraries, and this scitune was built without them: "
       "run scripts/fetch_pyarrow.sh, then configure and build again (cmake -S . -B build && cmake --build build)");
}

std::unique_ptr<RecordSource> open_parquet_source(const std::filesystem::path& path) {
  return open_parquet_source({}, path.string());
}

#else

namespace {

using json = nlohmann::json;

constexpr int kMaxDepth = 64;         // as for JSON records (io/json_limits.h)
constexpr int64_t kBatchRows = 1024;  // rows decoded at a time, within one row group

// A string that is not UTF-8, on its way out to the row: each level on the way prepends its part of the path.
struct BadUtf8 {
  size_t byte;
  std::string path;
};

std::string type_list() {
  return "string, large_string, integers, float, double, bool, null, struct, list, large_list, fixed_size_list "
         "and dictionary-encoded values of these";
}

// Every type in the schema must be one to_json() converts; checked once, at open, so that a row never fails
// for its column's type.
void check_type(const arrow::DataType& t, const std::string& column, int depth, const std::string& file) {
  if (depth > kMaxDepth)
    fail(file + ": column \"" + column + "\" nests deeper than " + std::to_string(kMaxDepth) + " levels");
  switch (t.id()) {
    case arrow::Type::NA:
    case arrow::Type::BOOL:
    case arrow::Type::INT8:
    case arrow::Type::INT16:
    case arrow::Type::INT32:
    case arrow::Type::INT64:
    case arrow::Type::UINT8:
    case arrow::Type::UINT16:
    case arrow::Type::UINT32:
    case arrow::Type::UINT64:
    case arrow::Type::FLOAT:
    case arrow::Type::DOUBLE:
    case arrow::Type::STRING:
    case arrow::Type::LARGE_STRING:
      return;
    case arrow::Type::LIST:
    case arrow::Type::LARGE_LIST:
    case arrow::Type::FIXED_SIZE_LIST:
      check_type(*t.field(0)->type(), column + "[]", depth + 1, file);
      return;
    case arrow::Type::STRUCT: {
      std::set<std::string> names;
      for (const auto& f : t.fields()) {
        if (!names.insert(f->name()).second)
          fail(file + ": column \"" + column + "\" has two fields named \"" + f->name() + "\" (a JSON object cannot)");
        check_type(*f->type(), column + "." + f->name(), depth + 1, file);
      }
      return;
    }
    case arrow::Type::DICTIONARY:
      check_type(*static_cast<const arrow::DictionaryType&>(t).value_type(), column, depth, file);
      return;
    default:
      fail(file + ": column \"" + column + "\" has type " + t.ToString() + ", which has no JSON equivalent here (" +
           type_list() + " are read)");
  }
}

// Arrow's messages may span lines ("...: \nDeserializing page header failed."); ours are one line.
std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  std::string out;
  for (char c : s)
    if (!(c == ' ' && (out.empty() || out.back() == ' '))) out += c;
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

std::string_view checked(std::string_view s) {
  if (const auto bad = tok::find_invalid_utf8(s)) throw BadUtf8{*bad, ""};
  return s;
}

json to_json(const arrow::Array& a, int64_t i);

template <class ListArray>
json list_to_json(const arrow::Array& a, int64_t i) {
  const auto& list = static_cast<const ListArray&>(a);
  const arrow::Array& values = *list.values();
  const int64_t begin = list.value_offset(i), n = list.value_length(i);
  json out = json::array();
  out.get_ref<json::array_t&>().reserve(size_t(n));
  for (int64_t k = 0; k < n; ++k) {
    try {
      out.push_back(to_json(values, begin + k));
    } catch (BadUtf8& e) {
      e.path = "[" + std::to_string(k) + "]" + e.path;
      throw;
    }
  }
  return out;
}

json to_json(const arrow::Array& a, int64_t i) {
  if (a.IsNull(i)) return nullptr;
  switch (a.type_id()) {
    case arrow::Type::NA:
      return nullptr;
    case arrow::Type::BOOL:
      return static_cast<const arrow::BooleanArray&>(a).Value(i);
    case arrow::Type::INT8:
      return static_cast<const arrow::Int8Array&>(a).Value(i);
    case arrow::Type::INT16:
      return static_cast<const arrow::Int16Array&>(a).Value(i);
    case arrow::Type::INT32:
      return static_cast<const arrow::Int32Array&>(a).Value(i);
    case arrow::Type::INT64:
      return static_cast<const arrow::Int64Array&>(a).Value(i);
    case arrow::Type::UINT8:
      return static_cast<const arrow::UInt8Array&>(a).Value(i);
    case arrow::Type::UINT16:
      return static_cast<const arrow::UInt16Array&>(a).Value(i);
    case arrow::Type::UINT32:
      return static_cast<const arrow::UInt32Array&>(a).Value(i);
    case arrow::Type::UINT64:
      return static_cast<const arrow::UInt64Array&>(a).Value(i);
    case arrow::Type::FLOAT:
    case arrow::Type::DOUBLE: {
      const double v = a.type_id() == arrow::Type::FLOAT ? static_cast<const arrow::FloatArray&>(a).Value(i)
                                                         : static_cast<const arrow::DoubleArray&>(a).Value(i);
      if (!std::isfinite(v)) return nullptr;  // JSON has no NaN or infinity (pandas' to_json writes null)
      return v;
    }
    case arrow::Type::STRING:
      return checked(static_cast<const arrow::StringArray&>(a).GetView(i));
    case arrow::Type::LARGE_STRING:
      return checked(static_cast<const arrow::LargeStringArray&>(a).GetView(i));
    case arrow::Type::LIST:
      return list_to_json<arrow::ListArray>(a, i);
    case arrow::Type::LARGE_LIST:
      return list_to_json<arrow::LargeListArray>(a, i);
    case arrow::Type::FIXED_SIZE_LIST:
      return list_to_json<arrow::FixedSizeListArray>(a, i);
    case arrow::Type::STRUCT: {
      const auto& s = static_cast<const arrow::StructArray&>(a);
      const auto& fields = s.struct_type()->fields();
      json out = json::object();
      for (int f = 0; f < s.num_fields(); ++f) {
        try {
          out[fields[size_t(f)]->name()] = to_json(*s.field(f), i);
        } catch (BadUtf8& e) {
          e.path = "." + fields[size_t(f)]->name() + e.path;
          throw;
        }
      }
      return out;
    }
    case arrow::Type::DICTIONARY: {
      const auto& d = static_cast<const arrow::DictionaryArray&>(a);
      return to_json(*d.dictionary(), d.GetValueIndex(i));
    }
    default:
      SCITUNE_CHECK(false, "Parquet column type " + a.type()->ToString() + " passed check_type");
  }
}

class ParquetSource : public RecordSource {
 public:
  // `file` null: open `name` from disk.
  ParquetSource(std::shared_ptr<arrow::io::RandomAccessFile> file, std::string name) : name_(std::move(name)) {
    guard("cannot open it as Parquet", [&] {
      parquet::arrow::FileReaderBuilder builder;
      check(file ? builder.Open(std::move(file)) : builder.OpenFile(name_, /*memory_map=*/false),
            "cannot open it as Parquet");
      parquet::ArrowReaderProperties props;
      props.set_batch_size(kBatchRows);
      props.set_use_threads(false);
      builder.properties(props);
      auto reader = builder.Build();
      check(reader.status(), "cannot open it as Parquet");
      reader_ = std::move(*reader);
      check(reader_->GetSchema(&schema_), "cannot read its schema");
    });
    std::set<std::string> names;
    for (const auto& f : schema_->fields()) {
      if (!names.insert(f->name()).second) fail(name_ + ": two columns are named \"" + f->name() + "\"");
      check_type(*f->type(), f->name(), 1, name_);
    }
    groups_ = reader_->num_row_groups();
  }

  std::string_view format() const override { return "parquet"; }

  std::optional<RawRecord> next() override {
    while (!batch_ || row_ >= batch_->num_rows())
      if (!next_batch()) return std::nullopt;
    RawRecord r;
    const int64_t i = row_++;
    r.where = name_ + ":row " + std::to_string(batch_base_ + i);
    json obj = json::object();
    for (size_t c = 0; c < columns_.size(); ++c) {
      const std::string& col = names_[c];
      try {
        obj[col] = to_json(*columns_[c], i);
      } catch (BadUtf8& e) {
        r.reject = Reject{"invalid UTF-8", r.where + ": column \"" + col + e.path + "\": invalid UTF-8 at byte " +
                                               std::to_string(e.byte + 1) + " of the string"};
        return r;
      }
    }
    r.value = std::move(obj);
    return r;
  }

 private:
  // The next batch of rows, from this row group or the next one; false after the last.
  bool next_batch() {
    if (batch_) batch_base_ += batch_->num_rows();
    batch_.reset();
    columns_.clear();
    row_ = 0;
    while (true) {
      if (!batches_) {
        if (group_ >= groups_) return false;
        const std::string what = "cannot read row group " + std::to_string(group_);
        guard(what, [&] {
          auto r = reader_->GetRecordBatchReader({group_});
          check(r.status(), what);
          batches_ = std::move(*r);
        });
        ++group_;
      }
      std::shared_ptr<arrow::RecordBatch> batch;
      guard("cannot read row group " + std::to_string(group_ - 1),
            [&] { check(batches_->ReadNext(&batch), "cannot read row group " + std::to_string(group_ - 1)); });
      if (!batch) {
        batches_.reset();
        continue;
      }
      if (batch->num_rows() == 0) continue;
      // The batch's own types are the ones converted: checked like the file's schema, and its buffers sized
      // right (cheap: no pass over the values), so that a damaged file is an error and not a bad read.
      check(batch->Validate(), "row group " + std::to_string(group_ - 1) + " is damaged");
      if (batch->num_columns() != schema_->num_fields())
        fail(name_ + ": row group " + std::to_string(group_ - 1) + " has " + std::to_string(batch->num_columns()) +
             " columns, the schema " + std::to_string(schema_->num_fields()));
      for (const auto& f : batch->schema()->fields()) check_type(*f->type(), f->name(), 1, name_);
      batch_ = std::move(batch);
      names_.clear();
      for (int c = 0; c < batch_->num_columns(); ++c) {
        columns_.push_back(batch_->column(c));
        names_.push_back(batch_->schema()->field(c)->name());
      }
      return true;
    }
  }

  void check(const arrow::Status& s, const std::string& what) const {
    if (!s.ok()) fail(name_ + ": " + what + ": " + one_line(s.ToString()));
  }
  // Arrow reports most problems as a Status, but the Parquet layer below it may throw.
  template <class F>
  void guard(const std::string& what, F&& f) const {
    try {
      f();
    } catch (const Error&) {
      throw;
    } catch (const std::exception& e) {
      fail(name_ + ": " + what + ": " + one_line(e.what()));
    }
  }

  std::string name_;
  std::unique_ptr<parquet::arrow::FileReader> reader_;
  std::shared_ptr<arrow::Schema> schema_;
  int groups_ = 0, group_ = 0;
  std::unique_ptr<arrow::RecordBatchReader> batches_;  // of the current row group
  std::shared_ptr<arrow::RecordBatch> batch_;
  std::vector<std::shared_ptr<arrow::Array>> columns_;
  std::vector<std::string> names_;  // of columns_
  int64_t row_ = 0;                 // next row within batch_
  int64_t batch_base_ = 0;          // the file's row index of batch_'s first row
};

}  // namespace

bool parquet_available() { return true; }

std::unique_ptr<RecordSource> open_parquet_source(const std::filesystem::path& path) {
  return std::make_unique<ParquetSource>(nullptr, path.string());
}

std::unique_ptr<RecordSource> open_parquet_source(std::span<const uint8_t> bytes, const std::string& name) {
  // A non-owning buffer over the caller's bytes: no copy.
  auto buffer = std::make_shared<arrow::Buffer>(bytes.data(), int64_t(bytes.size()));
  return std::make_unique<ParquetSource>(std::make_shared<arrow::io::BufferReader>(std::move(buffer)), name);
}

#endif

}  // namespace scitune
