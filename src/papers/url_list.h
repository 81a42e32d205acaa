// What to fetch, from the user: a URL list file (one http(s) URL or arXiv id per line, # comments, blank
// lines) and arXiv ids. A bad line is a message naming file:line, and the good lines are still returned, so one
// typo does not cost the whole batch.
#pragma once
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "papers/arxiv.h"
#include "papers/fetch.h"

namespace scitune {

// "" when `url` is an absolute http:// or https:// URL with a host and no spaces; else why not.
std::string url_problem(std::string_view url);

// The item for an arXiv id: its PDF at `arxiv_base`/pdf/ID, saved as arxiv_file_name(id).
FetchItem arxiv_item(const ArxivId& id, std::string_view arxiv_base, std::string where);

struct UrlList {
  std::vector<FetchItem> items;
  std::vector<std::string> errors;  // "urls.txt:3: \"ftp://x\": ..." per bad line
};

// UserError only when the file cannot be read at all.
UrlList read_url_list(const std::filesystem::path& file, std::string_view arxiv_base = "https://arxiv.org");

}  // namespace scitune
