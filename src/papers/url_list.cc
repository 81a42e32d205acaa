#include "papers/url_list.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <fstream>

#include "util/error.h"

namespace scitune {

namespace {

constexpr size_t kMaxLine = 8192;

// The text of a bad line as it goes into a message: quoted, cut short when long.
std::string quoted(std::string_view s) {
  std::string out;
  for (unsigned char c : s.substr(0, 80)) out += c < 0x20 || c == 0x7f ? '?' : static_cast<char>(c);
  return "\"" + out + (s.size() > 80 ? "...\"" : "\"");
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  return true;
}

// Meant as an arXiv id (so its error should say what is wrong with the id): "arXiv:...", "2101.0123",
// "hep-th/99...".
bool looks_like_arxiv(std::string_view s) {
  if (starts_with_ci(s, "arxiv:") || std::isdigit(static_cast<unsigned char>(s[0]))) return true;
  const size_t slash = s.find('/');
  return slash != s.npos && slash + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[slash + 1]));
}

}  // namespace

std::string url_problem(std::string_view url) {
  if (url.empty()) return "empty URL";
  if (std::any_of(url.begin(), url.end(), [](unsigned char c) { return c <= 0x20 || c == 0x7f; }))
    return "contains a space or control character (one URL per line)";
  CURLU* u = curl_url();
  if (!u) return "out of memory";
  std::string problem;
  const std::string s(url);
  if (const CURLUcode rc = curl_url_set(u, CURLUPART_URL, s.c_str(), CURLU_NON_SUPPORT_SCHEME); rc != CURLUE_OK) {
    problem = std::string("not a valid URL (") + curl_url_strerror(rc) + ")";
  } else {
    char* scheme = nullptr;
    char* host = nullptr;
    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
    const bool has_host = curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && host && *host;
    const std::string sch = scheme ? scheme : "";
    if (sch != "http" && sch != "https")
      problem = "scheme \"" + sch + "\" is not supported (expected http:// or https://)";
    else if (!has_host)
      problem = "no host";
    curl_free(scheme);
    curl_free(host);
  }
  curl_url_cleanup(u);
  return problem;
}

FetchItem arxiv_item(const ArxivId& id, std::string_view arxiv_base, std::string where) {
  return {arxiv_pdf_url(id, arxiv_base), arxiv_file_name(id), id.id, std::move(where)};
}

UrlList read_url_list(const std::filesystem::path& file, std::string_view arxiv_base) {
  std::ifstream in(file, std::ios::binary);
  if (!in) fail(file.string() + ": cannot open (expected a text file with one URL per line)");
  UrlList list;
  std::string raw;
  for (int64_t n = 1; std::getline(in, raw); ++n) {
    const std::string where = file.string() + ":" + std::to_string(n);
    if (raw.size() > kMaxLine) {
      list.errors.push_back(where + ": line longer than " + std::to_string(kMaxLine) + " bytes");
      continue;
    }
    std::string_view line = trim(raw);
    // A comment runs from '#' at the start or after a blank; a '#' inside a URL is its fragment.
    for (size_t i = 0; i < line.size(); ++i)
      if (line[i] == '#' && (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t')) {
        line = trim(line.substr(0, i));
        break;
      }
    if (line.empty()) continue;
    if (starts_with_ci(line, "http://") || starts_with_ci(line, "https://") || line.find("://") != line.npos) {
      if (const std::string why = url_problem(line); !why.empty()) {
        list.errors.push_back(where + ": " + quoted(line) + ": " + why);
        continue;
      }
      list.items.push_back({std::string(line), "", "", where});
      continue;
    }
    std::string why;
    if (const auto id = parse_arxiv_id(line, &why)) {
      list.items.push_back(arxiv_item(*id, arxiv_base, where));
    } else if (looks_like_arxiv(line)) {
      list.errors.push_back(where + ": " + quoted(line) + ": not an arXiv id: " + why);
    } else {
      list.errors.push_back(where + ": " + quoted(line) + ": expected an http:// or https:// URL or an arXiv id" +
                            (line.find('.') != line.npos && line.find(' ') == line.npos ? " (missing https://?)" : ""));
    }
  }
  return list;
}

}  // namespace scitune
