// Inline SVG charts for the run report: line charts (several series, legend), horizontal bar charts for named
// categories and histograms over consecutive bins. Axes get "nice" ticks (1, 2, 5 x 10^k) thinned until their
// labels cannot overlap, using a conservative estimate of text width; output is deterministic text.
//
// Why not PLplot (Debian 12 libplplot-dev 5.15, `svg` device), which the issue suggested and we tried:
// it can write to memory (open_memstream + plsfile; plend closes the FILE itself) and its SVG is readable and
// deterministic, but (1) libplplot-dev depends on the Qt5, wxWidgets and Fortran bindings, which pull Qt5,
// GTK3, Mesa and gfortran (~200 packages) onto a headless build machine for a few line charts; (2) the device
// is a plugin loaded at run time from /usr/lib/.../plplot5.15.0/drivers (plus palettes from /usr/share), and
// plinit creates a temporary file under /tmp; (3) its errors end the process through exit() (plexit) or go
// to stderr (plabort), outside our UserError/InternalError model, and a C callback cannot throw through it;
// (4) all state sits in a process-wide "current stream"; (5) every glyph is a numeric entity, one attribute
// per line (~40 KB for one small chart), '#' in labels is its escape character (source paths would need
// escaping), and label positions come from Hershey font metrics rather than the page's font.
// A chart here is ~400 lines we fully control (fonts from the page, layout without overlaps, tests).
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace scitune {

struct ChartSeries {
  std::string name;
  std::string color;         // CSS colour, e.g. "#1f77b4"
  std::vector<double> x, y;  // same length; a non-finite y leaves a gap
  bool markers = false;      // a dot at every point (sparse series such as evaluations)
};

struct LineChart {
  std::string title, x_label, y_label;
  std::vector<ChartSeries> series;  // a legend is drawn when there are two or more
  bool integer_x = true;            // x ticks at whole numbers (optimizer steps)
  int width = 560, height = 260;
};

// One horizontal bar per named category, the value written at the end of the bar.
struct BarChart {
  std::string title, value_label;
  std::vector<std::string> labels;
  std::vector<double> values;  // >= 0
  std::string color = "#4c78a8";
  int width = 560;  // the height follows from the number of bars
};

// Vertical bars over consecutive bins [edges[i], edges[i+1]), drawn equally wide (for power-of-two bins this is
// a log2 x axis), edge values as x tick labels.
struct HistogramChart {
  std::string title, x_label, y_label;
  std::vector<double> edges;   // bins + 1, increasing
  std::vector<double> counts;  // bins, >= 0
  std::string color = "#4c78a8";
  int width = 560, height = 260;
};

std::string render_line_chart(const LineChart& chart);
std::string render_bar_chart(const BarChart& chart);
std::string render_histogram(const HistogramChart& chart);

// An axis from lo to hi (both multiples of step) that covers [data_lo, data_hi] with at most max_ticks ticks.
struct Axis {
  double lo = 0, hi = 1, step = 1;
  std::vector<double> ticks;
};
Axis nice_axis(double data_lo, double data_hi, int max_ticks, bool integer);
// A tick value written with as many decimals as the step needs; scientific below 1e-3 and from 1e7.
std::string tick_label(double v, double step, double axis_max_abs);
// An upper estimate of the width in pixels of text in a sans-serif font.
double text_width(std::string_view text, double font_size);
// At most max_points of a long series: the first and last point and, per bucket, the lowest and highest y,
// so spikes stay visible. Shorter series are left alone.
void thin_series(std::vector<double>& x, std::vector<double>& y, size_t max_points);

}  // namespace scitune
