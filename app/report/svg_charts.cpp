#include "app/report/svg_charts.h"

#include <algorithm>
#include <cctype>
#include <sstream>

#include "app/report/format.h"

namespace relops::report {
namespace {

constexpr int kWidth = 680;
// Dark hues on white keep a contrast above 7:1; each series also has its own pattern.
constexpr const char* kInk = "#111111";
constexpr const char* kBlue = "#1f4e79";
constexpr const char* kOrange = "#8a3b00";
constexpr const char* kGreen = "#2d5a1b";

std::string num(double value) { return common::formatDecimal(value, 1); }

// Patterns of one chart, prefixed with its id: ids stay unique on the page.
std::string patterns(const std::string& id) {
  std::ostringstream out;
  out << "<defs>"
      << "<pattern id=\"" << id
      << "-hatch\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\""
      << " patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"#ffffff\"/>"
      << "<line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"" << kOrange
      << "\" stroke-width=\"3\"/></pattern>"
      << "<pattern id=\"" << id
      << "-dots\" width=\"5\" height=\"5\" patternUnits=\"userSpaceOnUse\">"
      << "<rect width=\"5\" height=\"5\" fill=\"#ffffff\"/><circle cx=\"2.5\" cy=\"2.5\" r=\"1.4\" "
      << "fill=\"" << kGreen << "\"/></pattern>"
      << "</defs>";
  return out.str();
}

std::string open(const std::string& id, int height, const std::string& title) {
  std::ostringstream out;
  out << "<svg id=\"" << id
      << "\" class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " << kWidth << " "
      << height << "\" width=\"" << kWidth << "\" height=\"" << height
      << "\" role=\"img\" aria-labelledby=\"" << id << "-title\" font-family=\"DejaVu Sans, Arial, "
      << "Helvetica, sans-serif\" font-size=\"11\"><title id=\"" << id << "-title\">"
      << escapeHtml(title) << "</title>" << patterns(id) << "<rect width=\"" << kWidth
      << "\" height=\"" << height << "\" fill=\"#ffffff\"/>";
  return out.str();
}

std::string textAt(double x, double y, const std::string& text, const std::string& extra = "") {
  std::ostringstream out;
  out << "<text x=\"" << num(x) << "\" y=\"" << num(y) << "\" fill=\"" << kInk << "\"" << extra
      << ">" << escapeHtml(text) << "</text>";
  return out.str();
}

std::string empty(const std::string& id, const std::string& title, const std::string& why) {
  return open(id, 40, title) + textAt(10, 24, why) + "</svg>";
}

std::string legend(const std::string& id, double y) {
  std::ostringstream out;
  const std::pair<const char*, std::string> entries[] = {
      {"business hours (solid)", kBlue},
      {"off-hours (hatched)", "url(#" + id + "-hatch)"},
      {"weekend (dotted)", "url(#" + id + "-dots)"}};
  double x = 10;
  for (const auto& [label, fill] : entries) {
    out << "<rect x=\"" << num(x) << "\" y=\"" << num(y - 10) << "\" width=\"14\" height=\"12\" "
        << "fill=\"" << fill << "\" stroke=\"" << kInk << "\"/>" << textAt(x + 19, y, label);
    x += 190;
  }
  return out.str();
}

}  // namespace

std::string burndownChart(const SloReport& slo, const Period& period, size_t index) {
  const std::string id = "burndown-" + std::to_string(index);
  const std::string title = slo.namespace_ + "/" + slo.name + ": error budget left per day";
  if (slo.trail.empty()) return empty(id, title, title + ": no budget trail in the period");
  constexpr double left = 52, right = 20, top = 22, plotHeight = 130;
  const double plotWidth = kWidth - left - right;
  double low = 0, high = 100;
  for (const TrailPoint& point : slo.trail) {
    low = std::min(low, point.remaining);
    high = std::max(high, point.remaining);
  }
  low = std::max(low, -400.0);  // the axis stays readable; values below are drawn at the edge
  const double days = std::max<double>(
      1, std::chrono::duration_cast<std::chrono::days>(period.to - period.from).count());
  auto yOf = [&](double value) {
    return top + (high - std::clamp(value, low, high)) / (high - low) * plotHeight;
  };
  auto xOf = [&](const std::string& date) {
    auto day = common::parseRfc3339(date + "T00:00:00Z", "date");
    const double offset =
        day ? std::chrono::duration_cast<std::chrono::hours>(*day - period.from).count() / 24.0 + 1
            : 0;
    return left + std::clamp(offset, 0.0, days) / days * plotWidth;
  };
  std::ostringstream out;
  out << open(id, 190, title) << textAt(left, 14, title, " font-weight=\"bold\"");
  // Overspent: below 0 % the area is hatched.
  if (low < 0) {
    out << "<rect x=\"" << num(left) << "\" y=\"" << num(yOf(0)) << "\" width=\"" << num(plotWidth)
        << "\" height=\"" << num(yOf(low) - yOf(0)) << "\" fill=\"url(#" << id
        << "-hatch)\" opacity=\"0.35\"/>"
        << textAt(left + 4, yOf(low) - 4, "overspent (below 0 %)", " font-size=\"10\"");
  }
  for (const double mark : {high, 50.0, 0.0, low}) {
    if (mark < low || mark > high) continue;
    out << "<line x1=\"" << num(left) << "\" x2=\"" << num(left + plotWidth) << "\" y1=\""
        << num(yOf(mark)) << "\" y2=\"" << num(yOf(mark)) << "\" stroke=\"" << kInk
        << "\" stroke-width=\"" << (mark == 0 ? 1.5 : 0.4) << "\""
        << (mark == 0 ? "" : " stroke-dasharray=\"3 3\"") << "/>"
        << textAt(left - 6, yOf(mark) + 4, num(mark) + "%", " text-anchor=\"end\"");
  }
  out << "<polyline class=\"series\" fill=\"none\" stroke=\"" << kBlue
      << "\" stroke-width=\"2\" points=\"";
  for (const TrailPoint& point : slo.trail) {
    out << num(xOf(point.date)) << "," << num(yOf(point.remaining)) << " ";
  }
  out << "\"/>";
  for (const TrailPoint& point : slo.trail) {
    out << "<rect x=\"" << num(xOf(point.date) - 1.5) << "\" y=\""
        << num(yOf(point.remaining) - 1.5) << "\" width=\"3\" height=\"3\" fill=\"" << kBlue
        << "\"><title>" << point.date << ": " << num(point.remaining) << "%</title></rect>";
  }
  const TrailPoint& last = slo.trail.back();
  out << textAt(left, top + plotHeight + 16, common::formatRfc3339(period.from).substr(0, 10))
      << textAt(left + plotWidth, top + plotHeight + 16,
                "last " + last.date + ": " + num(last.remaining) + "% left", " text-anchor=\"end\"")
      << "</svg>";
  return out.str();
}

std::string attainmentChart(const Report& report) {
  const std::string id = "attainment";
  const std::string title = "Attainment per closed period (calendar SLOs)";
  std::vector<const SloReport*> rows;
  for (const SloReport& slo : report.slos) {
    if (!slo.history.empty() && rows.size() < kMaxAttainmentRows) rows.push_back(&slo);
  }
  if (rows.empty()) return empty(id, title, "No calendar SLO has closed a period yet.");
  constexpr double labelWidth = 200, rowHeight = 40, top = 30;
  size_t columns = 6;
  for (const SloReport* slo : rows) columns = std::max(columns, slo->history.size());
  const double cellWidth = (kWidth - labelWidth - 10) / static_cast<double>(columns);
  std::ostringstream out;
  const int height = static_cast<int>(top + rows.size() * rowHeight + 30);
  out << open(id, height, title)
      << textAt(10, 16, "Each cell: SLI % and the result (Met; Missed hatched; no data dotted)",
                " font-size=\"10\"");
  double y = top;
  for (const SloReport* slo : rows) {
    out << textAt(10, y + 20, slo->namespace_ + "/" + slo->name);
    double x = labelWidth;
    for (const ClosedPeriod& p : slo->history) {
      const std::string fill = p.result == "Missed" ? "url(#" + id + "-hatch)"
                               : p.result == "Met"  ? "#ffffff"
                                                    : "url(#" + id + "-dots)";
      out << "<g class=\"cell\"><rect x=\"" << num(x) << "\" y=\"" << num(y) << "\" width=\""
          << num(cellWidth - 2) << "\" height=\"" << num(rowHeight - 4) << "\" fill=\"" << fill
          << "\" stroke=\"" << kInk << "\" stroke-width=\"" << (p.inReport ? 2 : 0.6)
          << "\"><title>" << escapeHtml(p.label + ": " + p.result) << "</title></rect>"
          << "<rect x=\"" << num(x + 1) << "\" y=\"" << num(y + 1) << "\" width=\""
          << num(cellWidth - 4) << "\" height=\"13\" fill=\"#ffffff\"/>"
          << textAt(x + cellWidth / 2 - 1, y + 11, p.label,
                    " font-size=\"10\" text-anchor=\"middle\"")
          << "<rect x=\"" << num(x + 1) << "\" y=\"" << num(y + 17) << "\" width=\""
          << num(cellWidth - 4) << "\" height=\"15\" fill=\"#ffffff\"/>"
          << textAt(x + cellWidth / 2 - 1, y + 29,
                    p.result == "Met"      ? "✓ " + decimal(p.sli, 3, "")
                    : p.result == "Missed" ? "✗ " + decimal(p.sli, 3, "")
                                           : "no data",
                    " font-size=\"10\" text-anchor=\"middle\"")
          << "</g>";
      x += cellWidth;
    }
    y += rowHeight;
  }
  out << textAt(10, y + 16, "A thick border marks the periods inside the report.",
                " font-size=\"10\"")
      << "</svg>";
  return out.str();
}

std::string oncallLoadChart(const Report& report) {
  const std::string id = "oncall-load";
  const std::string title = "On-call hours per person";
  struct Row {
    std::string label;
    const PersonLoad* load;
  };
  std::vector<Row> rows;
  double most = 1;
  for (const RotationReport& rotation : report.rotations) {
    for (const PersonLoad& person : rotation.load) {
      if (rows.size() == kMaxLoadRows) break;
      rows.push_back({rotation.name + ": " + person.participant, &person});
      most = std::max(most, person.hours);
    }
  }
  if (rows.empty()) return empty(id, title, "No rotation reports a load.");
  constexpr double labelWidth = 200, rowHeight = 22, top = 34, valueWidth = 150;
  const double barWidth = kWidth - labelWidth - valueWidth - 10;
  std::ostringstream out;
  out << open(id, static_cast<int>(top + rows.size() * rowHeight + 10), title) << legend(id, 18);
  double y = top;
  for (const Row& row : rows) {
    out << "<g class=\"bar\">" << textAt(10, y + 14, row.label);
    double x = labelWidth;
    const std::pair<double, std::string> parts[] = {{row.load->business, kBlue},
                                                    {row.load->offHours, "url(#" + id + "-hatch)"},
                                                    {row.load->weekend, "url(#" + id + "-dots)"}};
    for (const auto& [hours, fill] : parts) {
      const double width = hours / most * barWidth;
      if (width <= 0) continue;
      out << "<rect x=\"" << num(x) << "\" y=\"" << num(y + 3) << "\" width=\"" << num(width)
          << "\" height=\"15\" fill=\"" << fill << "\" stroke=\"" << kInk
          << "\" stroke-width=\"0.6\"/>";
      x += width;
    }
    out << textAt(labelWidth + barWidth + 6, y + 14,
                  num(row.load->hours) + " h (" + num(row.load->business) + " / " +
                      num(row.load->offHours) + " / " + num(row.load->weekend) + ")")
        << "</g>";
    y += rowHeight;
  }
  out << "</svg>";
  return out.str();
}

std::string drillChart(const Report& report) {
  const std::string id = "drills";
  const std::string title = "Drill runs: measured RTO and RPO against objectives";
  std::vector<const DrillRunReport*> rows;
  for (const DrillReport& drill : report.drills) {
    for (const DrillRunReport& run : drill.runs) {
      if (rows.size() < kMaxDrillRows) rows.push_back(&run);
    }
  }
  if (rows.empty()) return empty(id, title, "No drill ran in the period.");
  constexpr double labelWidth = 250, rowHeight = 40, top = 34, valueWidth = 150;
  const double barWidth = kWidth - labelWidth - valueWidth - 10;
  std::ostringstream out;
  out << open(id, static_cast<int>(top + rows.size() * rowHeight + 10), title)
      << "<rect x=\"10\" y=\"8\" width=\"14\" height=\"12\" fill=\"" << kBlue << "\"/>"
      << textAt(29, 18, "RTO (solid)")
      << "<rect x=\"130\" y=\"8\" width=\"14\" height=\"12\" fill=\"url(#" << id
      << "-hatch)\" stroke=\"" << kInk << "\"/>" << textAt(149, 18, "RPO (hatched)")
      << "<line x1=\"260\" x2=\"260\" y1=\"6\" y2=\"22\" stroke=\"" << kInk
      << "\" stroke-width=\"2\" stroke-dasharray=\"3 2\"/>" << textAt(266, 18, "objective");
  double y = top;
  for (const DrillRunReport* run : rows) {
    const std::string verdict = run->verdict.empty() ? "RUNNING" : run->verdict;
    std::string upper;
    for (const unsigned char c : verdict) upper += static_cast<char>(std::toupper(c));
    out << "<g class=\"run\">" << textAt(10, y + 14, run->name)
        << textAt(10, y + 30, upper + "  " + run->start.substr(0, 10),
                  upper == "PASS" ? "" : " font-weight=\"bold\"");
    const std::pair<const char*, std::pair<std::optional<int64_t>, std::optional<int64_t>>>
        measures[] = {{"RTO", {run->rtoSeconds, run->rtoObjective}},
                      {"RPO", {run->rpoSeconds, run->rpoObjective}}};
    double rowY = y + 2;
    for (const auto& [name, values] : measures) {
      const auto& [measured, objective] = values;
      const double scale = static_cast<double>(
          std::max<int64_t>({1, measured.value_or(0), objective.value_or(0) * 3 / 2}));
      const std::string fill = std::string(name) == "RTO" ? kBlue : "url(#" + id + "-hatch)";
      if (measured) {
        out << "<rect x=\"" << num(labelWidth) << "\" y=\"" << num(rowY) << "\" width=\""
            << num(std::max(1.0, *measured / scale * barWidth)) << "\" height=\"14\" fill=\""
            << fill << "\" stroke=\"" << kInk << "\" stroke-width=\"0.6\"/>";
      }
      if (objective) {
        const double x = labelWidth + *objective / scale * barWidth;
        out << "<line x1=\"" << num(x) << "\" x2=\"" << num(x) << "\" y1=\"" << num(rowY - 2)
            << "\" y2=\"" << num(rowY + 16) << "\" stroke=\"" << kInk
            << "\" stroke-width=\"2\" stroke-dasharray=\"3 2\"/>";
      }
      std::string label = std::string(name) + " " +
                          (measured ? formatDuration(std::chrono::seconds(*measured)) : "–");
      if (objective) {
        label += " / " + formatDuration(std::chrono::seconds(*objective));
        if (measured && *measured > *objective) label += " OVER";
      }
      out << textAt(labelWidth + barWidth + 6, rowY + 11, label);
      rowY += 18;
    }
    out << "</g>";
    y += rowHeight;
  }
  out << "</svg>";
  return out.str();
}

std::string freezeChart(const Report& report) {
  const std::string id = "freezes";
  const std::string title = "Change freezes in the period";
  std::vector<const FreezeReport*> rows;
  for (const FreezeReport& freeze : report.freezes) {
    if (freeze.days > 0 && rows.size() < kMaxFreezeRows) rows.push_back(&freeze);
  }
  if (rows.empty()) return empty(id, title, "No freeze was active in the period.");
  constexpr double labelWidth = 230, rowHeight = 22, top = 14, valueWidth = 80;
  const double barWidth = kWidth - labelWidth - valueWidth - 10;
  const double span = std::max<double>(
      1, std::chrono::duration_cast<std::chrono::seconds>(report.period.to - report.period.from)
             .count());
  std::ostringstream out;
  out << open(id, static_cast<int>(top + rows.size() * rowHeight + 26), title);
  double y = top;
  for (const FreezeReport* freeze : rows) {
    const auto since = common::parseRfc3339(freeze->since, "since");
    const TimePoint start = since ? std::max(*since, report.period.from) : report.period.from;
    const double x =
        labelWidth +
        std::chrono::duration_cast<std::chrono::seconds>(start - report.period.from).count() /
            span * barWidth;
    const double width = freeze->days * 86400 / span * barWidth;
    out << "<g class=\"freeze\">" << textAt(10, y + 14, freeze->namespace_ + "/" + freeze->slo)
        << "<rect x=\"" << num(labelWidth) << "\" y=\"" << num(y + 3) << "\" width=\""
        << num(barWidth) << "\" height=\"15\" fill=\"none\" stroke=\"" << kInk
        << "\" stroke-width=\"0.4\"/><rect x=\"" << num(x) << "\" y=\"" << num(y + 3)
        << "\" width=\"" << num(std::max(1.0, width)) << "\" height=\"15\" fill=\"url(#" << id
        << "-hatch)\" stroke=\"" << kInk << "\"/>"
        << textAt(labelWidth + barWidth + 6, y + 14, num(freeze->days) + " days") << "</g>";
    y += rowHeight;
  }
  out << textAt(labelWidth, y + 14, common::formatRfc3339(report.period.from).substr(0, 10))
      << textAt(labelWidth + barWidth, y + 14,
                common::formatRfc3339(report.period.to).substr(0, 10), " text-anchor=\"end\"")
      << "</svg>";
  return out.str();
}

}  // namespace relops::report
