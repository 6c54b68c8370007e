// The reliability report (app/report) over any objects: a JSON List whose items are read by
// kind, as `relops report` and /reports/ read what the API server returns. Checked: every
// rendering succeeds, the JSON rendering parses again, and the HTML page never carries markup
// from the objects (every string of theirs is escaped) nor loads anything.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "app/report/report.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace relops::report;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const nlohmann::json list = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!list.is_object() || !list.contains("items") || !list["items"].is_array()) return 0;

  ReportInput input;
  input.scope = "all namespaces";
  input.period = parsePeriod("2026-Q4").value();
  input.now = relops::common::parseRfc3339("2026-12-07T12:00:00Z", "now").value();
  for (const nlohmann::json& item : list["items"]) {
    if (!item.is_object()) continue;
    const std::string kind = item.value("kind", std::string());
    if (kind == "ServiceLevelObjective") input.slos.push_back(item);
    if (kind == "ErrorBudgetPolicy") input.policies.push_back(item);
    if (kind == "OnCallRotation") input.rotations.push_back(item);
    if (kind == "DRDrill") input.drills.push_back(item);
    if (kind == "DRDrillRun") input.runs.push_back(item);
    if (kind == "ChangeWindow") input.windows.push_back(item);
  }
  const Report report = buildReport(input);
  (void)renderMarkdown(report);
  const std::string json = renderJson(report).dump();
  if (nlohmann::json::parse(json, nullptr, false).is_discarded()) std::abort();
  const std::string html = renderHtml(report);
  for (const char* markup : {"<script", "<img", "<link", "<iframe", "src=", "href=", "@import"}) {
    if (html.find(markup) != std::string::npos) std::abort();
  }
  return 0;
}
