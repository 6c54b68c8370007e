// The reliability report a manager reads for a period: SLO attainment against objectives,
// burn episodes and their time to recover, on-call load and coverage gaps, drills and their
// RTO/RPO against objectives, change freezes. Pure: it reads the relops objects as the API
// server returns them (the CLI lists them, the operator takes them from its caches) and
// renders Markdown, JSON and one self-contained HTML page. Fields an object lacks (an SLO
// without calendar history, a rotation without load) are reported as absent, never guessed.
//
// Team: the label relops.dev/team when an object has it, its namespace otherwise.
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "app/report/period.h"

namespace relops::report {

inline constexpr std::string_view kTeamLabel = "relops.dev/team";
// The JSON rendering's kind and version; the version changes only when a field changes
// meaning or goes away (fields may be added).
inline constexpr std::string_view kReportKind = "ReliabilityReport";
inline constexpr std::string_view kReportApiVersion = "relops.dev/v1alpha1";
// At most this many objects of each kind are read into a report; the CLI and the endpoint
// refuse a larger selection rather than allocate without bound.
inline constexpr size_t kMaxObjectsPerKind = 1000;

struct ReportInput {
  std::string scope;  // what was selected: "namespace payments", "all namespaces", ...
  Period period;
  TimePoint now{};
  std::vector<nlohmann::json> slos;       // ServiceLevelObjective
  std::vector<nlohmann::json> policies;   // ErrorBudgetPolicy
  std::vector<nlohmann::json> rotations;  // OnCallRotation
  std::vector<nlohmann::json> drills;     // DRDrill
  std::vector<nlohmann::json> runs;       // DRDrillRun
  std::vector<nlohmann::json> windows;    // ChangeWindow
};

struct ClosedPeriod {
  std::string label;
  std::string start;
  std::string end;
  std::string objective;
  std::string result;  // Met, Missed, NoData
  std::optional<double> sli;
  std::optional<double> budgetConsumed;
  std::optional<int64_t> badMinutes;
  bool inReport = false;  // overlaps the report's period
};

struct BurnEpisode {
  std::string condition;  // BurnRateHigh, BudgetExhausted
  TimePoint start{};
  std::optional<TimePoint> end;      // absent while it lasts
  std::chrono::seconds duration{0};  // to `end`, or to the report's `now` while it lasts
  std::optional<double> peakBurnRate;
  std::optional<double> budgetRemainingAtStart;
  std::optional<double> budgetSpent;
};

struct TrailPoint {
  std::string date;  // local date of the SLO
  double remaining = 0;
};

struct SloReport {
  std::string namespace_;
  std::string name;
  std::string team;
  std::string service;
  std::string indicator;  // ratio, latency, workload
  std::string window;     // "28d", "month", ...
  std::string timeZone;
  bool calendar = false;
  std::optional<double> objective;
  std::optional<double> sli;  // status.sli: the rolling window or the current period so far
  std::optional<double> budgetRemaining;
  std::string currentPeriod;  // status.period.label
  // Attainment over the report period: the worst SLI of the closed periods inside it, or
  // the current SLI when none closed ("basis" says which).
  std::optional<double> attainment;
  std::string basis;                         // closedPeriods, currentPeriod, rollingWindow, none
  std::string verdict;                       // Met, Missed, NoData
  std::vector<ClosedPeriod> history;         // all of status.periodHistory, oldest first
  std::vector<BurnEpisode> episodes;         // overlapping the period, oldest first
  std::optional<std::chrono::seconds> mttr;  // mean duration of the episodes that ended
  std::vector<TrailPoint> trail;             // budget left per day inside the period
};

struct PersonLoad {
  std::string participant;
  double hours = 0;
  double business = 0;  // Monday to Friday 09:00-17:00 local
  double offHours = 0;  // weekdays outside business hours
  double weekend = 0;   // Saturday and Sunday, local
};

struct Gap {
  TimePoint start{};
  TimePoint end{};
};

struct RotationReport {
  std::string namespace_;
  std::string name;
  std::string team;
  std::string timeZone;
  std::string loadFrom;  // the window the operator computed the load over
  std::string loadTo;
  std::vector<PersonLoad> load;
  std::optional<double> balance;  // 0..1, Grafana OnCall's pairwise min/max
  std::vector<std::string> overloaded;
  std::vector<Gap> gaps;  // known gaps overlapping the period
  std::chrono::seconds gapTime{0};
};

struct DrillRunReport {
  std::string namespace_;
  std::string name;
  std::string drill;
  std::string start;
  std::string verdict;  // Pass, Fail, Error, or "" while it runs
  std::optional<int64_t> rtoSeconds;
  std::optional<int64_t> rpoSeconds;
  std::optional<int64_t> rtoObjective;
  std::optional<int64_t> rpoObjective;
  std::optional<bool> objectivesMet;
};

struct DrillReport {
  std::string namespace_;
  std::string name;
  std::string team;
  std::string type;  // job, failover, veleroRestore
  std::optional<int64_t> rtoObjective;
  std::optional<int64_t> rpoObjective;
  std::string passRate;
  int64_t consecutiveFailures = 0;
  int passed = 0;
  int failed = 0;
  int errored = 0;
  int objectivesMissed = 0;
  std::vector<DrillRunReport> runs;  // started inside the period, oldest first
};

struct FreezeReport {
  std::string namespace_;
  std::string policy;
  std::string team;
  std::string slo;
  std::string rule;
  std::string since;
  double days = 0;  // overlap of [since, now) with the period, in days
  std::vector<std::string> workloads;
};

// A ChangeWindow and its occurrences that overlap the report's period (past, under way or
// scheduled), at most kMaxWindowOccurrences of them.
struct WindowOccurrence {
  std::string start;
  std::string end;
  std::string state;  // ended, active, scheduled
};
inline constexpr size_t kMaxWindowOccurrences = 50;

struct WindowReport {
  std::string namespace_;
  std::string name;
  std::string team;
  std::string type;  // Freeze, Maintenance
  std::string reason;
  std::string when;  // "0 18 * * FRI for 62h (Europe/Berlin)" or "start to end"
  std::vector<WindowOccurrence> occurrences;
  bool cut = false;     // more occurrences than kMaxWindowOccurrences
  double days = 0;      // the occurrences' overlap with the period up to now, in days
  std::string problem;  // a spec relops cannot read (then no occurrences)
};

struct TeamSummary {
  std::string team;
  int slos = 0;
  int met = 0;
  int missed = 0;
  int noData = 0;
  int episodes = 0;
  std::optional<std::chrono::seconds> mttr;
  int rotations = 0;
  std::chrono::seconds gapTime{0};
  std::optional<double> worstBalance;
  int drillRuns = 0;
  int drillsPassed = 0;
  int objectivesMissed = 0;
  double freezeDays = 0;
};

struct ServiceSummary {
  std::string team;
  std::string service;
  int slos = 0;
  int met = 0;
  int missed = 0;
  int episodes = 0;
  std::optional<std::chrono::seconds> mttr;
  std::optional<double> worstAttainment;
};

struct Report {
  std::string scope;
  Period period;
  TimePoint now{};
  std::vector<TeamSummary> teams;
  std::vector<ServiceSummary> services;
  std::vector<SloReport> slos;
  std::vector<RotationReport> rotations;
  std::vector<DrillReport> drills;
  std::vector<FreezeReport> freezes;
  std::vector<WindowReport> windows;
  std::vector<std::string> notes;  // what was cut or estimated
};

Report buildReport(const ReportInput& input);

std::string renderMarkdown(const Report& report);
nlohmann::json renderJson(const Report& report);
// One page, no external resource; charts as inline SVG (chart ids: burndown-<n>,
// attainment, oncall-load, drills, freezes).
std::string renderHtml(const Report& report);

// "1h 26m", "3d 4h", "45s": a duration as a manager reads it.
std::string formatDuration(std::chrono::seconds duration);

}  // namespace relops::report
