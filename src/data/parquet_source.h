// Parquet datasets (as Hugging Face publishes them: OS_Train_Data, SciRIFF-train-mix) as records: each row
// becomes the JSON object the same record would be in JSON lines, so layouts, validation and tokenisation do
// not know which format a record came from. Read through Apache Arrow/Parquet C++ (the pyarrow wheel's
// libraries, scripts/fetch_pyarrow.sh), one row group at a time in batches of rows, never the whole file.
//
// Columns -> JSON: string/large_string -> string (checked to be UTF-8), integers -> numbers, float/double ->
// numbers, bool, null -> null, struct -> object (field order kept), list/large_list/fixed_size_list -> array,
// dictionary-encoded values (pandas categoricals) -> their value; a null value of any type -> null. So
// `messages: list<struct<role: string, content: string>>` becomes [{"content": ..., "role": ...}, ...].
// Another type anywhere in the schema (binary, timestamp, map, ...), a struct with a repeated field name or
// nesting deeper than 64 is a UserError at open naming the file and the column path ("meta.when: timestamp").
// A record's `where` is "<file>:row <n>", n counted from 0 over the whole file (as pyarrow and pandas count);
// a row with a string that is not UTF-8 comes back as a Reject naming the column, and reading goes on. A
// file that is not Parquet, or is corrupt, truncated or unreadable, is a UserError naming it.
#pragma once
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>

#include "data/record_source.h"

namespace scitune {

// Whether this build reads Parquet (it was configured with the pyarrow wheel's libraries present).
bool parquet_available();

// `path` names the file in every message as given. Without Parquet support: a UserError naming the file and
// how to enable it.
std::unique_ptr<RecordSource> open_parquet_source(const std::filesystem::path& path);
// The same over a whole file in memory (it must outlive the source); `name` stands for the file in messages.
std::unique_ptr<RecordSource> open_parquet_source(std::span<const uint8_t> bytes, const std::string& name);

}  // namespace scitune
