// Fluent builder of ServiceLevelObjective objects for tests (STYLE.md 6):
//   SloBuilder().objective("99.9").window("7d").ratioErrors(...).build()
// It builds the JSON a user writes, so every test also goes through parseSlo.
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "controllers/slo/slo_types.h"

namespace relops::slo::testing {

class SloBuilder {
 public:
  SloBuilder() {
    json_ = {{"apiVersion", "relops.dev/v1alpha1"},
             {"kind", "ServiceLevelObjective"},
             {"metadata", {{"name", "checkout"}, {"namespace", "shop"}}},
             {"spec",
              {{"service", "checkout"},
               {"objective", "99.9"},
               {"indicator",
                {{"ratio",
                  {{"errors", "http_requests_total{job=\"checkout\",code=~\"5..\"}"},
                   {"total", "http_requests_total{job=\"checkout\"}"}}}}}}}};
  }

  SloBuilder& name(std::string value) { return set("/metadata/name", value); }
  SloBuilder& uid(std::string value) { return set("/metadata/uid", value); }
  SloBuilder& objective(std::string value) { return set("/spec/objective", value); }
  SloBuilder& window(std::string value) { return set("/spec/window", value); }
  SloBuilder& ratioErrors(std::string errors, std::string total) {
    json_["spec"]["indicator"] = {{"ratio", {{"errors", errors}, {"total", total}}}};
    return *this;
  }
  SloBuilder& ratioGood(std::string good, std::string total) {
    json_["spec"]["indicator"] = {{"ratio", {{"good", good}, {"total", total}}}};
    return *this;
  }
  SloBuilder& latency(std::string bucket, std::string le, std::string total) {
    json_["spec"]["indicator"] = {{"latency", {{"bucket", bucket}, {"le", le}, {"total", total}}}};
    return *this;
  }
  SloBuilder& workload(std::string kind, std::string workloadName) {
    json_["spec"]["indicator"] = {{"workload", {{"kind", kind}, {"name", workloadName}}}};
    json_["spec"]["budgetingMethod"] = "Timeslices";
    return *this;
  }
  SloBuilder& grouping(std::vector<std::string> labels) {
    json_["spec"]["indicator"].begin().value()["grouping"] = labels;
    return *this;
  }
  SloBuilder& window(std::string name, std::string severity, std::string budget,
                     std::string longWindow, std::string shortWindow, std::string forText = "") {
    nlohmann::json row = {{"name", name},
                          {"severity", severity},
                          {"budgetPercent", budget},
                          {"longWindow", longWindow},
                          {"shortWindow", shortWindow}};
    if (!forText.empty()) row["for"] = forText;
    json_["spec"]["alerting"]["burnRateWindows"].push_back(row);
    return *this;
  }
  SloBuilder& alerting(std::string key, nlohmann::json value) {
    json_["spec"]["alerting"][key] = std::move(value);
    return *this;
  }
  SloBuilder& onCall(std::string rotation) {
    json_["spec"]["onCallRef"] = {{"name", rotation}};
    return *this;
  }
  SloBuilder& spec(std::string key, nlohmann::json value) {
    json_["spec"][key] = std::move(value);
    return *this;
  }

  const nlohmann::json& json() const { return json_; }

  ServiceLevelObjective build() const {
    auto slo = parseSlo(json_);
    if (!slo) ADD_FAILURE() << "builder made an invalid SLO: " << slo.error().describe();
    return slo ? *slo : ServiceLevelObjective{};
  }

 private:
  SloBuilder& set(const char* pointer, std::string value) {
    json_[nlohmann::json::json_pointer(pointer)] = std::move(value);
    return *this;
  }
  nlohmann::json json_;
};

}  // namespace relops::slo::testing
