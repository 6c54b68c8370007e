#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>

#include "app/report/report.h"
#include "controllers/common/change_window.h"
#include "controllers/common/units.h"

namespace relops::report {
namespace {

using nlohmann::json;
using std::chrono::seconds;

// Tolerant readers: a report renders whatever an object has; a missing or mistyped field
// is absent, never an error (objects come from older and newer operators alike).
const json* field(const json& object, std::initializer_list<std::string_view> path) {
  const json* current = &object;
  for (const std::string_view key : path) {
    if (!current->is_object()) return nullptr;
    const auto it = current->find(key);
    if (it == current->end()) return nullptr;
    current = &*it;
  }
  return current;
}

std::string text(const json& object, std::initializer_list<std::string_view> path) {
  const json* value = field(object, path);
  return value && value->is_string() ? value->get<std::string>() : std::string();
}

std::optional<int64_t> integer(const json& object, std::initializer_list<std::string_view> path) {
  const json* value = field(object, path);
  if (value && value->is_number_integer()) return value->get<int64_t>();
  return std::nullopt;
}

// Percent and rate strings ("99.953", "-12.5"); numbers written as numbers are read too.
std::optional<double> number(const json* value) {
  if (!value) return std::nullopt;
  if (value->is_number()) return value->get<double>();
  if (!value->is_string()) return std::nullopt;
  const std::string& s = value->get_ref<const std::string&>();
  double parsed = 0;
  const auto [end, error] = std::from_chars(s.data(), s.data() + s.size(), parsed);
  if (error != std::errc() || end != s.data() + s.size() || !std::isfinite(parsed)) {
    return std::nullopt;
  }
  return parsed;
}

std::optional<double> number(const json& object, std::initializer_list<std::string_view> path) {
  return number(field(object, path));
}

std::optional<TimePoint> time(const json& object, std::initializer_list<std::string_view> path) {
  const std::string value = text(object, path);
  if (value.empty()) return std::nullopt;
  auto parsed = common::parseRfc3339(value, "time");
  if (!parsed) return std::nullopt;
  return *parsed;
}

// Go durations as the DRDrill CRD writes objectives: "90s", "15m", "1h30m", "72h".
std::optional<int64_t> goDuration(const std::string& value) {
  if (value.empty()) return std::nullopt;
  int64_t total = 0;
  int64_t current = 0;
  bool haveDigits = false;
  for (const char c : value) {
    if (c >= '0' && c <= '9') {
      current = current * 10 + (c - '0');
      if (current > 100'000'000) return std::nullopt;
      haveDigits = true;
      continue;
    }
    if (!haveDigits) return std::nullopt;
    const int64_t unit = c == 'h' ? 3600 : c == 'm' ? 60 : c == 's' ? 1 : 0;
    if (unit == 0) return std::nullopt;
    total += current * unit;
    current = 0;
    haveDigits = false;
  }
  if (haveDigits) return std::nullopt;
  return total;
}

std::string teamOf(const json& object) {
  const std::string label = text(object, {"metadata", "labels", kTeamLabel});
  return label.empty() ? text(object, {"metadata", "namespace"}) : label;
}

seconds overlap(TimePoint a, TimePoint b, TimePoint from, TimePoint to) {
  const TimePoint start = std::max(a, from);
  const TimePoint end = std::min(b, to);
  return end > start ? std::chrono::duration_cast<seconds>(end - start) : seconds(0);
}

std::string dateOf(TimePoint time) { return common::formatRfc3339(time).substr(0, 10); }

std::optional<seconds> meanDuration(const std::vector<BurnEpisode>& episodes) {
  seconds total{0};
  int ended = 0;
  for (const BurnEpisode& episode : episodes) {
    if (!episode.end) continue;
    total += episode.duration;
    ++ended;
  }
  if (ended == 0) return std::nullopt;
  return seconds(total.count() / ended);
}

SloReport buildSlo(const json& object, const Period& period, TimePoint now) {
  SloReport slo;
  slo.namespace_ = text(object, {"metadata", "namespace"});
  slo.name = text(object, {"metadata", "name"});
  slo.team = teamOf(object);
  slo.service = text(object, {"spec", "service"});
  if (slo.service.empty()) slo.service = slo.name;
  for (const char* kind : {"ratio", "latency", "workload"}) {
    if (field(object, {"spec", "indicator", kind})) slo.indicator = kind;
  }
  slo.window = text(object, {"spec", "window"});
  slo.calendar = slo.window == "month" || slo.window == "quarter" || slo.window == "week";
  slo.timeZone = text(object, {"spec", "timeZone"});
  if (slo.timeZone.empty()) slo.timeZone = "UTC";
  slo.objective = number(object, {"spec", "objective"});
  slo.sli = number(object, {"status", "sli"});
  slo.budgetRemaining = number(object, {"status", "errorBudget", "remaining"});
  slo.currentPeriod = text(object, {"status", "period", "label"});

  std::optional<double> worstClosed;
  bool anyMissed = false;
  bool anyClosed = false;
  if (const json* history = field(object, {"status", "periodHistory"});
      history && history->is_array()) {
    for (const json& entry : *history) {
      if (!entry.is_object() || slo.history.size() >= 12) continue;
      ClosedPeriod closed;
      closed.label = text(entry, {"label"});
      closed.start = text(entry, {"start"});
      closed.end = text(entry, {"end"});
      closed.objective = text(entry, {"objective"});
      closed.result = text(entry, {"result"});
      closed.sli = number(entry, {"sli"});
      closed.budgetConsumed = number(entry, {"budgetConsumed"});
      closed.badMinutes = integer(entry, {"badMinutes"});
      const auto start = time(entry, {"start"});
      const auto end = time(entry, {"end"});
      closed.inReport = start && end && *start<period.to&& * end> period.from;
      if (closed.inReport && closed.result != "NoData") {
        anyClosed = true;
        anyMissed = anyMissed || closed.result == "Missed";
        if (closed.sli && (!worstClosed || *closed.sli < *worstClosed)) worstClosed = closed.sli;
      }
      slo.history.push_back(std::move(closed));
    }
  }
  // The current period counts when it overlaps the report (and always for rolling windows,
  // whose SLI is the window ending now: an estimate of the period, said so in "basis").
  const auto currentStart = time(object, {"status", "period", "start"});
  const auto currentEnd = time(object, {"status", "period", "end"});
  bool currentInReport = false;
  if (slo.calendar) {
    currentInReport = currentStart && currentEnd && period.from < *currentEnd &&
                      *currentStart < period.to && *currentStart < now;
  } else if (auto window = common::Duration::parse(slo.window, "spec.window")) {
    // The rolling window ending now must reach into the period: a past month is not
    // described by today's 28 days.
    currentInReport = now - window->value() < period.to && period.from < now;
  }
  if (anyClosed) {
    slo.attainment = worstClosed;
    slo.basis = "closedPeriods";
  } else if (currentInReport && slo.sli) {
    slo.attainment = slo.sli;
    slo.basis = slo.calendar ? "currentPeriod" : "rollingWindow";
  } else {
    slo.basis = "none";
  }
  if (anyMissed) {
    slo.verdict = "Missed";
  } else if (!anyClosed && slo.attainment && slo.budgetRemaining) {
    // A period under way or a rolling window: judged by its error budget, which is what the
    // objective allows over the whole period. (A timeslice SLI of the minutes observed so
    // far says little early in a month: one bad minute of the first is an SLI of 0%, and
    // 2% of the month's budget.)
    slo.verdict = *slo.budgetRemaining >= 0 ? "Met" : "Missed";
  } else if (slo.attainment && slo.objective) {
    slo.verdict = *slo.attainment >= *slo.objective ? "Met" : "Missed";
  } else {
    slo.verdict = "NoData";
  }

  if (const json* episodes = field(object, {"status", "burnEpisodes"});
      episodes && episodes->is_array()) {
    for (const json& entry : *episodes) {
      const auto start = time(entry, {"start"});
      if (!start || slo.episodes.size() >= 20) continue;
      BurnEpisode episode;
      episode.condition = text(entry, {"condition"});
      episode.start = *start;
      episode.end = time(entry, {"end"});
      const TimePoint until = episode.end.value_or(std::max(now, *start));
      if (!(episode.start < period.to && until >= period.from)) continue;
      episode.duration = std::chrono::duration_cast<seconds>(until - episode.start);
      episode.peakBurnRate = number(entry, {"peakBurnRate"});
      episode.budgetRemainingAtStart = number(entry, {"budgetRemainingAtStart"});
      episode.budgetSpent = number(entry, {"budgetSpent"});
      slo.episodes.push_back(std::move(episode));
    }
  }
  slo.mttr = meanDuration(slo.episodes);

  const std::string first = dateOf(period.from);
  const std::string last = dateOf(period.to - seconds(1));
  if (const json* trail = field(object, {"status", "budgetTrail"}); trail && trail->is_array()) {
    for (const json& entry : *trail) {
      const std::string date = text(entry, {"date"});
      const auto remaining = number(entry, {"remaining"});
      if (date.size() != 10 || !remaining || date < first || date > last) continue;
      if (slo.trail.size() >= 92) break;
      slo.trail.push_back({date, *remaining});
    }
  }
  return slo;
}

RotationReport buildRotation(const json& object, const Period& period) {
  RotationReport rotation;
  rotation.namespace_ = text(object, {"metadata", "namespace"});
  rotation.name = text(object, {"metadata", "name"});
  rotation.team = teamOf(object);
  rotation.timeZone = text(object, {"spec", "timeZone"});
  rotation.loadFrom = text(object, {"status", "load", "from"});
  rotation.loadTo = text(object, {"status", "load", "to"});
  if (const json* people = field(object, {"status", "load", "participants"});
      people && people->is_array()) {
    for (const json& entry : *people) {
      if (rotation.load.size() >= 100) break;
      PersonLoad person;
      person.participant = text(entry, {"participant"});
      person.hours = number(entry, {"hours"}).value_or(0);
      const double offHours = number(entry, {"offHours"}).value_or(0);  // includes weekends
      person.weekend = number(entry, {"weekendHours"}).value_or(0);
      person.offHours = std::max(0.0, offHours - person.weekend);
      person.business = std::max(0.0, person.hours - offHours);
      rotation.load.push_back(std::move(person));
    }
  }
  rotation.balance = number(object, {"status", "balance", "score"});
  if (const json* overloaded = field(object, {"status", "balance", "overloaded"});
      overloaded && overloaded->is_array()) {
    for (const json& name : *overloaded) {
      if (name.is_string() && rotation.overloaded.size() < 100) {
        rotation.overloaded.push_back(name.get<std::string>());
      }
    }
  }
  if (const json* gaps = field(object, {"status", "gaps"}); gaps && gaps->is_array()) {
    for (const json& entry : *gaps) {
      const auto start = time(entry, {"start"});
      const auto end = time(entry, {"end"});
      if (!start || !end || rotation.gaps.size() >= 100) continue;
      const seconds inPeriod = overlap(*start, *end, period.from, period.to);
      if (inPeriod.count() == 0) continue;
      rotation.gaps.push_back({*start, *end});
      rotation.gapTime += inPeriod;
    }
  }
  return rotation;
}

DrillReport buildDrill(const json& object) {
  DrillReport drill;
  drill.namespace_ = text(object, {"metadata", "namespace"});
  drill.name = text(object, {"metadata", "name"});
  drill.team = teamOf(object);
  for (const char* kind : {"job", "failover", "veleroRestore"}) {
    if (field(object, {"spec", kind})) drill.type = kind;
  }
  drill.rtoObjective = goDuration(text(object, {"spec", "objectives", "rto"}));
  drill.rpoObjective = goDuration(text(object, {"spec", "objectives", "rpo"}));
  drill.passRate = text(object, {"status", "passRate"});
  drill.consecutiveFailures = integer(object, {"status", "consecutiveFailures"}).value_or(0);
  return drill;
}

DrillRunReport buildRun(const json& object, const DrillReport* drill) {
  DrillRunReport run;
  run.namespace_ = text(object, {"metadata", "namespace"});
  run.name = text(object, {"metadata", "name"});
  run.drill = text(object, {"spec", "drillName"});
  run.start = text(object, {"status", "startTime"});
  if (run.start.empty()) run.start = text(object, {"spec", "scheduledTime"});
  if (run.start.empty()) run.start = text(object, {"metadata", "creationTimestamp"});
  run.verdict = text(object, {"status", "verdict"});
  run.rtoSeconds = integer(object, {"status", "rtoSeconds"});
  run.rpoSeconds = integer(object, {"status", "rpoSeconds"});
  // The run's own copy of the objectives (they may have changed on the drill since).
  run.rtoObjective = goDuration(text(object, {"spec", "objectives", "rto"}));
  run.rpoObjective = goDuration(text(object, {"spec", "objectives", "rpo"}));
  if (drill && !run.rtoObjective) run.rtoObjective = drill->rtoObjective;
  if (drill && !run.rpoObjective) run.rpoObjective = drill->rpoObjective;
  if (const json* met = field(object, {"status", "objectivesMet"}); met && met->is_boolean()) {
    run.objectivesMet = met->get<bool>();
  }
  return run;
}

template <typename T>
void sortByKey(std::vector<T>& items) {
  std::sort(items.begin(), items.end(), [](const T& a, const T& b) {
    return std::tie(a.team, a.namespace_, a.name) < std::tie(b.team, b.namespace_, b.name);
  });
}

template <typename T>
std::vector<const nlohmann::json*> bounded(const std::vector<T>& objects, std::string_view kind,
                                           std::vector<std::string>& notes) {
  std::vector<const nlohmann::json*> kept;
  for (const auto& object : objects) {
    if (kept.size() == kMaxObjectsPerKind) {
      notes.push_back("only the first " + std::to_string(kMaxObjectsPerKind) + " " +
                      std::string(kind) + " are reported");
      break;
    }
    if (object.is_object()) kept.push_back(&object);
  }
  return kept;
}

void summarize(Report& report) {
  std::map<std::string, TeamSummary> teams;
  std::map<std::pair<std::string, std::string>, ServiceSummary> services;
  std::map<std::string, std::vector<BurnEpisode>> teamEpisodes;
  std::map<std::pair<std::string, std::string>, std::vector<BurnEpisode>> serviceEpisodes;
  auto team = [&](const std::string& name) -> TeamSummary& {
    TeamSummary& summary = teams[name];
    summary.team = name;
    return summary;
  };
  for (const SloReport& slo : report.slos) {
    TeamSummary& t = team(slo.team);
    ++t.slos;
    t.met += slo.verdict == "Met";
    t.missed += slo.verdict == "Missed";
    t.noData += slo.verdict == "NoData";
    t.episodes += static_cast<int>(slo.episodes.size());
    auto& forTeam = teamEpisodes[slo.team];
    forTeam.insert(forTeam.end(), slo.episodes.begin(), slo.episodes.end());
    const std::pair key{slo.team, slo.service};
    ServiceSummary& s = services[key];
    s.team = slo.team;
    s.service = slo.service;
    ++s.slos;
    s.met += slo.verdict == "Met";
    s.missed += slo.verdict == "Missed";
    s.episodes += static_cast<int>(slo.episodes.size());
    auto& forService = serviceEpisodes[key];
    forService.insert(forService.end(), slo.episodes.begin(), slo.episodes.end());
    if (slo.attainment && (!s.worstAttainment || *slo.attainment < *s.worstAttainment)) {
      s.worstAttainment = slo.attainment;
    }
  }
  for (const RotationReport& rotation : report.rotations) {
    TeamSummary& t = team(rotation.team);
    ++t.rotations;
    t.gapTime += rotation.gapTime;
    if (rotation.balance && (!t.worstBalance || *rotation.balance < *t.worstBalance)) {
      t.worstBalance = rotation.balance;
    }
  }
  for (const DrillReport& drill : report.drills) {
    TeamSummary& t = team(drill.team);
    t.drillRuns += static_cast<int>(drill.runs.size());
    t.drillsPassed += drill.passed;
    t.objectivesMissed += drill.objectivesMissed;
  }
  for (const FreezeReport& freeze : report.freezes) team(freeze.team).freezeDays += freeze.days;
  for (const WindowReport& window : report.windows) {
    if (window.type == "Freeze") team(window.team).freezeDays += window.days;
  }
  for (auto& [name, summary] : teams) {
    summary.mttr = meanDuration(teamEpisodes[name]);
    report.teams.push_back(summary);
  }
  for (auto& [key, summary] : services) {
    summary.mttr = meanDuration(serviceEpisodes[key]);
    report.services.push_back(summary);
  }
}

// Change windows and their occurrences in the period; a Freeze window's elapsed overlap
// counts as freeze days of its team.
void buildWindows(const ReportInput& input, Report& report) {
  const Period& period = report.period;
  for (const json* object : bounded(input.windows, "ChangeWindows", report.notes)) {
    WindowReport window;
    window.namespace_ = text(*object, {"metadata", "namespace"});
    window.name = text(*object, {"metadata", "name"});
    window.team = teamOf(*object);
    window.type = text(*object, {"spec", "type"});
    window.reason = text(*object, {"spec", "reason"});
    const std::string schedule = text(*object, {"spec", "schedule"});
    std::string zone = text(*object, {"spec", "timeZone"});
    if (zone.empty()) zone = "UTC";
    window.when =
        schedule.empty()
            ? text(*object, {"spec", "start"}) + " to " + text(*object, {"spec", "end"})
            : schedule + " for " + text(*object, {"spec", "duration"}) + " (" + zone + ")";
    auto view = common::ChangeWindowView::read(*object);
    if (!view) {
      window.problem = view.error().message();
      report.windows.push_back(std::move(window));
      continue;
    }
    std::optional<common::TimeWindow> occurrence = view->activeAt(period.from);
    if (!occurrence) occurrence = view->nextAfter(period.from);
    int64_t frozenSeconds = 0;
    while (occurrence && occurrence->start < period.to) {
      if (window.occurrences.size() >= kMaxWindowOccurrences) {
        window.cut = true;
        break;
      }
      const std::string state = occurrence->end <= report.now     ? "ended"
                                : occurrence->start <= report.now ? "active"
                                                                  : "scheduled";
      window.occurrences.push_back({common::formatRfc3339(occurrence->start),
                                    common::formatRfc3339(occurrence->end), state});
      frozenSeconds +=
          overlap(occurrence->start, std::min(occurrence->end, report.now), period.from, period.to)
              .count();
      occurrence = view->nextAfter(occurrence->start);
    }
    window.days = std::round(static_cast<double>(frozenSeconds) / 86400.0 * 10) / 10;
    report.windows.push_back(std::move(window));
  }
  std::sort(report.windows.begin(), report.windows.end(),
            [](const WindowReport& a, const WindowReport& b) {
              return std::tie(a.team, a.namespace_, a.name) <
                     std::tie(b.team, b.namespace_, b.name);
            });
}

}  // namespace

Report buildReport(const ReportInput& input) {
  Report report;
  report.scope = input.scope;
  report.period = input.period;
  report.now = input.now;
  const Period& period = input.period;

  for (const json* object : bounded(input.slos, "ServiceLevelObjectives", report.notes)) {
    report.slos.push_back(buildSlo(*object, period, input.now));
  }
  sortByKey(report.slos);
  for (const json* object : bounded(input.rotations, "OnCallRotations", report.notes)) {
    report.rotations.push_back(buildRotation(*object, period));
  }
  sortByKey(report.rotations);

  std::map<std::pair<std::string, std::string>, size_t> drillIndex;
  for (const json* object : bounded(input.drills, "DRDrills", report.notes)) {
    report.drills.push_back(buildDrill(*object));
  }
  sortByKey(report.drills);
  for (size_t i = 0; i < report.drills.size(); ++i) {
    drillIndex[{report.drills[i].namespace_, report.drills[i].name}] = i;
  }
  for (const json* object : bounded(input.runs, "DRDrillRuns", report.notes)) {
    const std::string ns = text(*object, {"metadata", "namespace"});
    const auto found = drillIndex.find({ns, text(*object, {"spec", "drillName"})});
    if (found == drillIndex.end()) continue;  // a run of a drill outside the selection
    DrillReport& drill = report.drills[found->second];
    DrillRunReport run = buildRun(*object, &drill);
    auto start = common::parseRfc3339(run.start, "start");
    if (!start || *start < period.from || *start >= period.to) continue;
    drill.passed += run.verdict == "Pass";
    drill.failed += run.verdict == "Fail";
    drill.errored += run.verdict == "Error";
    drill.objectivesMissed += run.objectivesMet == false;
    drill.runs.push_back(std::move(run));
  }
  for (DrillReport& drill : report.drills) {
    std::sort(drill.runs.begin(), drill.runs.end(),
              [](const DrillRunReport& a, const DrillRunReport& b) {
                return std::tie(a.start, a.name) < std::tie(b.start, b.name);
              });
  }

  for (const json* object : bounded(input.policies, "ErrorBudgetPolicies", report.notes)) {
    const json* active = field(*object, {"status", "activeFreezes"});
    if (!active || !active->is_array()) continue;
    for (const json& entry : *active) {
      FreezeReport freeze;
      freeze.namespace_ = text(*object, {"metadata", "namespace"});
      freeze.policy = text(*object, {"metadata", "name"});
      freeze.team = teamOf(*object);
      freeze.slo = text(entry, {"slo"});
      freeze.rule = text(entry, {"rule"});
      freeze.since = text(entry, {"since"});
      if (const auto since = time(entry, {"since"})) {
        freeze.days =
            static_cast<double>(overlap(*since, input.now, period.from, period.to).count()) /
            86400.0;
      }
      if (const json* workloads = field(entry, {"workloads"}); workloads && workloads->is_array()) {
        for (const json& workload : *workloads) {
          if (workload.is_string() && freeze.workloads.size() < 20) {
            freeze.workloads.push_back(workload.get<std::string>());
          }
        }
      }
      freeze.days = std::round(freeze.days * 10) / 10;
      report.freezes.push_back(std::move(freeze));
    }
  }
  std::sort(report.freezes.begin(), report.freezes.end(),
            [](const FreezeReport& a, const FreezeReport& b) {
              return std::tie(a.team, a.namespace_, a.policy, a.slo) <
                     std::tie(b.team, b.namespace_, b.policy, b.slo);
            });
  buildWindows(input, report);
  summarize(report);
  return report;
}

std::string formatDuration(seconds duration) {
  const int64_t total = std::max<int64_t>(0, duration.count());
  const int64_t d = total / 86400;
  const int64_t h = total % 86400 / 3600;
  const int64_t m = total % 3600 / 60;
  const int64_t s = total % 60;
  if (d > 0) return std::to_string(d) + "d " + std::to_string(h) + "h";
  if (h > 0) return std::to_string(h) + "h " + std::to_string(m) + "m";
  if (m > 0) return std::to_string(m) + "m" + (s ? " " + std::to_string(s) + "s" : "");
  return std::to_string(s) + "s";
}

}  // namespace relops::report
