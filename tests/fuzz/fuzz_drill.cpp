// DRDrill and DRDrillRun objects (controllers/drill/drill_types.h) as JSON
// {"spec": ..., "status": ..., "runSpec": ..., "runStatus": ...}, then both controllers'
// decisions at a fixed instant: the drill's scheduling with the status as its history, and
// the run's state machine with the run's own status and no cluster objects found. Checked:
// an accepted spec serializes to JSON that parses again to the same value.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string_view>

#include "controllers/drill/decide.h"
#include "controllers/drill/drill_types.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace relops::drill;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const nlohmann::json object = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (object.is_discarded() || !object.is_object()) return 0;
  const nlohmann::json spec = object.value("spec", nlohmann::json());
  const nlohmann::json status = object.value("status", nlohmann::json());
  const nlohmann::json runSpec = object.value("runSpec", nlohmann::json());
  const nlohmann::json runStatus = object.value("runStatus", nlohmann::json());

  if (const auto parsed = parseDrillSpec(spec); parsed.ok()) {
    const auto reread = parseDrillSpec(toJson(*parsed));
    if (!reread.ok() || !(*reread == *parsed)) std::abort();
  }
  if (const auto parsed = parseRunSpec(runSpec); parsed.ok()) {
    const auto reread = parseRunSpec(toJson(*parsed));
    if (!reread.ok() || !(*reread == *parsed)) std::abort();
  }
  (void)toJson(parseDrillStatus(status));
  (void)toJson(parseRunStatus(runStatus));

  const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1772960400));
  DrillObserved drill;
  drill.name = "drill";
  drill.namespace_ = "default";
  drill.generation = 1;
  drill.creationTimestamp = Instant(std::chrono::seconds(1767225600));  // 2026-01-01
  drill.status = status;
  (void)decideDrill(spec, drill, now);

  RunObserved run;
  run.name = "drill-29548800";
  run.namespace_ = "default";
  run.generation = 1;
  run.status = runStatus;
  (void)decideRun(runSpec, run, now);
  return 0;
}
