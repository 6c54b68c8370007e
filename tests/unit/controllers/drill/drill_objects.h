// DRDrill and DRDrillRun objects for the reconciler tests, shaped as the API server stores
// them: a job drill, and a run of it that the drill controls (controller reference with the
// drill's UID, spec.drillName and the relops.dev/drill label), as the drill's reconciler
// creates it.
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "controllers/drill/decide.h"
#include "controllers/drill/drill_reconciler.h"
#include "controllers/drill/scheduling.h"

namespace relops::drill::testing {

inline const std::string kNamespace = "shop";
inline const std::string kDrill = "nightly";

// "2026-03-10T14:00:00Z" -> Instant; the test fails on a malformed literal.
inline Instant at(const std::string& rfc3339) {
  auto parsed = common::parseRfc3339(rfc3339, "test");
  EXPECT_TRUE(parsed.ok()) << rfc3339;
  return parsed.ok() ? *parsed : Instant{};
}

// A job drill's spec: a busybox Job every five minutes, RTO objective 5m.
inline nlohmann::json jobDrillSpec(const std::string& schedule = "*/5 * * * *") {
  const nlohmann::json container = {{"name", "c"}, {"image", "busybox"}};
  return {{"schedule", schedule},
          {"objectives", {{"rto", "5m"}}},
          {"job",
           {{"template",
             {{"spec",
               {{"template",
                 {{"spec",
                   {{"restartPolicy", "Never"},
                    {"containers", nlohmann::json::array({container})}}}}}}}}}}}};
}

inline nlohmann::json drillObject(const nlohmann::json& spec) {
  return {{"apiVersion", "relops.dev/v1alpha1"},
          {"kind", "DRDrill"},
          {"metadata", {{"name", kDrill}, {"namespace", kNamespace}}},
          {"spec", spec}};
}

// The run of `drill` (as stored, with its UID) for the slot `scheduled`; `ownerUid`
// overrides the UID in its controller reference.
inline nlohmann::json runObject(const nlohmann::json& drill, Instant scheduled,
                                std::string ownerUid = "") {
  const nlohmann::json& metadata = drill["metadata"];
  if (ownerUid.empty()) ownerUid = metadata.value("uid", "");
  auto spec = parseDrillSpec(drill["spec"]);
  EXPECT_TRUE(spec.ok());
  const nlohmann::json owner = {{"apiVersion", "relops.dev/v1alpha1"},
                                {"kind", "DRDrill"},
                                {"name", kDrill},
                                {"uid", ownerUid},
                                {"controller", true},
                                {"blockOwnerDeletion", true}};
  return {{"apiVersion", "relops.dev/v1alpha1"},
          {"kind", "DRDrillRun"},
          {"metadata",
           {{"name", scheduledRunName(kDrill, scheduled)},
            {"namespace", kNamespace},
            {"labels", {{std::string(kDrillLabel), kDrill}}},
            {"ownerReferences", nlohmann::json::array({owner})}}},
          {"spec", toJson(runSpecFor(kDrill, *spec, scheduled, Trigger::kSchedule, ""))}};
}

}  // namespace relops::drill::testing
