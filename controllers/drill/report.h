// `relops drill report`: the retained runs of DRDrills as an audit record (what
// ran, when, against which backup or target, measured RTO/RPO against the
// objectives, verdict, cleanup). Pure: it renders objects already read.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "controllers/common/cron.h"

namespace relops::drill {

// The cron engine is shared with ChangeWindow (controllers/common/cron.h).
using common::CronSchedule;
using common::Instant;

struct ReportInput {
  std::string namespace_;
  Instant generatedAt{};
  std::vector<nlohmann::json> drills;  // DRDrill objects as the API returns them
  std::vector<nlohmann::json> runs;    // DRDrillRun objects of those drills
};

// The record as JSON: {"generatedAt", "namespace", "drills": [{..., "runs": [...]}]},
// runs newest first.
nlohmann::json reportJson(const ReportInput& input);
// The same record as Markdown, one section per drill with a table of its runs.
std::string reportMarkdown(const ReportInput& input);

}  // namespace relops::drill
