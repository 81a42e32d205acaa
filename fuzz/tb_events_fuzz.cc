// libFuzzer target: TensorBoard event files (TFRecord framing with masked CRC-32C, Event protos) from bytes.
// Bad input must end in UserError; a stream that reads must give back the same records when re-framed.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "train/tb_event_writer.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    const scitune::TfRecords r = scitune::read_tf_records(bytes, "fuzz.tfevents");
    std::string again;
    for (const std::string& rec : r.records) again += scitune::tf_record(rec);
    if (bytes.substr(0, again.size()) != again) __builtin_trap();
    (void)scitune::parse_tb_events(bytes, "fuzz.tfevents");
  } catch (const scitune::UserError&) {
  }
  return 0;
}
