#include <sstream>

#include "app/report/format.h"
#include "app/report/report.h"

namespace relops::report {
namespace {

std::string duration(const std::optional<std::chrono::seconds>& value) {
  return value ? formatDuration(*value) : "–";
}

std::string seconds(const std::optional<int64_t>& value) {
  return value ? formatDuration(std::chrono::seconds(*value)) : "–";
}

std::string hours(double value) { return common::formatDecimal(value, 1); }

}  // namespace

std::string renderMarkdown(const Report& report) {
  std::ostringstream out;
  out << "# Reliability report " << report.period.label << "\n\n"
      << "- Scope: " << report.scope << "\n"
      << "- Period: " << common::formatRfc3339(report.period.from) << " to "
      << common::formatRfc3339(report.period.to) << " (UTC)"
      << (report.now < report.period.to ? ", so far" : "") << "\n"
      << "- Generated: " << common::formatRfc3339(report.now) << "\n"
      << "- Team: the label `" << kTeamLabel << "`, or the namespace\n";
  for (const std::string& note : report.notes) out << "- Note: " << note << "\n";

  out << "\n## Teams\n\n"
         "| Team | SLOs | Met | Missed | No data | Burn episodes | MTTR | Coverage gaps "
         "| Worst balance | Drill runs | Passed | Objectives missed | Freeze days |\n"
         "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const TeamSummary& t : report.teams) {
    out << "| " << cell(t.team) << " | " << t.slos << " | " << t.met << " | " << t.missed << " | "
        << t.noData << " | " << t.episodes << " | " << duration(t.mttr) << " | "
        << formatDuration(t.gapTime) << " | " << decimal(t.worstBalance, 3) << " | " << t.drillRuns
        << " | " << t.drillsPassed << " | " << t.objectivesMissed << " | " << hours(t.freezeDays)
        << " |\n";
  }

  out << "\n## Services\n\n"
         "| Team | Service | SLOs | Met | Missed | Worst attainment | Burn episodes | MTTR |\n"
         "|---|---|---:|---:|---:|---:|---:|---:|\n";
  for (const ServiceSummary& s : report.services) {
    out << "| " << cell(s.team) << " | " << cell(s.service) << " | " << s.slos << " | " << s.met
        << " | " << s.missed << " | " << percent(s.worstAttainment) << " | " << s.episodes << " | "
        << duration(s.mttr) << " |\n";
  }

  out << "\n## Service level objectives\n\n"
         "| Team | Namespace | SLO | Service | Window | Objective | Attainment | Basis | Verdict "
         "| Budget left | Episodes | MTTR |\n"
         "|---|---|---|---|---|---:|---:|---|---|---:|---:|---:|\n";
  for (const SloReport& slo : report.slos) {
    out << "| " << cell(slo.team) << " | " << cell(slo.namespace_) << " | " << cell(slo.name)
        << " | " << cell(slo.service) << " | " << cell(slo.window)
        << (slo.calendar ? " (" + cell(slo.timeZone) + ")" : "") << " | " << percent(slo.objective)
        << " | " << percent(slo.attainment) << " | " << slo.basis << " | " << slo.verdict << " | "
        << percent(slo.budgetRemaining) << " | " << slo.episodes.size() << " | "
        << duration(slo.mttr) << " |\n";
  }
  for (const SloReport& slo : report.slos) {
    if (slo.history.empty() && slo.episodes.empty()) continue;
    out << "\n### " << slo.namespace_ << "/" << slo.name << "\n";
    if (!slo.history.empty()) {
      out << "\n| Period | Objective | Result | SLI | Budget consumed | Bad minutes | In report "
             "|\n|---|---:|---|---:|---:|---:|---|\n";
      for (const ClosedPeriod& p : slo.history) {
        out << "| " << cell(p.label) << " | " << cell(p.objective) << " | " << cell(p.result)
            << " | " << percent(p.sli) << " | " << percent(p.budgetConsumed) << " | "
            << (p.badMinutes ? std::to_string(*p.badMinutes) : "–") << " | "
            << (p.inReport ? "yes" : "no") << " |\n";
      }
    }
    if (!slo.episodes.empty()) {
      out << "\n| Burn episode | Start | End | Time to recover | Peak burn rate "
             "| Budget at start | Budget spent |\n|---|---|---|---:|---:|---:|---:|\n";
      for (const BurnEpisode& e : slo.episodes) {
        out << "| " << cell(e.condition) << " | " << common::formatRfc3339(e.start) << " | "
            << (e.end ? common::formatRfc3339(*e.end) : "ongoing") << " | "
            << formatDuration(e.duration) << (e.end ? "" : " so far") << " | "
            << decimal(e.peakBurnRate, 2) << " | " << percent(e.budgetRemainingAtStart) << " | "
            << percent(e.budgetSpent) << " |\n";
      }
    }
  }

  out << "\n## On-call load\n";
  for (const RotationReport& r : report.rotations) {
    out << "\n### " << r.namespace_ << "/" << r.name << " (" << r.timeZone << ")\n\n";
    if (!r.loadFrom.empty()) {
      out << "Load from " << r.loadFrom << " to " << r.loadTo << "; balance "
          << decimal(r.balance, 3) << " (1 = even)";
      if (!r.overloaded.empty()) {
        out << "; overloaded:";
        for (const std::string& name : r.overloaded) out << " " << name;
      }
      out << ".\n\n";
    }
    if (!r.load.empty()) {
      out << "| Person | Hours | Business | Off-hours | Weekend |\n|---|---:|---:|---:|---:|\n";
      for (const PersonLoad& p : r.load) {
        out << "| " << cell(p.participant) << " | " << hours(p.hours) << " | " << hours(p.business)
            << " | " << hours(p.offHours) << " | " << hours(p.weekend) << " |\n";
      }
      out << "\n";
    }
    out << "Coverage gaps in the period: " << r.gaps.size() << " (" << formatDuration(r.gapTime)
        << ")\n";
    for (const Gap& gap : r.gaps) {
      out << "- " << common::formatRfc3339(gap.start) << " to " << common::formatRfc3339(gap.end)
          << "\n";
    }
  }

  out << "\n## Disaster-recovery drills\n\n"
         "| Team | Namespace | Drill | Type | RTO objective | RPO objective | Runs | Passed "
         "| Failed | Error | Objectives missed | Pass rate |\n"
         "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const DrillReport& d : report.drills) {
    out << "| " << cell(d.team) << " | " << cell(d.namespace_) << " | " << cell(d.name) << " | "
        << cell(d.type) << " | " << seconds(d.rtoObjective) << " | " << seconds(d.rpoObjective)
        << " | " << d.runs.size() << " | " << d.passed << " | " << d.failed << " | " << d.errored
        << " | " << d.objectivesMissed << " | "
        << (d.passRate.empty() ? "–" : cell(d.passRate) + "%") << " |\n";
  }
  bool anyRun = false;
  for (const DrillReport& d : report.drills) anyRun = anyRun || !d.runs.empty();
  if (anyRun) {
    out << "\n| Run | Started | Verdict | RTO | RTO objective | RPO | RPO objective "
           "| Objectives met |\n|---|---|---|---:|---:|---:|---:|---|\n";
    for (const DrillReport& d : report.drills) {
      for (const DrillRunReport& run : d.runs) {
        out << "| " << cell(run.namespace_ + "/" + run.name) << " | " << cell(run.start) << " | "
            << (run.verdict.empty() ? "running" : cell(run.verdict)) << " | "
            << seconds(run.rtoSeconds) << " | " << seconds(run.rtoObjective) << " | "
            << seconds(run.rpoSeconds) << " | " << seconds(run.rpoObjective) << " | "
            << (run.objectivesMet ? (*run.objectivesMet ? "yes" : "no") : "–") << " |\n";
      }
    }
  }

  out << "\n## Change freezes\n\n"
         "Freezes still active when the report was generated (ended freezes are not kept).\n\n"
         "| Team | Namespace | Policy | SLO | Rule | Since | Days in period | Workloads |\n"
         "|---|---|---|---|---|---|---:|---|\n";
  for (const FreezeReport& f : report.freezes) {
    std::string workloads;
    for (const std::string& w : f.workloads) workloads += (workloads.empty() ? "" : ", ") + w;
    out << "| " << cell(f.team) << " | " << cell(f.namespace_) << " | " << cell(f.policy) << " | "
        << cell(f.slo) << " | " << cell(f.rule) << " | " << cell(f.since) << " | " << hours(f.days)
        << " | " << cell(workloads) << " |\n";
  }

  out << "\n## Change windows\n\n"
         "Freeze and maintenance windows (ChangeWindow) and their occurrences in the period; a "
         "freeze window's time so far counts as freeze days.\n\n"
         "| Team | Namespace | Window | Type | When | Reason | Occurrences in period | Days so "
         "far |\n"
         "|---|---|---|---|---|---|---|---:|\n";
  for (const WindowReport& w : report.windows) {
    std::string occurrences;
    for (const WindowOccurrence& o : w.occurrences) {
      occurrences +=
          (occurrences.empty() ? "" : "; ") + o.start + " to " + o.end + " (" + o.state + ")";
    }
    if (w.cut) occurrences += "; more not listed";
    if (!w.problem.empty()) occurrences = "cannot be read: " + w.problem;
    out << "| " << cell(w.team) << " | " << cell(w.namespace_) << " | " << cell(w.name) << " | "
        << cell(w.type) << " | " << cell(w.when) << " | " << cell(w.reason) << " | "
        << cell(occurrences.empty() ? "none" : occurrences) << " | " << hours(w.days) << " |\n";
  }
  return out.str();
}

}  // namespace relops::report
