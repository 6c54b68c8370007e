#include "controllers/common/slo_status.h"

#include <charconv>
#include <utility>

namespace relops::common {

using nlohmann::json;

namespace {

// A decimal as the SLO controller writes it ("-12.5", "14.4"), or nullopt.
std::optional<double> decimal(const std::string& text) {
  double value = 0;
  const char* end = text.data() + text.size();
  const auto [stop, error] = std::from_chars(text.data(), end, value);
  if (error != std::errc() || stop != end || text.empty()) return std::nullopt;
  return value;
}

}  // namespace

std::optional<double> SloStatus::budgetRemainingPercent() const {
  if (!errorBudget) return std::nullopt;
  return decimal(errorBudget->remaining);
}

std::map<std::string, double> SloStatus::burnRatesByWindow() const {
  std::map<std::string, double> rates;
  for (const BurnRateStatus& rate : burnRates) {
    if (const auto value = decimal(rate.rate)) rates[rate.window] = *value;
  }
  return rates;
}

base::Result<SloStatus> parseSloStatus(const nlohmann::json& statusJson) {
  JsonObject status;
  RELOPS_ASSIGN(status, JsonObject::at(&statusJson, "status"));
  SloStatus result;
  RELOPS_ASSIGN(result.observedGeneration, status.optionalInt("observedGeneration"));
  RELOPS_ASSIGN(result.conditions, parseConditions(status));
  RELOPS_ASSIGN(result.sli, status.optionalString("sli", 16));
  RELOPS_ASSIGN(result.evaluationTime, status.optionalString("evaluationTime", 64));
  if (status.has("errorBudget")) {
    JsonObject budget;
    RELOPS_ASSIGN(budget, JsonObject::at(status.get("errorBudget"), status.child("errorBudget")));
    std::optional<std::string> remaining;
    std::optional<std::string> consumed;
    RELOPS_ASSIGN(remaining, budget.optionalString("remaining", 16));
    RELOPS_ASSIGN(consumed, budget.optionalString("consumed", 16));
    result.errorBudget = ErrorBudgetStatus{remaining.value_or(""), consumed.value_or("")};
  }
  if (const json* rates = status.get("burnRates"); rates != nullptr) {
    if (!rates->is_array()) return fieldError(status.child("burnRates"), "must be a list");
    for (size_t i = 0; i < rates->size(); ++i) {
      JsonObject item;
      RELOPS_ASSIGN(item, JsonObject::at(&(*rates)[i], status.child("burnRates") + "[" +
                                                           std::to_string(i) + "]"));
      BurnRateStatus rate;
      RELOPS_ASSIGN(rate.window, item.requiredString("window", 5));
      std::optional<std::string> value;
      RELOPS_ASSIGN(value, item.optionalString("rate", 16));
      rate.rate = value.value_or("");
      result.burnRates.push_back(std::move(rate));
    }
  }
  if (status.has("workload")) {
    JsonObject workload;
    RELOPS_ASSIGN(workload, JsonObject::at(status.get("workload"), status.child("workload")));
    WorkloadStatus parsed;
    for (auto [key, target] : {std::pair{"goodMinutes", &parsed.goodMinutes},
                               {"badMinutes", &parsed.badMinutes},
                               {"unknownMinutes", &parsed.unknownMinutes}}) {
      std::optional<int64_t> value;
      RELOPS_ASSIGN(value, workload.optionalInt(key));
      *target = value.value_or(0);
    }
    for (auto [key, target] : {std::pair{"ledgerStart", &parsed.ledgerStart},
                               {"lastObservedTime", &parsed.lastObservedTime},
                               {"lastObservedState", &parsed.lastObservedState},
                               {"workloadResourceVersion", &parsed.workloadResourceVersion}}) {
      std::optional<std::string> value;
      RELOPS_ASSIGN(value, workload.optionalString(key, 64));
      *target = value.value_or("");
    }
    std::optional<std::string> ledger;
    RELOPS_ASSIGN(ledger, workload.optionalString("ledger", 32768));
    parsed.ledger = ledger.value_or("");
    result.workload = std::move(parsed);
  }
  return result;
}

nlohmann::json sloStatusJson(const SloStatus& status) {
  json out = json::object();
  if (status.observedGeneration) out["observedGeneration"] = *status.observedGeneration;
  if (!status.conditions.empty()) out["conditions"] = conditionsJson(status.conditions);
  if (status.sli) out["sli"] = *status.sli;
  if (status.errorBudget) {
    out["errorBudget"] = {{"remaining", status.errorBudget->remaining},
                          {"consumed", status.errorBudget->consumed}};
  }
  if (!status.burnRates.empty()) {
    json rates = json::array();
    for (const BurnRateStatus& rate : status.burnRates) {
      rates.push_back({{"window", rate.window}, {"rate", rate.rate}});
    }
    out["burnRates"] = std::move(rates);
  }
  if (status.evaluationTime) out["evaluationTime"] = *status.evaluationTime;
  if (status.workload) {
    const WorkloadStatus& workload = *status.workload;
    out["workload"] = {{"goodMinutes", workload.goodMinutes},
                       {"badMinutes", workload.badMinutes},
                       {"unknownMinutes", workload.unknownMinutes},
                       {"ledgerStart", workload.ledgerStart},
                       {"lastObservedTime", workload.lastObservedTime},
                       {"lastObservedState", workload.lastObservedState},
                       {"ledger", workload.ledger}};
    if (!workload.workloadResourceVersion.empty()) {
      out["workload"]["workloadResourceVersion"] = workload.workloadResourceVersion;
    }
  }
  return out;
}

}  // namespace relops::common
