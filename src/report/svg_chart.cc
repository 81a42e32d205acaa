#include "report/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "report/html_text.h"

namespace scitune {

namespace {

constexpr double kTitleFont = 14, kFont = 12;
constexpr double kTickLength = 5;
constexpr double kBottomMargin = 44;  // tick labels, then the x axis label
constexpr const char* kFontFamily = "system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', Arial, sans-serif";
constexpr const char* kAxisColor = "#777";
constexpr const char* kGridColor = "#e4e4e4";
constexpr const char* kTextColor = "#222";
constexpr const char* kMutedColor = "#555";

// Coordinates with one decimal: enough for a screen, short and deterministic.
std::string px(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", std::fabs(v) < 0.05 ? 0.0 : v);
  return buf;
}

struct Svg {
  std::string out;

  void open(double w, double h, const std::string& title, const char* kind) {
    out += "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart " + std::string(kind) + "\" width=\"" + px(w) +
           "\" height=\"" + px(h) + "\" viewBox=\"0 0 " + px(w) + " " + px(h) + "\" role=\"img\" aria-label=\"" +
           html_escape(title) + "\" font-family=\"" + kFontFamily + "\" font-size=\"" + px(kFont) + "\" fill=\"" +
           kTextColor + "\">\n<title>" + html_escape(title) + "</title>\n";
    out += "<rect width=\"" + px(w) + "\" height=\"" + px(h) + "\" fill=\"#fff\"/>\n";
    out += "<text x=\"8\" y=\"18\" font-size=\"" + px(kTitleFont) + "\" font-weight=\"600\">" + html_escape(title) +
           "</text>\n";
  }
  // anchor: start, middle or end; extra: more attributes.
  void text(double x, double y, std::string_view s, const char* anchor, const std::string& extra = "") {
    out += "<text x=\"" + px(x) + "\" y=\"" + px(y) + "\"";
    if (std::string_view(anchor) != "start") out += " text-anchor=\"" + std::string(anchor) + "\"";
    out += extra + ">" + html_escape(s) + "</text>\n";
  }
  void line(double x1, double y1, double x2, double y2, const char* color) {
    out += "<line x1=\"" + px(x1) + "\" y1=\"" + px(y1) + "\" x2=\"" + px(x2) + "\" y2=\"" + px(y2) + "\" stroke=\"" +
           color + "\"/>\n";
  }
  void close() { out += "</svg>\n"; }
};

double finite_max(const std::vector<double>& v) {
  double m = 0;
  for (double x : v)
    if (std::isfinite(x)) m = std::max(m, x);
  return m;
}

bool all_integral(const std::vector<double>& v) {
  for (double x : v)
    if (std::isfinite(x) && x != std::floor(x)) return false;
  return true;
}

std::string value_text(double v, bool integral) {
  return integral ? thousands(static_cast<int64_t>(std::llround(v))) : short_number(v, 3);
}

double nice_num(double x, bool round) {
  const double p = std::pow(10.0, std::floor(std::log10(x)));
  const double f = x / p;
  if (round) return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * p;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}

std::vector<std::string> tick_labels(const Axis& a) {
  const double max_abs = std::max(std::fabs(a.lo), std::fabs(a.hi));
  std::vector<std::string> out;
  for (double t : a.ticks) out.push_back(tick_label(t, a.step, max_abs));
  return out;
}

double widest(const std::vector<std::string>& labels, double font) {
  double w = 0;
  for (const auto& l : labels) w = std::max(w, text_width(l, font));
  return w;
}

// A horizontal value axis whose tick labels cannot overlap: fewer ticks until each label has room.
Axis fitted_x_axis(double lo, double hi, double plot_w, bool integer) {
  Axis a;
  for (int max_ticks = std::max(2, static_cast<int>(plot_w / 40)); max_ticks >= 2; --max_ticks) {
    a = nice_axis(lo, hi, max_ticks, integer);
    const double spacing = plot_w * a.step / (a.hi - a.lo);
    if (spacing >= widest(tick_labels(a), kFont) + 12) break;
  }
  return a;
}

// The legend as one row of (line sample, name) pairs; returns its width.
double legend_width(const std::vector<ChartSeries>& series) {
  double w = 0;
  for (const auto& s : series) w += 22 + 5 + text_width(s.name, kFont) + 16;
  return w - 16;
}

void draw_legend(Svg& svg, const std::vector<ChartSeries>& series, double x, double y) {
  svg.out += "<g class=\"legend\">\n";
  for (const auto& s : series) {
    svg.out += "<line x1=\"" + px(x) + "\" y1=\"" + px(y - 4) + "\" x2=\"" + px(x + 22) + "\" y2=\"" + px(y - 4) +
               "\" stroke=\"" + s.color + "\" stroke-width=\"2\"/>\n";
    if (s.markers)
      svg.out += "<circle cx=\"" + px(x + 11) + "\" cy=\"" + px(y - 4) + "\" r=\"3\" fill=\"" + s.color + "\"/>\n";
    svg.text(x + 27, y, s.name, "start");
    x += 22 + 5 + text_width(s.name, kFont) + 16;
  }
  svg.out += "</g>\n";
}

}  // namespace

Axis nice_axis(double lo, double hi, int max_ticks, bool integer) {
  max_ticks = std::max(2, max_ticks);
  if (!std::isfinite(lo) || !std::isfinite(hi)) lo = 0, hi = 1;
  if (lo > hi) std::swap(lo, hi);
  if (hi - lo <= std::max(std::fabs(lo), std::fabs(hi)) * 1e-9) {  // one value: centre it
    const double pad = lo == 0 ? 1 : std::fabs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  if (integer) {
    lo = std::floor(lo);
    hi = std::max(std::ceil(hi), lo + 1);
  }
  double step = nice_num(nice_num(hi - lo, false) / (max_ticks - 1), true);
  Axis a;
  for (;;) {
    if (integer && step < 1) step = 1;
    a.step = step;
    a.lo = std::floor(lo / step) * step;
    a.hi = std::ceil(hi / step) * step;
    const double n = std::round((a.hi - a.lo) / step) + 1;
    if (n <= max_ticks) break;
    step = nice_num(step * 1.6, true);  // the next of 1, 2, 5, 10, ...
  }
  const int n = static_cast<int>(std::round((a.hi - a.lo) / a.step));
  for (int k = 0; k <= n; ++k) {
    const double v = a.lo + k * a.step;
    a.ticks.push_back(std::fabs(v) < a.step * 1e-9 ? 0.0 : v);
  }
  return a;
}

std::string tick_label(double v, double step, double axis_max_abs) {
  if (v == 0 || !std::isfinite(v)) return "0";
  const int step_exp = static_cast<int>(std::floor(std::log10(step) + 1e-9));
  char buf[64];
  if (axis_max_abs < 1e-2 || axis_max_abs >= 1e7) {  // learning rates, huge counts: 2.5e-4
    // One number of decimals for the whole axis (5.0e-5 beside 1.5e-4), from its largest value.
    const int max_exp = static_cast<int>(std::floor(std::log10(axis_max_abs) + 1e-9));
    const int decimals = std::max(0, max_exp - step_exp);
    int e = static_cast<int>(std::floor(std::log10(std::fabs(v)) + 1e-9));
    double mant = v / std::pow(10.0, e);
    const double scale = std::pow(10.0, decimals);
    if (std::fabs(std::round(mant * scale) / scale) >= 10) mant /= 10, ++e;
    std::snprintf(buf, sizeof buf, "%.*fe%d", decimals, mant, e);
    return buf;
  }
  const int decimals = std::max(0, -step_exp);
  if (decimals == 0 && std::fabs(v) >= 10000) return thousands(static_cast<int64_t>(std::llround(v)));
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

double text_width(std::string_view s, double font) {
  double em = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      if ((c & 0xC0) != 0x80) em += 1.0;  // one per code point; CJK is about 1 em wide
      continue;
    }
    if (std::string_view(".,:;!|'ijl ").find(static_cast<char>(c)) != std::string_view::npos)
      em += 0.34;
    else if (c == 'm' || c == 'w' || c == 'M' || c == 'W' || c == '@' || c == '%')
      em += 0.95;
    else if (c >= 'A' && c <= 'Z')
      em += 0.72;
    else
      em += 0.62;
  }
  return em * font;
}

void thin_series(std::vector<double>& x, std::vector<double>& y, size_t max_points) {
  const size_t n = x.size();
  if (n <= max_points || max_points < 4 || y.size() != n) return;
  const size_t buckets = (max_points - 2) / 2, inner = n - 2;
  std::vector<double> tx{x[0]}, ty{y[0]};
  for (size_t b = 0; b < buckets; ++b) {
    const size_t begin = 1 + b * inner / buckets, end = 1 + (b + 1) * inner / buckets;
    if (begin >= end) continue;
    size_t lo = begin, hi = begin;
    for (size_t i = begin; i < end; ++i) {
      if (!std::isfinite(y[i])) continue;
      if (!std::isfinite(y[lo]) || y[i] < y[lo]) lo = i;
      if (!std::isfinite(y[hi]) || y[i] > y[hi]) hi = i;
    }
    for (size_t i : {std::min(lo, hi), std::max(lo, hi)}) {
      tx.push_back(x[i]);
      ty.push_back(y[i]);
      if (lo == hi) break;
    }
  }
  tx.push_back(x[n - 1]);
  ty.push_back(y[n - 1]);
  x = std::move(tx);
  y = std::move(ty);
}

// Horizontal grid lines, the two axes and the y ticks with their labels; opens the "axes" group, which the
// caller closes after its x ticks.
template <class YOf>
void draw_frame(Svg& svg, const Axis& ya, const std::vector<std::string>& ylabels, double left, double top,
                double plot_w, double bottom, const YOf& Y) {
  svg.out += "<g class=\"grid\">\n";
  for (double t : ya.ticks)
    if (t != ya.lo) svg.line(left, Y(t), left + plot_w, Y(t), kGridColor);
  svg.out += "</g>\n<g class=\"axes\">\n";
  svg.line(left, top, left, bottom, kAxisColor);
  svg.line(left, bottom, left + plot_w, bottom, kAxisColor);
  for (size_t i = 0; i < ya.ticks.size(); ++i) {
    svg.line(left - kTickLength, Y(ya.ticks[i]), left, Y(ya.ticks[i]), kAxisColor);
    svg.text(left - kTickLength - 3, Y(ya.ticks[i]) + 4, ylabels[i], "end");
  }
}

std::string render_line_chart(const LineChart& c) {
  Svg svg;
  const double W = c.width, H = c.height;
  svg.open(W, H, c.title, "line");
  double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
  for (const auto& s : c.series)
    for (size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i)
      if (std::isfinite(s.x[i]) && std::isfinite(s.y[i])) {
        xlo = std::min(xlo, s.x[i]), xhi = std::max(xhi, s.x[i]);
        ylo = std::min(ylo, s.y[i]), yhi = std::max(yhi, s.y[i]);
      }
  double header = 28;
  if (c.series.size() >= 2) {
    const double lw = legend_width(c.series);
    double y = 18;
    if (8 + text_width(c.title, kTitleFont) + 24 + lw > W - 8) y = 40, header = 50;  // own row below the title
    draw_legend(svg, c.series, W - 8 - lw, y);
  }
  if (!(xlo <= xhi)) {
    svg.text(W / 2, H / 2, "no data", "middle", " fill=\"" + std::string(kMutedColor) + "\"");
    svg.close();
    return svg.out;
  }
  const double top = header + 8, plot_h = H - top - kBottomMargin;
  const Axis ya = nice_axis(ylo, yhi, std::max(3, static_cast<int>(plot_h / 34) + 1), false);
  const std::vector<std::string> ylabels = tick_labels(ya);
  const double left = 8 + 16 + 8 + widest(ylabels, kFont) + kTickLength + 3;
  double right = 16, plot_w = W - left - right;
  Axis xa = fitted_x_axis(xlo, xhi, plot_w, c.integer_x);
  std::vector<std::string> xlabels = tick_labels(xa);
  right = std::max(16.0, text_width(xlabels.back(), kFont) / 2 + 6);  // the last label stays inside
  plot_w = W - left - right;
  xa = fitted_x_axis(xlo, xhi, plot_w, c.integer_x);
  xlabels = tick_labels(xa);
  const double bottom = top + plot_h;
  auto X = [&](double v) { return left + (v - xa.lo) / (xa.hi - xa.lo) * plot_w; };
  auto Y = [&](double v) { return bottom - (v - ya.lo) / (ya.hi - ya.lo) * plot_h; };

  draw_frame(svg, ya, ylabels, left, top, plot_w, bottom, Y);
  for (size_t i = 0; i < xa.ticks.size(); ++i) {
    svg.line(X(xa.ticks[i]), bottom, X(xa.ticks[i]), bottom + kTickLength, kAxisColor);
    svg.text(X(xa.ticks[i]), bottom + kTickLength + 13, xlabels[i], "middle");
  }
  svg.text(left + plot_w / 2, H - 8, c.x_label, "middle", " fill=\"" + std::string(kMutedColor) + "\"");
  const double yl_x = 20, yl_y = top + plot_h / 2;
  svg.text(yl_x, yl_y, c.y_label, "middle",
           " fill=\"" + std::string(kMutedColor) + "\" transform=\"rotate(-90 " + px(yl_x) + " " + px(yl_y) + ")\"");
  svg.out += "</g>\n";

  for (const auto& s : c.series) {
    std::string d, dots;
    size_t points = 0;
    bool pen_down = false;
    for (size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) {
        pen_down = false;
        continue;
      }
      d += (d.empty() ? "" : " ") + std::string(pen_down ? "L" : "M") + px(X(s.x[i])) + " " + px(Y(s.y[i]));
      pen_down = true;
      ++points;
      if (s.markers) dots += "<circle cx=\"" + px(X(s.x[i])) + "\" cy=\"" + px(Y(s.y[i])) + "\" r=\"3\"/>";
    }
    svg.out += "<g class=\"series\" data-series=\"" + html_escape(s.name) + "\" data-points=\"" +
               std::to_string(points) + "\">\n";
    if (!d.empty())
      svg.out += "<path d=\"" + d + "\" fill=\"none\" stroke=\"" + s.color +
                 "\" stroke-width=\"2\" stroke-linejoin=\"round\" stroke-linecap=\"round\"/>\n";
    if (!dots.empty()) svg.out += "<g fill=\"" + s.color + "\">" + dots + "</g>\n";
    svg.out += "</g>\n";
  }
  svg.close();
  return svg.out;
}

std::string render_bar_chart(const BarChart& c) {
  const size_t n = std::min(c.labels.size(), c.values.size());
  constexpr double kRow = 24, kBar = 16;
  const double W = c.width, header = 28, top = header + 6, plot_h = std::max<double>(1, n) * kRow;
  const double H = top + plot_h + kBottomMargin;
  Svg svg;
  svg.open(W, H, c.title, "bars");
  const bool integral = all_integral(c.values);
  std::vector<std::string> labels, values;
  double label_w = 0, value_w = 0;
  const double max_label_w = 0.4 * W;
  for (size_t i = 0; i < n; ++i) {
    std::string l = c.labels[i];
    for (size_t chars = l.size(); text_width(l, kFont) > max_label_w && chars > 1; --chars)
      l = truncate_utf8(c.labels[i], chars - 1);
    label_w = std::max(label_w, text_width(l, kFont));
    labels.push_back(std::move(l));
    values.push_back(value_text(std::max(0.0, c.values[i]), integral));
    value_w = std::max(value_w, text_width(values.back(), kFont));
  }
  if (n == 0) {
    svg.text(W / 2, top + plot_h / 2 + 4, "no data", "middle", " fill=\"" + std::string(kMutedColor) + "\"");
    svg.close();
    return svg.out;
  }
  const double left = 8 + label_w + 8, right = 10 + value_w + 6, plot_w = W - left - right;
  const Axis xa = fitted_x_axis(0, std::max(finite_max(c.values), integral ? 1.0 : 1e-12), plot_w, integral);
  const std::vector<std::string> xlabels = tick_labels(xa);
  const double bottom = top + plot_h;
  auto X = [&](double v) { return left + (v - xa.lo) / (xa.hi - xa.lo) * plot_w; };
  svg.out += "<g class=\"grid\">\n";
  for (double t : xa.ticks)
    if (t != xa.lo) svg.line(X(t), top, X(t), bottom, kGridColor);
  svg.out += "</g>\n<g class=\"axes\">\n";
  svg.line(left, top, left, bottom, kAxisColor);
  svg.line(left, bottom, left + plot_w, bottom, kAxisColor);
  for (size_t i = 0; i < xa.ticks.size(); ++i) {
    svg.line(X(xa.ticks[i]), bottom, X(xa.ticks[i]), bottom + kTickLength, kAxisColor);
    svg.text(X(xa.ticks[i]), bottom + kTickLength + 13, xlabels[i], "middle");
  }
  svg.text(left + plot_w / 2, H - 8, c.value_label, "middle", " fill=\"" + std::string(kMutedColor) + "\"");
  svg.out += "</g>\n<g class=\"series\" data-bars=\"" + std::to_string(n) + "\">\n";
  for (size_t i = 0; i < n; ++i) {
    const double v = std::isfinite(c.values[i]) ? std::max(0.0, c.values[i]) : 0.0;
    const double y = top + i * kRow, w = X(v) - left;
    svg.out += "<g><title>" + html_escape(c.labels[i]) + ": " + html_escape(values[i]) + "</title>";
    svg.out += "<rect x=\"" + px(left) + "\" y=\"" + px(y + (kRow - kBar) / 2) + "\" width=\"" + px(w) +
               "\" height=\"" + px(kBar) + "\" fill=\"" + c.color + "\"/></g>\n";
    svg.text(left - 8, y + kRow / 2 + 4, labels[i], "end");
    svg.text(left + w + 5, y + kRow / 2 + 4, values[i], "start");
  }
  svg.out += "</g>\n";
  svg.close();
  return svg.out;
}

std::string render_histogram(const HistogramChart& c) {
  const size_t n = c.edges.size() >= 2 ? std::min(c.counts.size(), c.edges.size() - 1) : 0;
  const double W = c.width, H = c.height, top = 28 + 8, plot_h = H - top - kBottomMargin;
  Svg svg;
  svg.open(W, H, c.title, "histogram");
  if (n == 0) {
    svg.text(W / 2, H / 2, "no data", "middle", " fill=\"" + std::string(kMutedColor) + "\"");
    svg.close();
    return svg.out;
  }
  const Axis ya = nice_axis(0, std::max(1.0, finite_max(c.counts)), std::max(3, static_cast<int>(plot_h / 34) + 1),
                            all_integral(c.counts));
  const std::vector<std::string> ylabels = tick_labels(ya);
  std::vector<std::string> edge_labels;
  const bool integral = all_integral(c.edges);
  for (size_t i = 0; i <= n; ++i)
    edge_labels.push_back(integral ? std::to_string(std::llround(c.edges[i])) : short_number(c.edges[i], 3));
  const double left = 8 + 16 + 8 + widest(ylabels, kFont) + kTickLength + 3;
  const double right = std::max(16.0, text_width(edge_labels.back(), kFont) / 2 + 6);
  const double plot_w = W - left - right, bin_w = plot_w / n, bottom = top + plot_h;
  // Every k-th edge labelled so that labels keep 8 px apart.
  const double label_w = widest(edge_labels, kFont) + 8;
  const size_t every = std::max<size_t>(1, static_cast<size_t>(std::ceil(label_w / bin_w)));
  auto Y = [&](double v) { return bottom - (v - ya.lo) / (ya.hi - ya.lo) * plot_h; };
  draw_frame(svg, ya, ylabels, left, top, plot_w, bottom, Y);
  for (size_t i = 0; i <= n; i += every) {
    svg.line(left + i * bin_w, bottom, left + i * bin_w, bottom + kTickLength, kAxisColor);
    svg.text(left + i * bin_w, bottom + kTickLength + 13, edge_labels[i], "middle");
  }
  svg.text(left + plot_w / 2, H - 8, c.x_label, "middle", " fill=\"" + std::string(kMutedColor) + "\"");
  const double yl_x = 20, yl_y = top + plot_h / 2;
  svg.text(yl_x, yl_y, c.y_label, "middle",
           " fill=\"" + std::string(kMutedColor) + "\" transform=\"rotate(-90 " + px(yl_x) + " " + px(yl_y) + ")\"");
  svg.out += "</g>\n<g class=\"series\" data-bars=\"" + std::to_string(n) + "\">\n";
  for (size_t i = 0; i < n; ++i) {
    const double v = std::isfinite(c.counts[i]) ? std::max(0.0, c.counts[i]) : 0.0;
    const std::string count = value_text(v, true);
    const double x = left + i * bin_w + 1, w = std::max(1.0, bin_w - 2);
    svg.out += "<g><title>" + html_escape(edge_labels[i] + "\xE2\x80\x93" + edge_labels[i + 1] + ": " + count) +
               "</title><rect x=\"" + px(x) + "\" y=\"" + px(Y(v)) + "\" width=\"" + px(w) + "\" height=\"" +
               px(bottom - Y(v)) + "\" fill=\"" + c.color + "\"/></g>\n";
    if (v > 0 && text_width(count, kFont) <= bin_w - 2) svg.text(x + w / 2, Y(v) - 4, count, "middle");
  }
  svg.out += "</g>\n";
  svg.close();
  return svg.out;
}

}  // namespace scitune
