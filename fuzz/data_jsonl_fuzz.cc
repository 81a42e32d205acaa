// libFuzzer target for the data readers and layouts: bytes as a data file (JSON lines or a JSON array, plain,
// gzip or zstd by magic). Reading must end in records, rejects or a UserError; every reject names its record
// ("fuzz.jsonl:<line>: ..."); a record that passes a layout's validation must render with the chat template
// without an error (the validation checks everything the template would refuse).
#include <cstdint>
#include <span>
#include <string>

#include "data/layouts.h"
#include "data/record_source.h"
#include "tokenizer/chat_template.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace scitune;
  ReaderLimits limits;
  limits.max_record_bytes = 1 << 16;
  try {
    auto src = open_record_source(std::span<const uint8_t>(data, size), "fuzz.jsonl", limits);
    int n = 0;
    while (auto rec = src->next()) {
      if (++n > 10000) break;
      if (rec->where.rfind("fuzz.jsonl:", 0) != 0) __builtin_trap();
      if (rec->reject) {
        if (rec->reject->message.rfind(rec->where + ": ", 0) != 0 || rec->reject->kind.empty()) __builtin_trap();
        continue;
      }
      if (!rec->value.is_object()) __builtin_trap();
      const auto layout = detect_layout(rec->value);
      for (Layout l : {Layout::kMessages, Layout::kShareGpt, Layout::kAlpaca, Layout::kSciriff,
                       Layout::kPromptCompletion, Layout::kText, Layout::kTokens}) {
        if (layout && l != *layout && (n % 2)) continue;  // mostly the detected layout, sometimes all
        for (ChatFormat f : {ChatFormat::kGemma3, ChatFormat::kGemma4}) {
          RecordContent c;
          try {
            c = record_content(rec->value, l, {f, bool(n % 3 == 0)}, rec->where);
          } catch (const RecordReject& e) {
            if (std::string(e.what()).rfind(rec->where + ": ", 0) != 0) __builtin_trap();
            continue;
          }
          if (c.kind == RecordContent::Kind::kChat) {
            try {
              const std::string text = render_chat(f, c.messages, {}, "<bos>");
              if (text.rfind("<bos>", 0) != 0) __builtin_trap();
            } catch (const UserError&) {
              __builtin_trap();  // validation let through something the template refuses
            }
          }
          if (c.kind == RecordContent::Kind::kTokens && !c.labels.empty() && c.labels.size() != c.ids.size())
            __builtin_trap();
        }
      }
    }
  } catch (const UserError&) {
  }
  return 0;
}
