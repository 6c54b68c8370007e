// ChangeWindow objects (controllers/changewindow/changewindow_types.h parseChangeWindow) as
// JSON, then the decision of an accepted window at instants around DST changes and month ends,
// and its admission binding. Checked: an open window contains the instant, the next one opens
// after it, a requeue is in the future, and the binding's name is a valid length.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "controllers/changewindow/admission.h"
#include "controllers/changewindow/changewindow_decide.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace relops::changewindow;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const nlohmann::json object = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (object.is_discarded()) return 0;

  const auto window = parseChangeWindow(object);
  if (!window.ok()) return 0;

  nlohmann::json status;
  // 2026-03-08T00:00:00Z (New York's spring-forward day), then 40 days on in 10-day steps.
  for (int step = 0; step < 5; ++step) {
    const TimePoint now{std::chrono::seconds(1772928000 + int64_t{step} * 864000)};
    const WindowDecision decision = decideWindow(*window, status, {}, now);
    if (decision.current && !(decision.current->start <= now && now < decision.current->end)) {
      std::abort();
    }
    if (decision.next && decision.next->start <= now) std::abort();
    if (decision.requeueAt && *decision.requeueAt <= now) std::abort();
    status = decision.status;
  }
  const nlohmann::json binding = windowBinding(*window);
  if (binding["metadata"]["name"].get<std::string>().size() > 253) std::abort();
  return 0;
}
