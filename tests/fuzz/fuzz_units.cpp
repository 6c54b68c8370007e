// The small value parsers specs are made of. The first byte picks one; the rest is the
// text. Durations (SLO "28d", on-call turn "1w"), percentages ("99.9"), RFC 3339 instants,
// local civil times, and time-zone names as an OnCallRotation resolves them. Checked: what
// a parser accepts, it writes back as text that means the same value.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "controllers/common/rfc3339.h"
#include "controllers/common/units.h"
#include "controllers/oncall/oncall_types.h"
#include "controllers/oncall/schedule.h"

namespace {

void sloDuration(std::string_view text) {
  const auto parsed = relops::common::Duration::parse(text, "f");
  if (!parsed.ok()) return;
  // The canonical text may use several units ("1h30m"), which Prometheus reads but the
  // spec does not: it must name the same length as the value it came from.
  const relops::common::Duration again = relops::common::Duration::fromSeconds(parsed->value());
  if (again.canonical() != parsed->canonical() || again.value() != parsed->value()) std::abort();
}

void sloPercent(std::string_view text) {
  const auto parsed = relops::common::Percent::parse(text, "f");
  if (!parsed.ok()) return;
  (void)parsed->complementFractionText();
  (void)relops::common::formatDecimal(parsed->value(), 6);
}

void oncallDuration(std::string_view text) {
  const auto parsed = relops::oncall::parseDuration(text, "f", "mhdw");
  if (!parsed.ok()) return;
  const auto again = relops::oncall::parseDuration(parsed->toString(), "f", "mhdw");
  if (!again.ok() || !(*again == *parsed)) std::abort();
  (void)parsed->nominal();
  if (parsed->civil()) (void)parsed->days();
}

void instant(std::string_view text) {
  if (const auto parsed = relops::oncall::parseInstant(text, "f"); parsed.ok()) {
    const auto again = relops::oncall::parseInstant(relops::common::formatRfc3339(*parsed), "f");
    if (!again.ok() || *again != *parsed) std::abort();
  }
  if (const auto parsed = relops::common::parseRfc3339(text, "f"); parsed.ok()) {
    const auto again = relops::common::parseRfc3339(relops::common::formatRfc3339(*parsed), "f");
    if (!again.ok() || *again != *parsed) std::abort();
  }
}

void localTime(std::string_view text) {
  if (const auto parsed = relops::oncall::parseLocalTime(text, "f"); parsed.ok()) {
    const auto again =
        relops::oncall::parseLocalTime(relops::oncall::formatLocalTime(*parsed), "f");
    if (!again.ok() || *again != *parsed) std::abort();
  }
  (void)relops::oncall::parseTimeRef(text, "f");
}

// A one-person daily rotation in the zone named by `text`, asked who is on call.
void timeZone(std::string_view text) {
  nlohmann::json spec = {{"timeZone", std::string(text)},
                         {"participants", {{{"name", "ana"}}}},
                         {"layers",
                          {{{"name", "primary"},
                            {"members", {"ana"}},
                            {"start", "2026-03-08T02:30:00"},
                            {"turnLength", "1d"}}}}};
  const auto parsed = relops::oncall::parseSpec(spec);
  if (!parsed.ok()) return;
  const auto schedule = relops::oncall::Schedule::compile(*parsed);
  if (!schedule.ok()) return;
  const relops::oncall::Instant at{std::chrono::seconds(1772960400)};  // 2026-03-08T09:00:00Z
  (void)schedule->shiftAt(at);
  (void)schedule->nextHandoff(at);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 6) {
    case 0:
      sloDuration(text);
      break;
    case 1:
      sloPercent(text);
      break;
    case 2:
      oncallDuration(text);
      break;
    case 3:
      instant(text);
      break;
    case 4:
      localTime(text);
      break;
    default:
      timeZone(text);
      break;
  }
  return 0;
}
