#include "papers/corpus_report.h"

#include <algorithm>
#include <numeric>

#include "report/html_text.h"
#include "report/svg_chart.h"
#include "util/error.h"

namespace scitune {

namespace {

namespace fs = std::filesystem;

constexpr int kCorpusCloudWidth = 1100, kCorpusCloudHeight = 500;
constexpr int kPaperCloudWidth = 545, kPaperCloudHeight = 250;
constexpr size_t kBarLabelChars = 60;
constexpr size_t kTokenBatch = 32;  // papers encoded at once (bounds the memory of the id lists)

constexpr const char* kCss = R"css(
body{margin:0;background:#f5f6f8;color:#1d1f23;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",Arial,sans-serif}
main{max-width:1180px;margin:0 auto;padding:24px 28px 40px}
h1{font-size:26px;margin:0 0 4px}
h2{font-size:19px;margin:34px 0 12px;padding-bottom:6px;border-bottom:1px solid #d8dbe0}
p.sub{color:#596069;margin:0;overflow-wrap:anywhere}
p.note{color:#596069;font-size:13px;margin:6px 0}
code{font-family:ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:12px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(165px,1fr));gap:10px;margin:14px 0}
.card{background:#fff;border:1px solid #e0e3e8;border-radius:6px;padding:9px 12px}
.card .k{color:#596069;font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.card .v{font-size:20px;font-weight:600;font-variant-numeric:tabular-nums}
.card .d{color:#596069;font-size:12px}
table{border-collapse:collapse;background:#fff;font-size:14px;margin:6px 0;max-width:100%}
th,td{border:1px solid #e0e3e8;padding:5px 9px;text-align:left;vertical-align:top}
th{background:#eef0f3;font-weight:600}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.t{overflow-wrap:anywhere;min-width:260px}
.muted{color:#69707a;font-size:12px}
.ok{color:#2e7d32}
.bad{color:#b23c17;font-weight:600}
.charts{display:flex;flex-wrap:wrap;align-items:flex-start;gap:14px;margin:10px 0}
svg.chart{background:#fff;border:1px solid #e0e3e8;border-radius:6px;max-width:100%;height:auto}
.problems{background:#fff7e0;border:1px solid #eec15e;border-radius:6px;padding:8px 16px;margin:16px 0}
.problems li{font-size:14px;overflow-wrap:anywhere}
.problems li li{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:13px}
table.top-terms{min-width:420px}
footer{color:#69707a;margin-top:40px;font-size:13px}
)css";

std::string esc(std::string_view s) { return html_escape(s); }
std::string td_num(const std::string& s) { return "<td class=\"n\">" + s + "</td>"; }

std::string card(const std::string& key, const std::string& value, const std::string& detail = "") {
  return "<div class=\"card\"><div class=\"k\">" + esc(key) + "</div><div class=\"v\">" + esc(value) + "</div>" +
         (detail.empty() ? "" : "<div class=\"d\">" + esc(detail) + "</div>") + "</div>\n";
}

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// "#3 A title" for a chart label or a cloud heading: the title, else the file name, else the id.
std::string paper_label(const PaperDocument& p, size_t index, size_t max_chars) {
  std::string name = p.title;
  if (name.find_first_not_of(" \t\r\n") == std::string::npos) name = fs::path(p.file).filename().string();
  if (name.empty()) name = p.id;
  for (char& c : name)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  return "#" + std::to_string(index + 1) + " " + truncate_utf8(name, max_chars);
}

std::string tokens_text(const std::optional<int64_t>& t) { return t ? thousands(*t) : "–"; }

std::string summary_cards(const std::vector<PaperDocument>& papers, const std::vector<PaperStats>& stats,
                          const TermCounter& corpus_terms, bool with_tokens) {
  int64_t ok = 0, pages = 0, words = 0, tokens = 0, with_problems = 0, problems = 0;
  for (size_t i = 0; i < papers.size(); ++i) {
    ok += papers[i].ok();
    pages += stats[i].pages;
    words += stats[i].words;
    tokens += stats[i].tokens.value_or(0);
    with_problems += !papers[i].ok() || !papers[i].problems.empty();
    problems += static_cast<int64_t>(papers[i].problems.size());
  }
  const int64_t n = static_cast<int64_t>(papers.size());
  std::string out = "<div class=\"cards\">\n";
  out += card("papers", thousands(n), thousands(ok) + " parsed ok");
  out += card("pages", thousands(pages), n ? "mean " + short_number(double(pages) / double(n)) + " per paper" : "");
  out += card("words", thousands(words), n ? "mean " + short_number(double(words) / double(n)) + " per paper" : "");
  out += card(
      "Gemma tokens", with_tokens ? thousands(tokens) : "–",
      with_tokens ? (words ? short_number(double(tokens) / double(words)) + " per word" : "") : "run with --tokenizer");
  out += card("distinct terms", thousands(static_cast<int64_t>(corpus_terms.distinct())),
              thousands(corpus_terms.total()) + " counted words");
  out += card("papers with problems", thousands(with_problems),
              thousands(problems) + (problems == 1 ? " message" : " messages"));
  return out + "</div>\n";
}

std::string words_chart(const std::vector<PaperDocument>& papers, const std::vector<PaperStats>& stats,
                        size_t max_bars) {
  std::vector<size_t> order(papers.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::string note;
  if (order.size() > max_bars) {
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return stats[a].words > stats[b].words; });
    note = "<p class=\"note\">The " + std::to_string(max_bars) + " papers with the most words of " +
           thousands(static_cast<int64_t>(order.size())) + "; every paper is in the table below.</p>\n";
    order.resize(max_bars);
    std::sort(order.begin(), order.end());
  }
  BarChart c;
  c.title = "Words per paper";
  c.value_label = "words (whitespace-separated, whole text)";
  c.width = 1100;
  for (size_t i : order) {
    c.labels.push_back(paper_label(papers[i], i, kBarLabelChars));
    c.values.push_back(static_cast<double>(stats[i].words));
  }
  return "<div class=\"charts\">\n" + render_bar_chart(c) + "</div>\n" + note;
}

std::string cloud_note(const WordCloud& cloud, const TermCounter& terms) {
  std::string s = thousands(static_cast<int64_t>(cloud.words.size())) + " of the most frequent terms (" +
                  thousands(static_cast<int64_t>(terms.distinct())) + " distinct in " + thousands(terms.total()) +
                  " counted words); size grows with the square root of the count";
  if (cloud.dropped > 0) s += "; " + thousands(cloud.dropped) + " did not fit and are left out";
  return "<p class=\"note\">" + esc(s) + ".</p>\n";
}

std::string top_terms_table(const TermCounter& corpus, const std::vector<TermCounter>& per_paper, size_t n,
                            int64_t body_words) {
  const std::vector<TermCount> top = corpus.top(n);
  if (top.empty()) return "<p class=\"muted\">No terms: the corpus has no body text.</p>\n";
  const std::string head =
      "<table class=\"top-terms\">\n<tr><th class=\"n\">#</th><th>term</th><th class=\"n\">count</th>"
      "<th class=\"n\">per 1,000 words</th><th class=\"n\">papers</th></tr>\n";
  // Two tables side by side once the list is long, so the page does not run to a narrow column.
  const size_t per_table = top.size() > 12 ? (top.size() + 1) / 2 : top.size();
  std::string out = "<div class=\"charts\">\n";
  for (size_t i = 0; i < top.size(); ++i) {
    if (i % per_table == 0) out += (i ? "</table>\n" : "") + head;
    int64_t papers = 0;
    for (const TermCounter& p : per_paper) papers += p.count_of(top[i].term) > 0;
    const double per_k = body_words > 0 ? 1000.0 * double(top[i].count) / double(body_words) : 0.0;
    out += "<tr>" + td_num(std::to_string(i + 1)) + "<td>" + esc(top[i].term) + "</td>" +
           td_num(thousands(top[i].count)) + td_num(fixed(per_k, 2)) + td_num(thousands(papers)) + "</tr>\n";
  }
  return out + "</table>\n</div>\n";
}

std::string papers_table(const std::vector<PaperDocument>& papers, const std::vector<PaperStats>& stats) {
  std::string out =
      "<table class=\"papers\">\n<tr><th class=\"n\">#</th><th>paper</th><th class=\"n\">pages</th>"
      "<th class=\"n\">words</th><th class=\"n\">body words</th><th class=\"n\">tokens</th>"
      "<th class=\"n\">sections</th><th>status</th></tr>\n";
  for (size_t i = 0; i < papers.size(); ++i) {
    const PaperDocument& p = papers[i];
    const PaperStats& s = stats[i];
    std::string title = p.title.find_first_not_of(" \t\r\n") == std::string::npos ? "(no title)" : p.title;
    std::string who = p.authors.empty() ? "" : truncate_utf8(p.authors, 120);
    out += "<tr>" + td_num(std::to_string(i + 1)) + "<td class=\"t\">" + esc(truncate_utf8(title, 200)) +
           (who.empty() ? "" : "<br><span class=\"muted\">" + esc(who) + "</span>") +
           "<br><span class=\"muted\"><code>" + esc(p.id) + "</code> " + esc(p.file) + "</span></td>" +
           td_num(thousands(s.pages)) + td_num(thousands(s.words)) + td_num(thousands(s.body_words)) +
           td_num(tokens_text(s.tokens)) + td_num(thousands(s.sections)) + "<td>" +
           (p.ok() ? "<span class=\"ok\">ok</span>" : "<span class=\"bad\">" + esc(p.status) + "</span>") +
           (p.problems.empty() ? ""
                               : "<br><span class=\"muted\">" + std::to_string(p.problems.size()) + " problem" +
                                     (p.problems.size() == 1 ? "" : "s") + "</span>") +
           "</td></tr>\n";
  }
  return out + "</table>\n";
}

std::string problems_list(const std::vector<PaperDocument>& papers) {
  std::string items;
  for (size_t i = 0; i < papers.size(); ++i) {
    const PaperDocument& p = papers[i];
    if (p.ok() && p.problems.empty()) continue;
    items += "<li><b>#" + std::to_string(i + 1) + "</b> " + esc(p.file) + " <code>" + esc(p.id) + "</code>: " +
             (p.ok() ? "<span class=\"ok\">ok</span>" : "<span class=\"bad\">" + esc(p.status) + "</span>");
    if (!p.problems.empty()) {
      items += "<ul>";
      for (const std::string& m : p.problems) items += "<li>" + esc(m) + "</li>";
      items += "</ul>";
    }
    items += "</li>\n";
  }
  if (items.empty()) return "<p class=\"ok\">No parse problems: every paper was read completely.</p>\n";
  return "<div class=\"problems\"><ul>\n" + items + "</ul></div>\n";
}

}  // namespace

bool is_back_matter_section(const std::string& title) {
  std::string t = lower_ascii(title);
  // Skip a leading number: "7", "7.", "VII.", "A." (appendix letters are not back matter by themselves).
  size_t i = t.find_first_not_of(" \t");
  if (i == std::string::npos) return false;
  const size_t j = t.find_first_of(" \t", i);
  if (j != std::string::npos) {
    const std::string first = t.substr(i, j - i);
    if (first.find_first_not_of("0123456789ivxlc.)") == std::string::npos) i = t.find_first_not_of(" \t", j);
  }
  if (i == std::string::npos) return false;
  const std::string_view rest = std::string_view(t).substr(i);
  for (const char* k : {"references", "reference list", "bibliography", "literature cited", "works cited",
                        "acknowledgement", "acknowledgment", "acknowledgements", "acknowledgments"})
    if (rest.starts_with(k)) return true;
  return false;
}

std::string body_text(const PaperDocument& p) {
  std::vector<std::pair<int64_t, int64_t>> cut;
  for (const CorpusSection& s : p.sections)
    if (is_back_matter_section(s.title)) cut.emplace_back(s.begin, s.end);
  if (cut.empty()) return p.text;
  std::sort(cut.begin(), cut.end());
  std::string out;
  int64_t pos = 0;
  for (const auto& [b, e] : cut) {
    if (b > pos) out.append(p.text, static_cast<size_t>(pos), static_cast<size_t>(b - pos)).append("\n\n");
    pos = std::max(pos, e);
  }
  if (pos < static_cast<int64_t>(p.text.size())) out.append(p.text, static_cast<size_t>(pos));
  return out;
}

std::vector<PaperStats> paper_stats(const std::vector<PaperDocument>& papers, const Tokenizer* tokenizer) {
  std::vector<PaperStats> stats(papers.size());
  for (size_t i = 0; i < papers.size(); ++i) {
    stats[i].pages = papers[i].pages;
    stats[i].words = papers[i].words();
    stats[i].body_words = count_words(body_text(papers[i]));
    stats[i].sections = static_cast<int64_t>(papers[i].sections.size());
  }
  if (tokenizer)
    for (size_t b = 0; b < papers.size(); b += kTokenBatch) {
      std::vector<std::string> texts;
      for (size_t i = b; i < std::min(papers.size(), b + kTokenBatch); ++i) texts.push_back(papers[i].text);
      const auto ids = tokenizer->encode_batch(texts);
      for (size_t k = 0; k < ids.size(); ++k) stats[b + k].tokens = static_cast<int64_t>(ids[k].size());
    }
  return stats;
}

CorpusReport render_corpus_report(const std::vector<PaperDocument>& papers, const CorpusReportOptions& o) {
  CorpusReport r;
  const std::vector<PaperStats> stats = paper_stats(papers, o.tokenizer);
  TermCounter corpus;
  std::vector<TermCounter> per_paper(papers.size());
  int64_t body_words = 0;
  for (size_t i = 0; i < papers.size(); ++i) {
    per_paper[i].add_text(body_text(papers[i]));
    corpus.merge(per_paper[i]);
    body_words += stats[i].body_words;
  }
  const TextMeasurer measurer(o.font);
  if (!measurer.uses_font()) r.warnings.push_back(measurer.fallback_reason());

  WordCloudOptions big;
  big.width = kCorpusCloudWidth;
  big.height = kCorpusCloudHeight;
  big.min_font = 12;
  big.max_font = 72;
  big.max_words = o.corpus_cloud_words;
  big.seed = o.seed;
  const std::vector<TermCount> corpus_top = corpus.top(o.corpus_cloud_words);
  const WordCloud corpus_cloud = layout_word_cloud(corpus_top, measurer, big);

  std::string clouds;
  size_t shown = 0, left_out = 0;
  for (size_t i = 0; i < papers.size(); ++i) {
    if (per_paper[i].total() == 0) continue;
    if (shown == o.max_paper_clouds) {
      ++left_out;
      continue;
    }
    WordCloudOptions small;
    small.width = kPaperCloudWidth;
    small.height = kPaperCloudHeight;
    small.min_font = 11;
    small.max_font = 44;
    small.max_words = o.paper_cloud_words;
    small.seed = o.seed;
    const std::vector<TermCount> top = per_paper[i].top(o.paper_cloud_words);
    const WordCloud c = layout_word_cloud(top, measurer, small);
    clouds += render_word_cloud(c, paper_label(papers[i], i, 70));
    ++shown;
  }
  if (left_out > 0)
    r.warnings.push_back(std::to_string(left_out) + " per-paper word clouds left out (more than " +
                         std::to_string(o.max_paper_clouds) + " papers)");

  std::string h =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>Corpus report";
  if (!o.corpus_name.empty()) h += " – " + esc(o.corpus_name);
  h += "</title>\n<style>" + std::string(kCss) + "</style>\n</head>\n<body>\n<main>\n<h1>Corpus report</h1>\n";
  h += "<p class=\"sub\">" + (o.corpus_name.empty() ? std::string() : "<code>" + esc(o.corpus_name) + "</code> · ") +
       thousands(static_cast<int64_t>(papers.size())) + " paper" + (papers.size() == 1 ? "" : "s") + "</p>\n";
  h += summary_cards(papers, stats, corpus, o.tokenizer != nullptr);
  if (!r.warnings.empty()) {
    h += "<div class=\"problems\"><ul>\n";
    for (const std::string& w : r.warnings) h += "<li>" + esc(w) + "</li>\n";
    h += "</ul></div>\n";
  }
  h += "<h2>Words per paper</h2>\n" + words_chart(papers, stats, o.max_bars);
  h += "<h2>Word cloud of the corpus</h2>\n<div class=\"charts\">\n" +
       render_word_cloud(corpus_cloud, "Most frequent terms in " + thousands(static_cast<int64_t>(papers.size())) +
                                           " paper" + (papers.size() == 1 ? "" : "s")) +
       "</div>\n" + cloud_note(corpus_cloud, corpus);
  h += "<p class=\"note\">Terms are counted in the body text (References, Bibliography and Acknowledgements "
       "sections left out), lower-cased, without " +
       std::to_string(stop_word_count()) +
       " English stop words (the Snowball list and research-paper boilerplate) and without numbers.</p>\n";
  h += "<h2>Top terms</h2>\n" + top_terms_table(corpus, per_paper, o.top_terms, body_words);
  h += "<h2>Papers</h2>\n" + papers_table(papers, stats);
  if (!o.tokenizer) h += "<p class=\"note\">Tokens: run with --tokenizer to count Gemma tokens.</p>\n";
  h += "<h2>Parse problems</h2>\n" + problems_list(papers);
  h += "<h2>Word cloud per paper</h2>\n";
  h += clouds.empty() ? "<p class=\"muted\">No paper has body text.</p>\n"
                      : "<div class=\"charts\">\n" + clouds + "</div>\n";
  h += "<footer>scitune papers report · word-cloud seed " + std::to_string(o.seed) + " · font " +
       (measurer.uses_font() ? esc(o.font.filename().string()) : std::string("estimated")) + "</footer>\n";
  h += "</main>\n</body>\n</html>\n";
  r.html = std::move(h);
  return r;
}

std::vector<std::string> write_corpus_report(const fs::path& corpus, const fs::path& dir, CorpusReportOptions o,
                                             Overwrite overwrite) {
  const fs::path page = dir / "index.html";
  if (overwrite == Overwrite::kNo && fs::exists(page))
    fail(page.string() + ": already exists (use --force to replace it)");
  const std::vector<PaperDocument> papers = read_corpus(corpus);
  if (o.corpus_name.empty()) o.corpus_name = corpus.string();
  CorpusReport r = render_corpus_report(papers, o);
  fs::create_directories(dir);
  write_file_atomic(page, r.html, overwrite);
  return r.warnings;
}

}  // namespace scitune
