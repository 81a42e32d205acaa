#include "papers/parse.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <mutex>
#include <numeric>
#include <set>
#include <thread>

#include "papers/clean_text.h"
#include "papers/sections.h"
#include "util/error.h"
#include "util/mapped_file.h"
#include "util/sha256.h"

namespace scitune {

namespace {

std::string lower_ascii(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

bool plausible_title(const std::string& title) {
  const std::string t = lower_ascii(title);
  if (std::count_if(t.begin(), t.end(), [](char c) { return std::isalpha(static_cast<unsigned char>(c)); }) < 3)
    return false;
  for (const char* ext : {".pdf", ".dvi", ".tex", ".doc", ".docx", ".ps", ".odt", ".rtf", ".indd", ".qxd"})
    if (ends_with(t, ext)) return false;
  for (const char* junk : {"microsoft word", "untitled", "title", "no title", "layout 1", "powerpoint presentation"})
    if (t == junk || t.rfind(std::string(junk) + " - ", 0) == 0) return false;
  return true;
}

std::string title_from_first_page(const PdfPage& page) {
  // Lines in the top 40% of the page with at least three letters; the title is the first run of lines in the
  // largest type there (up to four, at most 1.8 em apart). When nothing is larger than the body, the first line.
  const double limit = page.height > 0 ? 0.4 * page.height : 1e300;
  std::vector<std::string> texts(page.lines.size());
  std::vector<double> sizes;
  double best = 0;
  for (size_t i = 0; i < page.lines.size(); ++i) {
    const PdfLine& l = page.lines[i];
    sizes.push_back(l.font_size);
    texts[i] = clean_line(l.text);
    const auto letters = std::count_if(texts[i].begin(), texts[i].end(),
                                       [](char c) { return std::isalpha(static_cast<unsigned char>(c)); });
    if (l.y0 > limit || letters < 3 || texts[i].size() > 300) texts[i].clear();
    if (!texts[i].empty()) best = std::max(best, l.font_size);
  }
  if (best <= 0) return "";
  std::nth_element(sizes.begin(), sizes.begin() + static_cast<std::ptrdiff_t>(sizes.size() / 2), sizes.end());
  const bool larger = best >= 1.1 * sizes[sizes.size() / 2];
  std::string title;
  const PdfLine* prev = nullptr;
  int taken = 0;
  for (size_t i = 0; i < page.lines.size() && taken < (larger ? 4 : 1); ++i) {
    const PdfLine& l = page.lines[i];
    const bool big = !texts[i].empty() && l.font_size >= best * 0.95;
    if (big && (!prev || l.y0 - prev->y1 < 1.8 * l.font_size)) {
      if (!title.empty()) title += ' ';
      title += texts[i];
      prev = &l;
      ++taken;
    } else if (prev && !texts[i].empty()) {
      break;  // the title is one run of lines
    }
  }
  if (title.size() > 300) title.resize(300);
  return to_nfc(title);  // resize may cut a character: re-validate
}

PaperDocument parse_pdf_bytes(std::span<const uint8_t> bytes, const std::string& file, const ParseOptions& options) {
  PaperDocument d;
  d.file = to_nfc(file);
  d.sha256 = sha256_hex(bytes);
  d.id = d.sha256.substr(0, 16);
  try {
    PdfText t = read_pdf_text(bytes, options.read);
    d.status = t.status;
    for (const std::string& p : t.problems) d.problems.push_back(to_nfc(p));
    d.title = clean_line(t.title);
    d.authors = clean_line(t.author);
    d.date = t.date;
    d.pages = static_cast<int64_t>(t.pages.size());
    if (!t.pages.empty() && !plausible_title(d.title)) {
      const std::string fallback = title_from_first_page(t.pages[0]);
      if (!fallback.empty()) d.title = fallback;
    }
    CleanStats stats;
    const std::vector<Paragraph> paras = clean_pages(t.pages, &stats);
    AssembledText a = assemble_text(paras, d.pages, options.drop_references);
    d.text = std::move(a.text);
    d.page_offsets = std::move(a.page_offsets);
    d.sections = std::move(a.sections);
  } catch (const std::exception& e) {
    // poppler or ICU ran out of memory or met something unexpected: this file's record says so, the batch goes on.
    d.status = "malformed";
    d.problems.push_back(to_nfc(std::string("could not be read: ") + e.what()));
    d.text.clear();
    d.sections.clear();
    d.page_offsets.assign(static_cast<size_t>(std::max<int64_t>(d.pages, 0)), 0);
  }
  return d;
}

PaperDocument parse_pdf_file(const std::filesystem::path& path, const ParseOptions& options) {
  MappedFile f;
  try {
    f = MappedFile(path);
  } catch (const std::exception& e) {
    PaperDocument d;
    d.file = to_nfc(path.string());
    d.status = "unreadable";
    d.problems.push_back(to_nfc(e.what()));
    return d;
  }
  return parse_pdf_bytes(f.bytes(), path.string(), options);
}

std::vector<PaperDocument> parse_pdf_files(const std::vector<std::filesystem::path>& paths, const ParseOptions& options,
                                           const std::function<void(size_t, const PaperDocument&)>& on_done) {
  std::vector<PaperDocument> docs(paths.size());
  const unsigned hw = std::max(1u, std::thread::hardware_concurrency());
  const size_t jobs = std::min<size_t>(paths.size(), options.jobs > 0 ? static_cast<size_t>(options.jobs) : hw);
  // Largest files first when several run at once: a big file picked up last would leave the other workers idle
  // at the end (longest-processing-time-first scheduling; file size stands in for the time).
  std::vector<size_t> order(paths.size());
  std::iota(order.begin(), order.end(), size_t{0});
  if (jobs > 1) {
    std::vector<uintmax_t> size(paths.size(), 0);
    for (size_t i = 0; i < paths.size(); ++i) {
      std::error_code ec;
      size[i] = std::filesystem::file_size(paths[i], ec);
      if (ec) size[i] = 0;
    }
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return size[a] > size[b]; });
  }
  std::atomic<size_t> next{0};
  std::mutex done_mu;
  auto work = [&] {
    for (size_t k = next++; k < paths.size(); k = next++) {
      const size_t i = order[k];
      docs[i] = parse_pdf_file(paths[i], options);
      if (on_done) {
        std::lock_guard<std::mutex> lock(done_mu);
        on_done(i, docs[i]);
      }
    }
  };
  if (jobs <= 1) {
    work();
    return docs;
  }
  std::vector<std::jthread> pool;
  for (size_t j = 0; j < jobs; ++j) pool.emplace_back(work);
  pool.clear();  // joins
  return docs;
}

std::vector<std::filesystem::path> collect_pdf_inputs(const std::vector<std::string>& inputs) {
  namespace fs = std::filesystem;
  std::vector<fs::path> out;
  std::set<fs::path> seen;
  auto add = [&](const fs::path& p) {
    std::error_code ec;
    const fs::path key = fs::weakly_canonical(p, ec);
    if (seen.insert(ec ? p : key).second) out.push_back(p);
  };
  for (const std::string& in : inputs) {
    std::error_code ec;
    const fs::file_status st = fs::status(in, ec);
    if (ec || !fs::exists(st)) fail(in + ": no such file or folder (expected PDF files or folders of them)");
    if (!fs::is_directory(st)) {
      add(in);
      continue;
    }
    std::vector<fs::path> found;
    for (auto it = fs::recursive_directory_iterator(in, fs::directory_options::skip_permission_denied, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (!it->is_regular_file(ec)) continue;
      if (lower_ascii(it->path().extension().string()) == ".pdf") found.push_back(it->path());
    }
    if (ec) fail(in + ": cannot list the folder: " + ec.message());
    if (found.empty()) fail(in + ": no *.pdf files in this folder");
    std::sort(found.begin(), found.end());
    for (const auto& f : found) add(f);
  }
  return out;
}

}  // namespace scitune
