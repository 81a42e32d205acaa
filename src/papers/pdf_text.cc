#include "papers/pdf_text.h"

#include <poppler-document.h>
#include <poppler-global.h>
#include <poppler-page.h>
// poppler's core API (Debian: libpoppler-private-dev), for the word boxes with their fonts.
#include <PDFDoc.h>
#include <Stream.h>
#include <TextOutputDev.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <ctime>
#include <memory>
#include <mutex>
#include <string_view>

#include "tokenizer/utf8.h"

namespace scitune {

namespace {

// poppler reports syntax errors through one process-wide callback; each file is read on one thread, so a
// thread-local sink gives every file its own messages.
struct ErrorSink {
  int64_t count = 0;
  std::string first;
};
thread_local ErrorSink* t_sink = nullptr;

void on_poppler_error(const std::string& msg, void*) {
  if (!t_sink) return;
  if (t_sink->count++ > 0) return;
  // poppler-cpp hands over "error: <what>" followed by the same text with its category; keep <what> once.
  std::string m = msg.rfind("error: ", 0) == 0 ? msg.substr(7) : msg;
  for (const char* dup : {"Syntax Error", "Syntax Warning", "Internal Error", "Config Error", "I/O Error"})
    if (const size_t at = m.find(dup); at != std::string::npos && at > 0) m.resize(at);
  while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
  t_sink->first = m.substr(0, 200);
}

void install_error_sink() {
  static std::once_flag once;
  std::call_once(once, [] { poppler::set_debug_error_function(on_poppler_error, nullptr); });
}

struct SinkScope {
  ErrorSink sink;
  SinkScope() { t_sink = &sink; }
  ~SinkScope() { t_sink = nullptr; }
};

// One code point from poppler: NULs dropped, what UTF-8 cannot hold (surrogates, > U+10FFFF) as U+FFFD.
void append_utf8(std::string& out, uint32_t c) {
  if (c == 0) return;
  if (c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) c = 0xFFFD;
  tok::append_utf8(out, static_cast<char32_t>(c));
}

// UTF-16 -> UTF-8 here rather than ustring::to_utf8(), which opens an iconv converter on every call. Lone
// surrogates become U+FFFD.
std::string utf8(const poppler::ustring& s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    uint32_t c = s[i];
    if (c >= 0xD800 && c <= 0xDBFF && i + 1 < s.size() && s[i + 1] >= 0xDC00 && s[i + 1] <= 0xDFFF) {
      c = 0x10000 + ((c - 0xD800) << 10) + (s[i + 1] - 0xDC00);
      ++i;
    }
    append_utf8(out, c);
  }
  return out;
}

// A TextWord's characters (UCS-4) -> UTF-8.
std::string utf8(const Unicode* chars, int n) {
  std::string out;
  out.reserve(static_cast<size_t>(std::max(n, 0)));
  for (int i = 0; i < n; ++i) append_utf8(out, chars[i]);
  return out;
}

bool contains(std::span<const uint8_t> bytes, std::string_view needle) {
  const auto* b = reinterpret_cast<const char*>(bytes.data());
  return std::string_view(b, bytes.size()).find(needle) != std::string_view::npos;
}

bool bold_font(const std::string& name) {
  std::string n;
  for (char c : name) n += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const char* k : {"bold", "cmbx", "black", "heavy", "semibold", "demi", "-medi", "-bd"})
    if (n.find(k) != std::string::npos) return true;
  return false;
}

std::string creation_date(const poppler::document& doc) {
  const time_t t = doc.info_date_t("CreationDate");
  if (t <= 0) return "";
  std::tm tm{};
  if (!gmtime_r(&t, &tm)) return "";
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
  return buf;
}

// Words of one page from poppler's own TextOutputDev (what poppler-cpp's text_list wraps): read here directly
// because poppler-cpp, asked for fonts, rebuilds the page's font list and copies it into every word (a third of
// the parse time); TextWord already knows its font. Turned so that the page's dominant writing direction reads
// left to right, top to bottom.
std::vector<PdfWord> page_words(PDFDoc& doc, int64_t index, double w, double h, std::vector<std::string>& problems,
                                const PdfReadOptions& limits) {
  TextOutputDev dev(nullptr, /*physLayout=*/false, /*fixedPitch=*/0, /*rawOrder=*/false, /*append=*/false);
  if (!dev.isOk()) return {};
  doc.displayPageSlice(&dev, static_cast<int>(index + 1), 72, 72, 0, /*useMediaBox=*/false, /*crop=*/false,
                       /*printing=*/false, -1, -1, -1, -1, nullptr, nullptr, nullptr, nullptr, /*copyXRef=*/false);
  const std::unique_ptr<TextWordList> list = dev.makeWordList();
  const int count = list ? list->getLength() : 0;
  if (count > limits.max_words_per_page) {
    problems.push_back("page " + std::to_string(index + 1) + ": " + std::to_string(count) +
                       " words, over the limit of " + std::to_string(limits.max_words_per_page) + "; skipped");
    return {};
  }
  int by_rotation[4] = {0, 0, 0, 0};
  for (int i = 0; i < count; ++i) by_rotation[std::clamp(list->get(i)->getRotation(), 0, 3)]++;
  const int rot = static_cast<int>(std::max_element(by_rotation, by_rotation + 4) - by_rotation);
  std::vector<PdfWord> words;
  words.reserve(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) {
    const TextWord* b = list->get(i);
    if (std::clamp(b->getRotation(), 0, 3) != rot) continue;  // margin stamps written across the page
    if (b->getLength() <= 0) continue;
    PdfWord wd;
    wd.text = utf8(b->getChar(0), b->getLength());
    if (wd.text.empty()) continue;
    double x0, y0, x1, y1;
    b->getBBox(&x0, &y0, &x1, &y1);
    if (!std::isfinite(x0) || !std::isfinite(x1) || !std::isfinite(y0) || !std::isfinite(y1)) continue;
    switch (rot) {
      case 0:
        wd.x0 = x0, wd.x1 = x1, wd.y0 = y0, wd.y1 = y1;
        break;
      case 1:
        wd.x0 = y0, wd.x1 = y1, wd.y0 = w - x1, wd.y1 = w - x0;
        break;
      case 2:
        wd.x0 = w - x1, wd.x1 = w - x0, wd.y0 = h - y1, wd.y1 = h - y0;
        break;
      default:
        wd.x0 = h - y1, wd.x1 = h - y0, wd.y0 = x0, wd.y1 = x1;
        break;
    }
    wd.font_size = b->getFontSize();
    if (!std::isfinite(wd.font_size) || wd.font_size <= 0) wd.font_size = std::max(1.0, wd.y1 - wd.y0);
    const TextFontInfo* font = b->getFontInfo(0);
    const GooString* name = font ? font->getFontName() : nullptr;
    wd.bold = name && bold_font(name->toStr());
    wd.space_after = b->hasSpaceAfter();
    words.push_back(std::move(wd));
  }
  return words;
}

// ---- layout ----

double overlap(double a0, double a1, double b0, double b1) { return std::min(a1, b1) - std::max(a0, b0); }

struct Builder {
  PdfLine line;
  double chars = 0, bold_chars = 0, size_sum = 0;
  bool last_space = true;
  double last_x1 = 0;
  void add(const PdfWord& w) {
    const double n = static_cast<double>(w.text.size());
    if (chars == 0) {
      line.x0 = w.x0, line.y0 = w.y0, line.x1 = w.x1, line.y1 = w.y1;
    } else {
      // poppler leaves out the space after a word set apart by a kern rather than a space ("1<quad>Title").
      if (last_space || w.x0 - last_x1 > 0.2 * w.font_size) line.text += ' ';
      line.x0 = std::min(line.x0, w.x0), line.x1 = std::max(line.x1, w.x1);
      line.y0 = std::min(line.y0, w.y0), line.y1 = std::max(line.y1, w.y1);
    }
    line.text += w.text;
    chars += n, size_sum += n * w.font_size;
    if (w.bold) bold_chars += n;
    last_space = w.space_after;
    last_x1 = w.x1;
  }
  PdfLine finish() {
    line.font_size = chars > 0 ? size_sum / chars : 0;
    line.bold = bold_chars * 2 > chars;
    return std::move(line);
  }
};

// poppler's words come line by line; a line ends where the next word is not beside the previous one.
std::vector<PdfLine> raw_lines(const std::vector<PdfWord>& words) {
  std::vector<PdfLine> lines;
  Builder cur;
  const PdfWord* prev = nullptr;
  for (const PdfWord& w : words) {
    if (prev) {
      const double fs = std::max(w.font_size, prev->font_size);
      const double h = std::min(w.y1 - w.y0, cur.line.y1 - cur.line.y0);
      const bool same_row = overlap(w.y0, w.y1, cur.line.y0, cur.line.y1) >= 0.3 * std::max(h, 0.1);
      const double gap = w.x0 - prev->x1;
      if (!same_row || gap < -0.5 * fs || gap > 1.5 * fs) {
        lines.push_back(cur.finish());
        cur = Builder{};
      }
    }
    cur.add(w);
    prev = &w;
  }
  if (cur.chars > 0) lines.push_back(cur.finish());
  return lines;
}

// The x of a gutter between two columns, or NaN: many lines end left of it and start right of it, few cross.
double find_gutter(const std::vector<PdfLine>& lines) {
  if (lines.size() < 8) return NAN;
  double left = INFINITY, right = -INFINITY;
  for (const auto& l : lines) left = std::min(left, l.x0), right = std::max(right, l.x1);
  const double width = right - left;
  if (!(width > 0)) return NAN;
  const int n = static_cast<int>(lines.size());
  int best = INT_MAX;
  double best_x = NAN, run_start = NAN, best_run = 0;
  const int steps = 400;
  for (int i = 0; i <= steps; ++i) {
    const double x = left + width * (0.3 + 0.4 * i / steps);
    int cross = 0, l = 0, r = 0;
    for (const auto& ln : lines) {
      if (ln.x1 <= x)
        ++l;
      else if (ln.x0 >= x)
        ++r;
      else
        ++cross;
    }
    const int narrow = l + r;
    const bool ok = cross * 10 <= n * 4 && l >= 4 && r >= 4 && l * 4 >= narrow && r * 4 >= narrow;
    const int score = ok ? cross : INT_MAX;
    if (score < best) {
      best = score, run_start = x, best_run = 0, best_x = x;
    } else if (score == best && score != INT_MAX && x - run_start >= best_run) {
      best_run = x - run_start, best_x = (x + run_start) / 2;  // middle of the widest clear stretch
    }
    if (score != best) run_start = x;
  }
  return best == INT_MAX ? NAN : best_x;
}

// Lines of one column (or band) sorted into rows top to bottom; fragments of one row become one line.
void emit_rows(std::vector<PdfLine> group, int column, int block, std::vector<PdfLine>& out) {
  std::stable_sort(group.begin(), group.end(),
                   [](const PdfLine& a, const PdfLine& b) { return a.y0 + a.y1 < b.y0 + b.y1; });
  size_t i = 0;
  while (i < group.size()) {
    size_t j = i + 1;
    double r0 = group[i].y0, r1 = group[i].y1;
    while (j < group.size()) {
      const double h = std::min(r1 - r0, group[j].y1 - group[j].y0);
      if (overlap(r0, r1, group[j].y0, group[j].y1) < 0.5 * std::max(h, 0.1)) break;
      r0 = std::min(r0, group[j].y0), r1 = std::max(r1, group[j].y1);
      ++j;
    }
    std::stable_sort(group.begin() + static_cast<std::ptrdiff_t>(i), group.begin() + static_cast<std::ptrdiff_t>(j),
                     [](const PdfLine& a, const PdfLine& b) { return a.x0 < b.x0; });
    PdfLine row = std::move(group[i]);
    double chars = static_cast<double>(row.text.size()), size_sum = chars * row.font_size;
    double bold = row.bold ? chars : 0;
    for (size_t k = i + 1; k < j; ++k) {
      const PdfLine& f = group[k];
      const double n = static_cast<double>(f.text.size());
      row.text += ' ';
      row.text += f.text;
      row.x0 = std::min(row.x0, f.x0), row.x1 = std::max(row.x1, f.x1);
      row.y0 = std::min(row.y0, f.y0), row.y1 = std::max(row.y1, f.y1);
      chars += n, size_sum += n * f.font_size;
      if (f.bold) bold += n;
    }
    row.font_size = chars > 0 ? size_sum / chars : row.font_size;
    row.bold = bold * 2 > chars;
    row.column = column;
    row.block = block;
    out.push_back(std::move(row));
    i = j;
  }
}

}  // namespace

std::vector<PdfLine> layout_page(const std::vector<PdfWord>& words) {
  std::vector<PdfLine> lines = raw_lines(words);
  std::vector<PdfLine> out;
  const double g = find_gutter(lines);
  if (std::isnan(g)) {
    emit_rows(std::move(lines), 0, 0, out);
    return out;
  }
  double left = INFINITY, right = -INFINITY;
  for (const auto& l : lines) left = std::min(left, l.x0), right = std::max(right, l.x1);
  // A line that crosses the gutter is not column text (title, centred author lines, wide figures); one that
  // only pokes into it (a long URL, an equation number) still belongs to its column.
  const double reach = 0.02 * (right - left);
  std::vector<PdfLine> spanning, cols;
  for (auto& l : lines) {
    if (l.x0 < g - reach && l.x1 > g + reach) {
      l.column = 0;
      spanning.push_back(std::move(l));
    } else {
      l.column = (l.x0 + l.x1) / 2 < g ? 1 : 2;
      cols.push_back(std::move(l));
    }
  }
  std::stable_sort(spanning.begin(), spanning.end(),
                   [](const PdfLine& a, const PdfLine& b) { return a.y0 + a.y1 < b.y0 + b.y1; });
  // Bands: column lines between two consecutive full-width lines; each band reads left column, right column,
  // then the full-width lines below it.
  const size_t nb = spanning.size() + 1;
  std::vector<std::vector<PdfLine>> band_cols(nb * 2);
  std::vector<double> span_y;  // centres of the full-width lines, increasing
  for (const auto& l : spanning) span_y.push_back((l.y0 + l.y1) / 2);
  for (auto& l : cols) {
    const auto b =
        static_cast<size_t>(std::lower_bound(span_y.begin(), span_y.end(), (l.y0 + l.y1) / 2) - span_y.begin());
    band_cols[b * 2 + (l.column - 1)].push_back(std::move(l));
  }
  int block = -1;
  bool prev_spanning = false;
  for (size_t b = 0; b < nb; ++b) {
    for (int c = 0; c < 2; ++c) {
      if (band_cols[b * 2 + c].empty()) continue;
      emit_rows(std::move(band_cols[b * 2 + c]), c + 1, ++block, out);
      prev_spanning = false;
    }
    if (b < spanning.size()) {
      if (!prev_spanning) ++block;  // full-width lines with no column text between them form one block
      std::vector<PdfLine> one;
      one.push_back(std::move(spanning[b]));
      emit_rows(std::move(one), 0, block, out);
      prev_spanning = true;
    }
  }
  return out;
}

PdfText read_pdf_text(std::span<const uint8_t> bytes, const PdfReadOptions& limits) {
  PdfText t;
  const size_t head = std::min<size_t>(bytes.size(), 1024);
  if (!contains(bytes.first(head), "%PDF-")) {
    t.status = "malformed";
    t.problems.push_back(bytes.empty() ? "empty file, not a PDF"
                                       : "not a PDF: no %PDF- header in the first 1024 bytes");
    return t;
  }
  if (bytes.size() > static_cast<size_t>(INT_MAX)) {
    t.status = "malformed";
    t.problems.push_back("file of " + std::to_string(bytes.size()) + " bytes is over the 2 GiB poppler can read");
    return t;
  }
  const size_t tail = std::min<size_t>(bytes.size(), 1024);
  const bool truncated = !contains(bytes.last(tail), "%%EOF");
  install_error_sink();
  SinkScope errors;
  auto poppler_problem = [&] {
    if (errors.sink.count > 0)
      t.problems.push_back("poppler reported " + std::to_string(errors.sink.count) +
                           " error(s), first: " + errors.sink.first);
  };
  std::unique_ptr<poppler::document> doc(poppler::document::load_from_raw_data(
      reinterpret_cast<const char*>(bytes.data()), static_cast<int>(bytes.size())));
  if (!doc) {
    // Without %%EOF a file that has PDF objects was cut short; one without any is not a PDF body at all.
    const bool has_objects = contains(bytes.first(std::min<size_t>(bytes.size(), 1 << 20)), " obj");
    const bool cut = truncated && has_objects;
    t.status = cut ? "truncated" : "malformed";
    t.problems.push_back(cut ? "truncated: no %%EOF at the end and poppler could not open what is there"
                             : "malformed: poppler could not open it");
    poppler_problem();
    return t;
  }
  if (doc->is_locked()) {
    t.status = "encrypted";
    t.problems.push_back("encrypted: a password is needed to read it; no text extracted");
    return t;
  }
  // The same bytes once more through the core API for the pages (see page_words); the xref is read twice,
  // which costs little next to the pages' content streams.
  PDFDoc core(new MemStream(reinterpret_cast<const char*>(bytes.data()), 0, static_cast<Goffset>(bytes.size()),
                            Object(objNull)));
  if (!core.isOk()) {
    t.status = "malformed";
    t.problems.push_back("malformed: poppler could not open it for text extraction");
    poppler_problem();
    return t;
  }
  t.title = utf8(doc->get_title());
  t.author = utf8(doc->get_author());
  t.date = creation_date(*doc);
  t.page_count = std::max(0, doc->pages());
  const int64_t n = std::min(t.page_count, limits.max_pages);
  if (n < t.page_count)
    t.problems.push_back("document says it has " + std::to_string(t.page_count) + " pages; read the first " +
                         std::to_string(n));
  std::vector<int64_t> empty_pages, unreadable_pages;
  int64_t pages_with_text = 0;
  auto page_list = [](const std::vector<int64_t>& v) {
    std::string list;
    for (size_t k = 0; k < v.size() && k < 10; ++k) list += (k ? ", " : "") + std::to_string(v[k]);
    if (v.size() > 10) list += ", ... (" + std::to_string(v.size()) + " pages)";
    return list;
  };
  for (int64_t i = 0; i < n; ++i) {
    PdfPage pg;
    Page* p = i < core.getNumPages() ? core.getPage(static_cast<int>(i + 1)) : nullptr;
    if (!p || !p->isOk()) {
      unreadable_pages.push_back(i + 1);
      t.pages.push_back(std::move(pg));
      continue;
    }
    pg.width = p->getCropWidth(), pg.height = p->getCropHeight();
    pg.lines = layout_page(page_words(core, i, pg.width, pg.height, t.problems, limits));
    bool any = false;
    for (const auto& l : pg.lines)
      if (l.text.find_first_not_of(" \t") != std::string::npos) any = true;
    if (any)
      ++pages_with_text;
    else
      empty_pages.push_back(i + 1);
    t.pages.push_back(std::move(pg));
  }
  if (t.page_count == 0) {
    t.status = truncated ? "truncated" : "malformed";
    t.problems.push_back("no pages");
  } else if (pages_with_text == 0) {
    t.status = truncated ? "truncated" : "no text layer";
    t.problems.push_back("no text layer on any of its " + std::to_string(n) +
                         " page(s): a scan or images only (run OCR first)");
  } else {
    if (truncated) {
      t.status = "truncated";
      t.problems.push_back("truncated: no %%EOF at the end; kept the text of the pages poppler could recover");
    }
    if (!empty_pages.empty()) t.problems.push_back("no text on page(s) " + page_list(empty_pages));
  }
  if (!unreadable_pages.empty()) t.problems.push_back("poppler could not read page(s) " + page_list(unreadable_pages));
  poppler_problem();
  return t;
}

}  // namespace scitune
