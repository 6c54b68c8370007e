// ServiceLevelObjective objects (controllers/slo/slo_types.h parseSlo) as JSON, the way the
// API server or `relops generate` hands them over, then everything the controller derives
// from an accepted one: Prometheus rules, the child objects and the status queries.
// Checked: an accepted object serializes to JSON that parses again to the same JSON.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string_view>

#include "controllers/slo/rule_output.h"
#include "controllers/slo/rules.h"
#include "controllers/slo/slo_types.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace relops::slo;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const nlohmann::json object = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (object.is_discarded()) return 0;

  const auto slo = parseSlo(object);
  if (!slo.ok()) return 0;

  const nlohmann::json written = sloJson(*slo);
  const auto reread = parseSlo(written);
  if (!reread.ok() || sloJson(*reread) != written) std::abort();

  const auto rules = generateRules(*slo);
  if (rules.ok()) {
    (void)prometheusRuleJson(*slo, *rules);
    (void)ruleConfigMapJson(*slo, *rules);
    (void)ruleFileJson(rules->groups);
  }
  (void)statusQueries(*slo);
  return 0;
}
