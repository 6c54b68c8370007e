// OnCallRotation objects (controllers/oncall/oncall_types.h parseSpec, parseStatus) as
// JSON {"spec": ..., "status": ...}, then the controller's whole decision, decide(), at a
// fixed instant: zone resolution, the schedule engine, load and balance. Checked: an
// accepted spec or status serializes to JSON that parses again to the same value.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string_view>

#include "controllers/oncall/decide.h"
#include "controllers/oncall/oncall_types.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace relops::oncall;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const nlohmann::json object = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (object.is_discarded() || !object.is_object()) return 0;
  const nlohmann::json spec = object.value("spec", nlohmann::json());
  const nlohmann::json status = object.value("status", nlohmann::json());

  if (const auto parsed = parseSpec(spec); parsed.ok()) {
    const auto reread = parseSpec(toJson(*parsed));
    if (!reread.ok() || !(*reread == *parsed)) std::abort();
  }
  if (const auto parsed = parseStatus(status); parsed.ok()) {
    const auto reread = parseStatus(toJson(*parsed));
    if (!reread.ok() || !(*reread == *parsed)) std::abort();
  }

  Observed observed;
  observed.generation = 1;
  observed.status = status;
  const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1772960400));
  (void)decide(spec, observed, now);  // 2026-03-08T09:00:00Z, the day New York springs forward
  return 0;
}
