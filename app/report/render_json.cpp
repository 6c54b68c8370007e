#include <cmath>

#include "app/report/report.h"

namespace relops::report {
namespace {

using nlohmann::json;

// Absent values are left out of the object, never written as null or zero.
void put(json& object, const char* key, const std::optional<double>& value) {
  if (value) object[key] = std::round(*value * 1e6) / 1e6;
}
void put(json& object, const char* key, const std::optional<int64_t>& value) {
  if (value) object[key] = *value;
}
void put(json& object, const char* key, const std::optional<std::chrono::seconds>& value) {
  if (value) object[key] = value->count();
}
void put(json& object, const char* key, const std::string& value) {
  if (!value.empty()) object[key] = value;
}

json sloJson(const SloReport& slo) {
  json out = {{"namespace", slo.namespace_}, {"name", slo.name},         {"team", slo.team},
              {"service", slo.service},      {"calendar", slo.calendar}, {"basis", slo.basis},
              {"verdict", slo.verdict}};
  put(out, "indicator", slo.indicator);
  put(out, "window", slo.window);
  if (slo.calendar) out["timeZone"] = slo.timeZone;
  put(out, "objective", slo.objective);
  put(out, "sli", slo.sli);
  put(out, "budgetRemaining", slo.budgetRemaining);
  put(out, "currentPeriod", slo.currentPeriod);
  put(out, "attainment", slo.attainment);
  put(out, "mttrSeconds", slo.mttr);
  json history = json::array();
  for (const ClosedPeriod& p : slo.history) {
    json entry = {{"label", p.label},
                  {"start", p.start},
                  {"end", p.end},
                  {"result", p.result},
                  {"inReport", p.inReport}};
    put(entry, "objective", p.objective);
    put(entry, "sli", p.sli);
    put(entry, "budgetConsumed", p.budgetConsumed);
    put(entry, "badMinutes", p.badMinutes);
    history.push_back(std::move(entry));
  }
  out["periodHistory"] = std::move(history);
  json episodes = json::array();
  for (const BurnEpisode& e : slo.episodes) {
    json entry = {{"condition", e.condition},
                  {"start", common::formatRfc3339(e.start)},
                  {"ongoing", !e.end.has_value()},
                  {"durationSeconds", e.duration.count()}};
    if (e.end) entry["end"] = common::formatRfc3339(*e.end);
    put(entry, "peakBurnRate", e.peakBurnRate);
    put(entry, "budgetRemainingAtStart", e.budgetRemainingAtStart);
    put(entry, "budgetSpent", e.budgetSpent);
    episodes.push_back(std::move(entry));
  }
  out["burnEpisodes"] = std::move(episodes);
  json trail = json::array();
  for (const TrailPoint& point : slo.trail) {
    trail.push_back({{"date", point.date}, {"remaining", std::round(point.remaining * 1e6) / 1e6}});
  }
  out["budgetTrail"] = std::move(trail);
  return out;
}

json rotationJson(const RotationReport& r) {
  json out = {{"namespace", r.namespace_}, {"name", r.name}, {"team", r.team}};
  put(out, "timeZone", r.timeZone);
  put(out, "loadFrom", r.loadFrom);
  put(out, "loadTo", r.loadTo);
  json load = json::array();
  for (const PersonLoad& p : r.load) {
    json entry = {{"participant", p.participant}};
    put(entry, "hours", std::optional<double>(p.hours));
    put(entry, "businessHours", std::optional<double>(p.business));
    put(entry, "offHours", std::optional<double>(p.offHours));
    put(entry, "weekendHours", std::optional<double>(p.weekend));
    load.push_back(std::move(entry));
  }
  out["load"] = std::move(load);
  put(out, "balance", r.balance);
  out["overloaded"] = r.overloaded;
  json gaps = json::array();
  for (const Gap& gap : r.gaps) {
    gaps.push_back(
        {{"start", common::formatRfc3339(gap.start)}, {"end", common::formatRfc3339(gap.end)}});
  }
  out["gaps"] = std::move(gaps);
  out["gapSeconds"] = r.gapTime.count();
  return out;
}

json drillJson(const DrillReport& d) {
  json out = {{"namespace", d.namespace_},
              {"name", d.name},
              {"team", d.team},
              {"passed", d.passed},
              {"failed", d.failed},
              {"errored", d.errored},
              {"objectivesMissed", d.objectivesMissed},
              {"consecutiveFailures", d.consecutiveFailures}};
  put(out, "type", d.type);
  put(out, "rtoObjectiveSeconds", d.rtoObjective);
  put(out, "rpoObjectiveSeconds", d.rpoObjective);
  put(out, "passRate", d.passRate);
  json runs = json::array();
  for (const DrillRunReport& run : d.runs) {
    json entry = {{"namespace", run.namespace_}, {"name", run.name}, {"start", run.start}};
    put(entry, "verdict", run.verdict);
    put(entry, "rtoSeconds", run.rtoSeconds);
    put(entry, "rpoSeconds", run.rpoSeconds);
    put(entry, "rtoObjectiveSeconds", run.rtoObjective);
    put(entry, "rpoObjectiveSeconds", run.rpoObjective);
    if (run.objectivesMet) entry["objectivesMet"] = *run.objectivesMet;
    runs.push_back(std::move(entry));
  }
  out["runs"] = std::move(runs);
  return out;
}

}  // namespace

json renderJson(const Report& report) {
  json teams = json::array();
  for (const TeamSummary& t : report.teams) {
    json entry = {{"team", t.team},
                  {"slos", t.slos},
                  {"met", t.met},
                  {"missed", t.missed},
                  {"noData", t.noData},
                  {"burnEpisodes", t.episodes},
                  {"rotations", t.rotations},
                  {"gapSeconds", t.gapTime.count()},
                  {"drillRuns", t.drillRuns},
                  {"drillsPassed", t.drillsPassed},
                  {"objectivesMissed", t.objectivesMissed},
                  {"freezeDays", std::round(t.freezeDays * 10) / 10}};
    put(entry, "mttrSeconds", t.mttr);
    put(entry, "worstBalance", t.worstBalance);
    teams.push_back(std::move(entry));
  }
  json services = json::array();
  for (const ServiceSummary& s : report.services) {
    json entry = {{"team", s.team}, {"service", s.service}, {"slos", s.slos},
                  {"met", s.met},   {"missed", s.missed},   {"burnEpisodes", s.episodes}};
    put(entry, "mttrSeconds", s.mttr);
    put(entry, "worstAttainment", s.worstAttainment);
    services.push_back(std::move(entry));
  }
  json slos = json::array();
  for (const SloReport& slo : report.slos) slos.push_back(sloJson(slo));
  json rotations = json::array();
  for (const RotationReport& r : report.rotations) rotations.push_back(rotationJson(r));
  json drills = json::array();
  for (const DrillReport& d : report.drills) drills.push_back(drillJson(d));
  json freezes = json::array();
  for (const FreezeReport& f : report.freezes) {
    freezes.push_back({{"namespace", f.namespace_},
                       {"policy", f.policy},
                       {"team", f.team},
                       {"slo", f.slo},
                       {"rule", f.rule},
                       {"since", f.since},
                       {"days", f.days},
                       {"workloads", f.workloads}});
  }
  json windows = json::array();
  for (const WindowReport& w : report.windows) {
    json occurrences = json::array();
    for (const WindowOccurrence& o : w.occurrences) {
      occurrences.push_back({{"start", o.start}, {"end", o.end}, {"state", o.state}});
    }
    json window = {{"namespace", w.namespace_},
                   {"name", w.name},
                   {"team", w.team},
                   {"type", w.type},
                   {"when", w.when},
                   {"reason", w.reason},
                   {"days", w.days},
                   {"cut", w.cut},
                   {"occurrences", occurrences}};
    if (!w.problem.empty()) window["problem"] = w.problem;
    windows.push_back(std::move(window));
  }
  return {{"apiVersion", kReportApiVersion},
          {"kind", kReportKind},
          {"scope", report.scope},
          {"period",
           {{"label", report.period.label},
            {"from", common::formatRfc3339(report.period.from)},
            {"to", common::formatRfc3339(report.period.to)}}},
          {"generatedAt", common::formatRfc3339(report.now)},
          {"teamLabel", kTeamLabel},
          {"notes", report.notes},
          {"teams", std::move(teams)},
          {"services", std::move(services)},
          {"slos", std::move(slos)},
          {"rotations", std::move(rotations)},
          {"drills", std::move(drills)},
          {"freezes", std::move(freezes)},
          {"changeWindows", std::move(windows)}};
}

}  // namespace relops::report
