// A fluent builder for OnCallRotation specs in tests (STYLE.md 6):
//   RotationBuilder("America/New_York").people({"a", "b"})
//       .layer("primary", {"a", "b"}, "2026-01-05T09:00:00", "1d").spec();
#pragma once

#include <gtest/gtest.h>

#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "controllers/oncall/oncall_types.h"

namespace relops::oncall::testing {

class RotationBuilder {
 public:
  explicit RotationBuilder(std::string zone) { json_["timeZone"] = std::move(zone); }

  RotationBuilder& people(std::initializer_list<std::string> names) {
    for (const std::string& name : names) json_["participants"].push_back({{"name", name}});
    return *this;
  }
  RotationBuilder& layer(std::string name, std::vector<std::string> members, std::string start,
                         std::string turn) {
    json_["layers"].push_back({{"name", std::move(name)},
                               {"members", std::move(members)},
                               {"start", std::move(start)},
                               {"turnLength", std::move(turn)}});
    return *this;
  }
  // Adds a restriction to the last layer; empty from/to means whole days.
  RotationBuilder& restrict(std::vector<std::string> days, std::string from = "",
                            std::string to = "") {
    nlohmann::json restriction = nlohmann::json::object();
    if (!days.empty()) restriction["days"] = std::move(days);
    if (!from.empty()) restriction["from"] = std::move(from);
    if (!to.empty()) restriction["to"] = std::move(to);
    json_["layers"].back()["restrictions"].push_back(std::move(restriction));
    return *this;
  }
  RotationBuilder& cover(std::string participant, std::string start, std::string end) {
    json_["overrides"].push_back({{"participant", std::move(participant)},
                                  {"start", std::move(start)},
                                  {"end", std::move(end)}});
    return *this;
  }
  RotationBuilder& horizon(std::string value) {
    json_["horizon"] = std::move(value);
    return *this;
  }
  RotationBuilder& fairness(std::string lookBack, std::string allowedImbalance) {
    json_["fairness"] = {{"lookBack", std::move(lookBack)},
                         {"allowedImbalance", std::move(allowedImbalance)}};
    return *this;
  }

  const nlohmann::json& json() const { return json_; }

  Spec spec() const {
    auto parsed = parseSpec(json_);
    EXPECT_TRUE(parsed.ok()) << (parsed.ok() ? "" : parsed.error().describe());
    return parsed.ok() ? parsed.value() : Spec{};
  }

 private:
  nlohmann::json json_ = nlohmann::json::object();
};

// "2026-03-08T13:00:00Z" -> Instant; the test fails on a malformed literal.
inline Instant at(const std::string& rfc3339) {
  auto parsed = parseInstant(rfc3339, "test");
  EXPECT_TRUE(parsed.ok()) << rfc3339;
  return parsed.ok() ? parsed.value() : Instant{};
}

}  // namespace relops::oncall::testing
