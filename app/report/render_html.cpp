#include <sstream>

#include "app/report/format.h"
#include "app/report/report.h"
#include "app/report/svg_charts.h"

namespace relops::report {
namespace {

// Printable on A4, readable in greyscale: black text on white, borders rather than shading,
// verdicts written as words. No web font, no script, nothing fetched.
constexpr std::string_view kStyle = R"(
@page { size: A4; margin: 14mm 12mm; }
* { box-sizing: border-box; }
body { font: 10pt/1.4 "DejaVu Sans", Arial, Helvetica, sans-serif; color: #111; background: #fff;
       max-width: 186mm; margin: 0 auto; padding: 4mm 0; }
h1 { font-size: 16pt; margin: 0 0 2mm; }
h2 { font-size: 12.5pt; margin: 6mm 0 2mm; border-bottom: 1.5px solid #111; break-after: avoid; }
h3 { font-size: 10.5pt; margin: 4mm 0 1mm; break-after: avoid; }
table { border-collapse: collapse; width: 100%; font-size: 8.5pt; margin: 1mm 0 3mm; }
th, td { border: 1px solid #444; padding: 1.5px 4px; text-align: left; vertical-align: top; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #fff; font-weight: bold; border-bottom: 2px solid #111; }
.missed { font-weight: bold; text-decoration: underline; }
td.missed, td.verdict { white-space: nowrap; }
.meta { margin: 0 0 3mm; padding-left: 5mm; }
.note { border: 1px dashed #111; padding: 1.5mm 3mm; margin: 2mm 0; }
figure { margin: 2mm 0 4mm; break-inside: avoid; page-break-inside: avoid; }
svg.chart { width: 100%; height: auto; display: block; }
tr { break-inside: avoid; }
@media print { body { max-width: none; padding: 0; } h2 { break-before: auto; } }
)";

std::string td(const std::string& text, bool numeric = false) {
  return std::string(numeric ? "<td class=\"n\">" : "<td>") + escapeHtml(text) + "</td>";
}
std::string td(int64_t value) { return td(std::to_string(value), true); }

std::string verdictCell(const std::string& verdict) {
  if (verdict == "Missed" || verdict == "Fail" || verdict == "Error") {
    return "<td class=\"missed\">✗ " + escapeHtml(verdict) + "</td>";
  }
  if (verdict == "Met" || verdict == "Pass")
    return "<td class=\"verdict\">✓ " + escapeHtml(verdict) + "</td>";
  return td(verdict.empty() ? "–" : verdict);
}

std::string optionalDuration(const std::optional<std::chrono::seconds>& value) {
  return value ? formatDuration(*value) : "–";
}

std::string optionalSeconds(const std::optional<int64_t>& value) {
  return value ? formatDuration(std::chrono::seconds(*value)) : "–";
}

void header(std::ostringstream& out, std::initializer_list<std::pair<const char*, bool>> columns) {
  out << "<table><thead><tr>";
  for (const auto& [name, numeric] : columns) {
    out << (numeric ? "<th class=\"n\">" : "<th>") << name << "</th>";
  }
  out << "</tr></thead><tbody>";
}

}  // namespace

std::string renderHtml(const Report& report) {
  std::ostringstream out;
  const std::string title = "Reliability report " + report.period.label;
  out << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      << "<title>" << escapeHtml(title) << "</title><style>" << kStyle << "</style></head><body>"
      << "<h1>" << escapeHtml(title) << "</h1><ul class=\"meta\">"
      << "<li>Scope: " << escapeHtml(report.scope) << "</li>"
      << "<li>Period: " << common::formatRfc3339(report.period.from) << " to "
      << common::formatRfc3339(report.period.to) << " (UTC)"
      << (report.now < report.period.to ? ", so far" : "") << "</li>"
      << "<li>Generated: " << common::formatRfc3339(report.now) << "</li>"
      << "<li>Team: the label <code>" << kTeamLabel << "</code>, or the namespace</li></ul>";
  std::vector<std::string> notes = report.notes;
  if (report.slos.size() > kMaxBurndownCharts) {
    notes.push_back("budget burn-down charts are drawn for the first " +
                    std::to_string(kMaxBurndownCharts) + " of " +
                    std::to_string(report.slos.size()) + " SLOs; the tables list all");
  }
  for (const std::string& note : notes) {
    out << "<p class=\"note\">Cut: " << escapeHtml(note) << "</p>";
  }

  out << "<h2>Teams</h2>";
  header(out, {{"Team", false},
               {"SLOs met / missed / no data", true},
               {"Burn episodes", true},
               {"MTTR", true},
               {"Coverage gaps", true},
               {"Worst balance", true},
               {"Drills passed / runs", true},
               {"Objectives missed", true},
               {"Freeze days", true}});
  for (const TeamSummary& t : report.teams) {
    out << "<tr>" << td(t.team)
        << td(std::to_string(t.met) + " / " + std::to_string(t.missed) + " / " +
                  std::to_string(t.noData),
              true)
        << td(t.episodes) << td(optionalDuration(t.mttr), true)
        << td(formatDuration(t.gapTime), true) << td(decimal(t.worstBalance), true)
        << td(std::to_string(t.drillsPassed) + " / " + std::to_string(t.drillRuns), true)
        << td(t.objectivesMissed) << td(common::formatDecimal(t.freezeDays, 1), true) << "</tr>";
  }
  out << "</tbody></table>";

  out << "<h2>Services</h2>";
  header(out, {{"Team", false},
               {"Service", false},
               {"SLOs", true},
               {"Met", true},
               {"Missed", true},
               {"Worst attainment", true},
               {"Burn episodes", true},
               {"MTTR", true}});
  for (const ServiceSummary& s : report.services) {
    out << "<tr>" << td(s.team) << td(s.service) << td(s.slos) << td(s.met) << td(s.missed)
        << td(percent(s.worstAttainment), true) << td(s.episodes)
        << td(optionalDuration(s.mttr), true) << "</tr>";
  }
  out << "</tbody></table>";

  out << "<h2>Service level objectives</h2>";
  header(out, {{"SLO", false},
               {"Window", false},
               {"Objective", true},
               {"Attainment", true},
               {"Verdict", false},
               {"Basis", false},
               {"Budget left", true},
               {"Episodes", true},
               {"MTTR", true}});
  for (const SloReport& slo : report.slos) {
    out << "<tr>" << td(slo.namespace_ + "/" + slo.name)
        << td(slo.window + (slo.calendar ? " (" + slo.timeZone + ")" : ""))
        << td(percent(slo.objective), true) << td(percent(slo.attainment), true)
        << verdictCell(slo.verdict) << td(slo.basis) << td(percent(slo.budgetRemaining), true)
        << td(static_cast<int64_t>(slo.episodes.size())) << td(optionalDuration(slo.mttr), true)
        << "</tr>";
  }
  out << "</tbody></table>";

  out << "<h2>Attainment per period</h2><figure>" << attainmentChart(report) << "</figure>";

  out << "<h2>Error budget burn-down</h2>";
  for (size_t i = 0; i < report.slos.size() && i < kMaxBurndownCharts; ++i) {
    out << "<figure>" << burndownChart(report.slos[i], report.period, i) << "</figure>";
  }

  out << "<h2>Burn episodes and time to recover</h2>";
  header(out, {{"SLO", false},
               {"Condition", false},
               {"Start", false},
               {"Time to recover", true},
               {"Peak burn", true},
               {"Budget spent", true}});
  for (const SloReport& slo : report.slos) {
    for (const BurnEpisode& e : slo.episodes) {
      out << "<tr>" << td(slo.namespace_ + "/" + slo.name) << td(e.condition)
          << td(common::formatRfc3339(e.start))
          << td(formatDuration(e.duration) + (e.end ? "" : " (ongoing)"), true)
          << td(decimal(e.peakBurnRate, 2), true) << td(percent(e.budgetSpent), true) << "</tr>";
    }
  }
  out << "</tbody></table>";

  out << "<h2>On-call load</h2><figure>" << oncallLoadChart(report) << "</figure>";
  header(out, {{"Rotation", false},
               {"Load window", false},
               {"Balance", true},
               {"Overloaded", false},
               {"Coverage gaps in period", true}});
  for (const RotationReport& r : report.rotations) {
    std::string overloaded;
    for (const std::string& name : r.overloaded)
      overloaded += (overloaded.empty() ? "" : ", ") + name;
    out << "<tr>" << td(r.namespace_ + "/" + r.name)
        << td(r.loadFrom.empty() ? "–" : r.loadFrom.substr(0, 10) + " to " + r.loadTo.substr(0, 10))
        << td(decimal(r.balance), true) << td(overloaded.empty() ? "–" : overloaded)
        << td(std::to_string(r.gaps.size()) + " (" + formatDuration(r.gapTime) + ")", true)
        << "</tr>";
  }
  out << "</tbody></table>";

  out << "<h2>Disaster-recovery drills</h2><figure>" << drillChart(report) << "</figure>";
  header(out, {{"Drill", false},
               {"Type", false},
               {"RTO objective", true},
               {"RPO objective", true},
               {"Passed / runs", true},
               {"Objectives missed", true},
               {"Pass rate", true}});
  for (const DrillReport& d : report.drills) {
    out << "<tr>" << td(d.namespace_ + "/" + d.name) << td(d.type.empty() ? "–" : d.type)
        << td(optionalSeconds(d.rtoObjective), true) << td(optionalSeconds(d.rpoObjective), true)
        << td(std::to_string(d.passed) + " / " + std::to_string(d.runs.size()), true)
        << td(d.objectivesMissed) << td(d.passRate.empty() ? "–" : d.passRate + "%", true)
        << "</tr>";
  }
  out << "</tbody></table>";

  out << "<h2>Change freezes</h2><figure>" << freezeChart(report) << "</figure>"
      << "<p>Freezes still active when the report was generated; ended freezes are not kept "
         "in status.</p>";

  out << "<h2>Change windows</h2>";
  header(out, {{"Window", false},
               {"Type", false},
               {"When", false},
               {"Reason", false},
               {"Occurrences in period", false},
               {"Days so far", true}});
  for (const WindowReport& w : report.windows) {
    std::string occurrences;
    for (const WindowOccurrence& o : w.occurrences) {
      occurrences += (occurrences.empty() ? "" : "; ") + o.start.substr(0, 16) + " to " +
                     o.end.substr(0, 16) + " (" + o.state + ")";
    }
    if (w.cut) occurrences += "; more not listed";
    if (!w.problem.empty()) occurrences = "cannot be read: " + w.problem;
    out << "<tr>" << td(w.namespace_ + "/" + w.name) << td(w.type.empty() ? "–" : w.type)
        << td(w.when) << td(w.reason.empty() ? "–" : w.reason)
        << td(occurrences.empty() ? "none" : occurrences)
        << td(common::formatDecimal(w.days, 1), true) << "</tr>";
  }
  out << "</tbody></table></body></html>\n";
  return out.str();
}

}  // namespace relops::report
