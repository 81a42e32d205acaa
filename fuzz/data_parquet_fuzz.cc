// libFuzzer target for the Parquet reader (data/parquet_source.h): bytes as a .parquet file. Opening and
// reading must end in records, rejects or a UserError (Arrow's own errors included), never a crash; every
// record is named "fuzz.parquet:row <n>" with n counting up from 0, every reject starts with its name, and a
// record's layout validation throws nothing but RecordReject. Without Arrow in the build, every input is the
// one UserError saying how to enable Parquet.
#include <cstdint>
#include <span>
#include <string>

#include "data/layouts.h"
#include "data/parquet_source.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace scitune;
  try {
    auto src = open_parquet_source(std::span<const uint8_t>(data, size), "fuzz.parquet");
    int64_t n = 0;
    while (auto rec = src->next()) {
      if (rec->where != "fuzz.parquet:row " + std::to_string(n)) __builtin_trap();
      if (++n > 100000) break;
      if (rec->reject) {
        if (rec->reject->message.rfind(rec->where + ": ", 0) != 0 || rec->reject->kind.empty()) __builtin_trap();
        continue;
      }
      if (!rec->value.is_object()) __builtin_trap();
      if (const auto layout = detect_layout(rec->value)) {
        try {
          (void)record_content(rec->value, *layout, {}, rec->where);
        } catch (const RecordReject& e) {
          if (std::string(e.what()).rfind(rec->where + ": ", 0) != 0) __builtin_trap();
        }
      }
    }
  } catch (const UserError& e) {
    if (std::string(e.what()).rfind("fuzz.parquet: ", 0) != 0) __builtin_trap();
  }
  return 0;
}
