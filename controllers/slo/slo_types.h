// ServiceLevelObjective (relops.dev/v1alpha1) as C++ values. crds/
// relops.dev_servicelevelobjectives.yaml is the source of truth: parseSlo() reads exactly
// that JSON, applies the schema's defaults (so an offline file reads like the stored
// object) and enforces its CEL rules with the same meaning; sloJson() writes it back.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "controllers/common/slo_status.h"
#include "controllers/slo/calendar_period.h"
#include "controllers/slo/selector.h"
#include "controllers/slo/vocabulary.h"
#include "operator/base/result.h"

namespace relops::slo {

inline constexpr std::string_view kGroup = "relops.dev";
inline constexpr std::string_view kApiVersion = "relops.dev/v1alpha1";
inline constexpr std::string_view kSloKind = "ServiceLevelObjective";

enum class BudgetingMethod { kOccurrences, kTimeslices };
enum class WorkloadKind { kDeployment, kStatefulSet, kDaemonSet };

std::string_view toString(BudgetingMethod method);
std::string_view toString(WorkloadKind kind);

// Labels relops sets on recorded series and alerts; users may not group by or set them.
inline constexpr std::string_view kReservedLabels[] = {"slo",     "namespace", "severity",
                                                       "service", "le",        "oncall_rotation"};

struct RatioIndicator {
  std::optional<Selector> errors;  // exactly one of errors and good
  std::optional<Selector> good;
  Selector total;
  std::vector<std::string> grouping;
};

struct LatencyIndicator {
  Selector bucket;  // a _bucket series without le
  std::string le;   // exactly as the le label reads
  Selector total;
  std::vector<std::string> grouping;
};

struct WorkloadIndicator {
  WorkloadKind kind = WorkloadKind::kDeployment;
  std::string name;
  std::optional<int32_t> minReadyReplicas;
};

using Indicator = std::variant<RatioIndicator, LatencyIndicator, WorkloadIndicator>;

// One row of the multi-window multi-burn-rate table (SRE Workbook, "Alerting on SLOs",
// recommendation 6).
struct BurnRateWindow {
  std::string name;
  std::string severity;
  Percent budgetPercent;  // of the error budget spent within longWindow
  Duration longWindow;
  Duration shortWindow;
  std::optional<Duration> forDuration;
};

// The SRE Workbook table as Sloth's google-30d/google-28d catalogs spell it, with the
// extra 1d/2h ticket row: 2% in 1h, 5% in 6h, 10% in 1d, 10% in 3d. Also the CRD's default.
std::vector<BurnRateWindow> defaultBurnRateWindows();

struct Alerting {
  bool enabled = true;
  std::optional<Duration> absentFor;  // unset: no absent alert ("" in the object)
  std::string runbookURL;
  std::map<std::string, std::string> labels;
  std::vector<BurnRateWindow> burnRateWindows;
};

struct SloSpec {
  std::string service;
  std::string description;
  Percent objective;
  // Rolling: the duration. Calendar (`calendar` set): the nominal length the burn-rate
  // factors are derived from (calendar_period.h); the budget uses the period's own length.
  Duration window;
  std::optional<CalendarUnit> calendar;
  std::string timeZone;  // IANA, calendar windows only ("UTC" by default)
  BudgetingMethod budgetingMethod = BudgetingMethod::kOccurrences;
  Indicator indicator;
  Alerting alerting;
  std::optional<std::string> onCallRef;
  // spec.maintenance.excludeFromBudget: a selecting Maintenance window's minutes are neither
  // good nor bad (workload SLOs; a Prometheus-backed SLO's SLI is Prometheus's).
  bool excludeMaintenance = false;

  // "28d" as written, or "month".
  std::string windowText() const {
    return calendar ? std::string(toString(*calendar)) : window.text();
  }
  // "28d", or "each calendar month in Europe/Berlin".
  std::string windowDescription() const {
    return calendar ? "each calendar " + std::string(toString(*calendar)) + " in " + timeZone
                    : window.text();
  }
};

// The status is shared with the kinds that read an SLO's budget (controllers/common/).
using common::BurnRateStatus;
using common::ErrorBudgetStatus;
using common::parseSloStatus;
using common::SloStatus;
using common::sloStatusJson;
using common::WorkloadStatus;

struct ServiceLevelObjective {
  ObjectMeta metadata;
  SloSpec spec;
  SloStatus status;

  bool isWorkload() const { return std::holds_alternative<WorkloadIndicator>(spec.indicator); }
};

// Reads a whole object (apiVersion, kind, metadata, spec, status). Errors are kConfig
// and name the field path.
base::Result<ServiceLevelObjective> parseSlo(const nlohmann::json& object);
base::Result<SloSpec> parseSloSpec(const nlohmann::json& spec);

nlohmann::json sloJson(const ServiceLevelObjective& slo);
nlohmann::json sloSpecJson(const SloSpec& spec);

}  // namespace relops::slo
