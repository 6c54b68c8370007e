// ErrorBudgetPolicy objects (controllers/policy/policy_types.h parsePolicy) as JSON, then the
// freeze decision an accepted policy drives, over a fixed namespace of SLOs whose budgets
// are spent, healthy and unknown. Checked: an accepted object serializes to JSON that
// parses again to the same JSON.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string_view>
#include <vector>

#include "controllers/policy/freeze.h"
#include "controllers/policy/policy_types.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace relops::policy;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const nlohmann::json object = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (object.is_discarded()) return 0;

  const auto policy = parsePolicy(object);
  if (!policy.ok()) return 0;

  const nlohmann::json written = policyJson(*policy);
  const auto reread = parsePolicy(written);
  if (!reread.ok() || policyJson(*reread) != written) std::abort();

  std::vector<SloBudgetInput> slos(3);
  slos[0].name = "spent";
  slos[0].labels = {{"tier", "1"}, {"team", "payments"}};
  slos[0].remainingPercent = -12.5;
  slos[0].burnRates = {{"1h", 20.0}, {"6h", 7.0}, {"3d", 1.2}};
  slos[0].workloads = {"Deployment/checkout"};
  slos[1].name = "healthy";
  slos[1].labels = {{"tier", "2"}};
  slos[1].remainingPercent = 80.0;
  slos[1].burnRates = {{"1h", 0.1}};
  slos[1].workloads = {"StatefulSet/db", "Deployment/api"};
  slos[2].name = "unknown";
  const auto now = std::chrono::sys_seconds(std::chrono::seconds(1767225600));  // 2026-01-01
  const FreezeDecision decision = decideFreezes(*policy, slos, now);
  for (const ActiveFreeze& freeze : decision.activeFreezes) (void)freezeMessage(*policy, freeze);
  return 0;
}
