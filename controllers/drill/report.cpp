#include "controllers/drill/report.h"

#include <algorithm>
#include <sstream>

#include "controllers/common/json_fields.h"
#include "controllers/drill/drill_types.h"

namespace relops::drill {
namespace {

using nlohmann::json;

json objectivesOf(const json& spec) {
  return spec.is_object() && spec.contains("objectives") ? spec["objectives"] : json::object();
}

// What the drill exercises, in a few words.
std::string subject(const json& spec) {
  if (spec.contains("job")) return "job";
  if (spec.contains("failover")) {
    const json& f = spec["failover"];
    return "failover of " + common::stringOrEmpty(f["target"], "kind") + " " +
           common::stringOrEmpty(f["target"], "name") + " to " +
           common::stringOrEmpty(f["standby"], "kind") + " " +
           common::stringOrEmpty(f["standby"], "name");
  }
  if (spec.contains("veleroRestore")) {
    const json& v = spec["veleroRestore"];
    return "veleroRestore of " + (v.contains("backupName")
                                      ? "backup " + common::stringOrEmpty(v, "backupName")
                                      : "schedule " + common::stringOrEmpty(v, "scheduleName"));
  }
  return "";
}

json runRecord(const json& run) {
  const json spec = run.value("spec", json::object());
  const json status = run.value("status", json::object());
  json record = {{"name", run["metadata"].value("name", "")},
                 {"trigger", common::stringOrEmpty(spec, "trigger")},
                 {"scheduledTime", common::stringOrEmpty(spec, "scheduledTime")},
                 {"phase", common::stringOrEmpty(status, "phase")},
                 {"verdict", common::stringOrEmpty(status, "verdict")},
                 {"reason", common::stringOrEmpty(status, "reason")},
                 {"message", common::stringOrEmpty(status, "message")},
                 {"objectives", objectivesOf(spec)}};
  if (!common::stringOrEmpty(spec, "runNowToken").empty())
    record["runNowToken"] = common::stringOrEmpty(spec, "runNowToken");
  for (const char* key : {"startTime", "recoveryTime", "completionTime", "dataTimestamp"}) {
    if (!common::stringOrEmpty(status, key).empty())
      record[key] = common::stringOrEmpty(status, key);
  }
  for (const char* key : {"rtoSeconds", "rpoSeconds"}) {
    if (status.contains(key)) record[key] = status[key];
  }
  if (status.contains("objectivesMet")) record["objectivesMet"] = status["objectivesMet"];
  if (status.contains("velero")) {
    const json& v = status["velero"];
    record["backup"] = {{"name", common::stringOrEmpty(v, "backup")},
                        {"startTimestamp", common::stringOrEmpty(v, "backupStartTimestamp")},
                        {"restore", common::stringOrEmpty(v, "restore")},
                        {"restorePhase", common::stringOrEmpty(v, "restorePhase")},
                        {"sandboxNamespace", common::stringOrEmpty(v, "sandboxNamespace")}};
  }
  if (status.contains("failover")) record["failover"] = status["failover"];
  if (status.contains("job")) record["job"] = common::stringOrEmpty(status["job"], "name");
  if (status.contains("cleanup")) record["cleanup"] = status["cleanup"];
  return record;
}

std::string cell(std::string value) {
  // A Markdown table cell: no pipes or line breaks.
  for (char& c : value) {
    if (c == '|') c = '/';
    if (c == '\n') c = ' ';
  }
  return value.empty() ? "-" : value;
}

std::string measured(const json& record, const char* seconds, const char* objective) {
  if (!record.contains(seconds)) return "-";
  std::string out = formatDuration(std::chrono::seconds(record[seconds].get<int64_t>()));
  const std::string goal = common::stringOrEmpty(record["objectives"], objective);
  if (!goal.empty()) out += " / " + goal;
  return out;
}

}  // namespace

json reportJson(const ReportInput& input) {
  json drills = json::array();
  std::vector<json> sorted = input.drills;
  std::sort(sorted.begin(), sorted.end(), [](const json& a, const json& b) {
    return a["metadata"].value("name", "") < b["metadata"].value("name", "");
  });
  for (const json& drill : sorted) {
    const std::string name = drill["metadata"].value("name", "");
    const json spec = drill.value("spec", json::object());
    const json status = drill.value("status", json::object());
    std::vector<json> runs;
    for (const json& run : input.runs) {
      if (run.value("spec", json::object()).value("drillName", "") == name) {
        runs.push_back(runRecord(run));
      }
    }
    std::sort(runs.begin(), runs.end(), [](const json& a, const json& b) {
      return a.value("scheduledTime", "") > b.value("scheduledTime", "");
    });
    json entry = {{"name", name},
                  {"schedule", common::stringOrEmpty(spec, "schedule")},
                  {"timeZone", common::stringOrEmpty(spec, "timeZone")},
                  {"exercises", subject(spec)},
                  {"objectives", objectivesOf(spec)},
                  {"passRate", common::stringOrEmpty(status, "passRate")},
                  {"consecutiveFailures", status.value("consecutiveFailures", 0)},
                  {"runs", runs}};
    if (!common::stringOrEmpty(status, "lastSuccessfulTime").empty()) {
      entry["lastSuccessfulTime"] = common::stringOrEmpty(status, "lastSuccessfulTime");
    }
    drills.push_back(entry);
  }
  return {{"generatedAt", common::formatRfc3339(input.generatedAt)},
          {"namespace", input.namespace_},
          {"drills", drills}};
}

std::string reportMarkdown(const ReportInput& input) {
  const json report = reportJson(input);
  std::ostringstream out;
  out << "# Disaster-recovery drills in namespace " << input.namespace_ << "\n\n"
      << "Generated " << report["generatedAt"].get<std::string>()
      << " by relops from the retained DRDrillRun objects.\n";
  if (report["drills"].empty()) out << "\nNo DRDrill found.\n";
  for (const json& drill : report["drills"]) {
    out << "\n## " << drill["name"].get<std::string>() << "\n\n"
        << "- Exercises: " << cell(drill["exercises"]) << "\n"
        << "- Schedule: `" << drill["schedule"].get<std::string>() << "` ("
        << drill["timeZone"].get<std::string>() << ")\n"
        << "- Objectives: RTO " << cell(common::stringOrEmpty(drill["objectives"], "rto"))
        << ", RPO " << cell(common::stringOrEmpty(drill["objectives"], "rpo")) << "\n"
        << "- Pass rate over retained runs: "
        << (drill["passRate"].get<std::string>().empty()
                ? "-"
                : drill["passRate"].get<std::string>() + "%")
        << "; consecutive failures: " << drill["consecutiveFailures"].get<int64_t>();
    if (drill.contains("lastSuccessfulTime")) {
      out << "; last success: " << drill["lastSuccessfulTime"].get<std::string>();
    }
    out << "\n\n";
    if (drill["runs"].empty()) {
      out << "No retained runs.\n";
      continue;
    }
    out << "| Run | Trigger | Scheduled | Started | Finished | Recovered from | RTO / objective | "
           "RPO / objective | Verdict | Cleanup | Notes |\n"
        << "|---|---|---|---|---|---|---|---|---|---|---|\n";
    for (const json& run : drill["runs"]) {
      std::string from = "-";
      if (run.contains("backup")) {
        from = "backup " + common::stringOrEmpty(run["backup"], "name") + " (" +
               common::stringOrEmpty(run["backup"], "startTimestamp") + ")";
      } else if (run.contains("dataTimestamp")) {
        from = "data of " + common::stringOrEmpty(run, "dataTimestamp");
      }
      std::string verdict = common::stringOrEmpty(run, "verdict");
      if (verdict.empty()) verdict = common::stringOrEmpty(run, "phase");
      out << "| " << cell(common::stringOrEmpty(run, "name")) << " | "
          << cell(common::stringOrEmpty(run, "trigger")) << " | "
          << cell(common::stringOrEmpty(run, "scheduledTime")) << " | "
          << cell(common::stringOrEmpty(run, "startTime")) << " | "
          << cell(common::stringOrEmpty(run, "completionTime")) << " | " << cell(from) << " | "
          << measured(run, "rtoSeconds", "rto") << " | " << measured(run, "rpoSeconds", "rpo")
          << " | " << cell(verdict) << " | "
          << cell(run.contains("cleanup") ? common::stringOrEmpty(run["cleanup"], "result") : "")
          << " | " << cell(common::stringOrEmpty(run, "message")) << " |\n";
    }
  }
  return out.str();
}

}  // namespace relops::drill
