#include "papers/arxiv.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace scitune {

namespace {

// The archives of the old scheme (arXiv's "Understanding the arXiv identifier"); newer archives (q-fin, stat,
// eess, econ) only ever had new-style ids.
constexpr std::array<std::string_view, 34> kOldArchives = {
    "acc-phys", "adap-org", "alg-geom", "ao-sci",  "astro-ph", "atom-ph",  "bayes-an", "chao-dyn", "chem-ph",
    "cmp-lg",   "comp-gas", "cond-mat", "cs",      "dg-ga",    "funct-an", "gr-qc",    "hep-ex",   "hep-lat",
    "hep-ph",   "hep-th",   "math",     "math-ph", "mtrl-th",  "nlin",     "nucl-ex",  "nucl-th",  "patt-sol",
    "physics",  "plasm-ph", "q-alg",    "q-bio",   "quant-ph", "solv-int", "supr-con"};

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

int two_digits(std::string_view s) { return (s[0] - '0') * 10 + (s[1] - '0'); }

std::optional<ArxivId> reject(std::string* why, std::string reason) {
  if (why) *why = std::move(reason);
  return std::nullopt;
}

// "v2" -> ok; "" -> ok (no version); anything else -> reason.
bool split_version(std::string_view& rest, std::string& version, std::string* why) {
  const size_t v = rest.find('v');
  if (v == std::string_view::npos) return true;
  const std::string_view digits = rest.substr(v + 1);
  if (!all_digits(digits) || digits[0] == '0' || digits.size() > 3) {
    if (why) *why = "version \"" + std::string(rest.substr(v)) + "\" is not v1, v2, ...";
    return false;
  }
  version = std::string(rest.substr(v));
  rest = rest.substr(0, v);
  return true;
}

}  // namespace

std::optional<ArxivId> parse_arxiv_id(std::string_view text, std::string* why) {
  std::string_view s = text;
  if (s.size() >= 6) {
    std::string prefix(s.substr(0, 6));
    std::transform(prefix.begin(), prefix.end(), prefix.begin(), [](unsigned char c) { return std::tolower(c); });
    if (prefix == "arxiv:") s.remove_prefix(6);
  }
  if (s.empty()) return reject(why, "empty id");
  ArxivId out;
  const size_t slash = s.find('/');
  if (slash == std::string_view::npos) {  // new scheme: YYMM.NNNN (2007-2014) or YYMM.NNNNN (2015 on)
    std::string_view rest = s;
    if (!split_version(rest, out.version, why)) return std::nullopt;
    const size_t dot = rest.find('.');
    if (dot != 4 || !all_digits(rest.substr(0, 4)) || !all_digits(rest.substr(5)))
      return reject(why, "expected YYMM.NNNNN[vN] (2101.01234v2) or archive/YYMMNNN[vN] (hep-th/9901001)");
    const std::string_view number = rest.substr(5);
    const int yy = two_digits(rest), mm = two_digits(rest.substr(2)), yymm = yy * 100 + mm;
    if (mm < 1 || mm > 12) return reject(why, "month " + std::string(rest.substr(2, 2)) + " is not 01-12");
    if (yymm < 704) return reject(why, "new-style ids start at 0704 (April 2007); older papers are archive/YYMMNNN");
    if (number.size() == 4 && yymm > 1412) return reject(why, "ids from 1501 on have a 5-digit number (YYMM.NNNNN)");
    if (number.size() == 5 && yymm < 1501) return reject(why, "ids before 1501 have a 4-digit number (YYMM.NNNN)");
    if (number.size() != 4 && number.size() != 5) return reject(why, "the number after the dot has 4 or 5 digits");
    if (std::all_of(number.begin(), number.end(), [](char c) { return c == '0'; }))
      return reject(why, "paper number 0 does not exist");
    out.id = std::string(rest) + out.version;
    return out;
  }
  // Old scheme: archive[.SUBJECT]/YYMMNNN. The subject class is not part of the canonical id, so it is dropped.
  out.old_style = true;
  std::string_view archive = s.substr(0, slash), rest = s.substr(slash + 1);
  if (const size_t dot = archive.find('.'); dot != std::string_view::npos) archive = archive.substr(0, dot);
  if (std::find(kOldArchives.begin(), kOldArchives.end(), archive) == kOldArchives.end())
    return reject(why,
                  "\"" + std::string(archive) + "\" is not an arXiv archive of old-style ids (hep-th, math, cs, ...)");
  if (!split_version(rest, out.version, why)) return std::nullopt;
  if (rest.size() != 7 || !all_digits(rest)) return reject(why, "expected archive/YYMMNNN[vN], e.g. hep-th/9901001");
  const int yy = two_digits(rest), mm = two_digits(rest.substr(2));
  if (mm < 1 || mm > 12) return reject(why, "month " + std::string(rest.substr(2, 2)) + " is not 01-12");
  const int year = yy >= 91 ? 1900 + yy : 2000 + yy, yyyymm = year * 100 + mm;
  if (yyyymm < 199108 || yyyymm > 200703)
    return reject(why, "old-style ids run from 9108 to 0703; later papers are YYMM.NNNNN");
  if (rest.substr(4) == "000") return reject(why, "paper number 000 does not exist");
  out.id = std::string(archive) + "/" + std::string(rest) + out.version;
  return out;
}

std::string arxiv_pdf_url(const ArxivId& id, std::string_view base) {
  std::string b(base);
  while (!b.empty() && b.back() == '/') b.pop_back();
  return b + "/pdf/" + id.id;
}

std::string arxiv_file_name(const ArxivId& id) {
  std::string name = id.id;
  std::replace(name.begin(), name.end(), '/', '_');
  return name + ".pdf";
}

}  // namespace scitune
