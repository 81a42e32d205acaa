// libFuzzer target for the PDF loading path of `papers parse` (poppler, layout, cleaning, sections). Any input
// must give a record, never an exception: one that the corpus writer and reader accept as it is (valid UTF-8,
// page offsets increasing inside the text, sections inside the text, a reason for every failure).
#include <cstdint>
#include <span>

#include "papers/corpus.h"
#include "papers/parse.h"

// fontconfig (poppler's font lookup) keeps its configuration for the life of the process and LeakSanitizer
// reports it at exit: not a leak per input, and not ours.
extern "C" const char* __lsan_default_suppressions() { return "leak:libfontconfig.so\n"; }

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace scitune;
  ParseOptions o;
  o.read.max_pages = 8;  // keeps each input fast; the page loop is the same for page 9 and page 9000
  o.read.max_words_per_page = 20000;
  o.drop_references = size % 2 == 1;
  const PaperDocument d = parse_pdf_bytes(std::span<const uint8_t>(data, size), "fuzz.pdf", o);
  if (static_cast<int64_t>(d.page_offsets.size()) != d.pages) __builtin_trap();
  if (!d.ok() && d.problems.empty()) __builtin_trap();
  if (d.id.size() != 16) __builtin_trap();
  try {
    const PaperDocument back = paper_from_json(nlohmann::json::parse(to_json(d).dump()), "fuzz");
    if (back.text != d.text) __builtin_trap();
  } catch (...) {
    __builtin_trap();  // our own record must always be valid
  }
  return 0;
}
