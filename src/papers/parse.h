// `scitune papers parse` without the CLI: a PDF file -> PaperDocument (pdf_text -> clean_text -> sections), and a
// batch of files on a pool of threads. A bad file is a record whose status says why (encrypted, no text layer,
// malformed, truncated, unreadable) with its problems; nothing here throws for one file's content.
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "papers/corpus.h"
#include "papers/pdf_text.h"

namespace scitune {

struct ParseOptions {
  bool drop_references = false;  // leave the reference list out of the text
  int jobs = 0;                  // threads across files; 0 = hardware threads
  PdfReadOptions read;
};

// One PDF already in memory; `file` is recorded as the path.
PaperDocument parse_pdf_bytes(std::span<const uint8_t> bytes, const std::string& file, const ParseOptions& options);

// One PDF on disk (memory-mapped). A file that cannot be read gives status "unreadable".
PaperDocument parse_pdf_file(const std::filesystem::path& path, const ParseOptions& options);

// Many files, options.jobs at a time; results in input order. on_done (optional) is called once per file as it
// finishes, from one thread at a time, with the index of the file in `paths`.
std::vector<PaperDocument> parse_pdf_files(const std::vector<std::filesystem::path>& paths, const ParseOptions& options,
                                           const std::function<void(size_t, const PaperDocument&)>& on_done = {});

// Command-line inputs -> PDF paths: a file as given, a folder searched recursively for *.pdf (any case), each
// folder's files sorted, duplicates dropped. UserError for a path that does not exist or a folder without PDFs.
std::vector<std::filesystem::path> collect_pdf_inputs(const std::vector<std::string>& inputs);

// The first page's most prominent lines (largest type in the top part of the page): the title when the
// metadata has none or only a file name.
std::string title_from_first_page(const PdfPage& page);

// Whether a metadata title is a real title (not empty, not "Microsoft Word - x.docx", not a file name).
bool plausible_title(const std::string& title);

}  // namespace scitune
