// OnCallRotation.spec.routing: who gets paged. Each participant has a receiver in
// the prometheus-operator's AlertmanagerConfig shape (webhookConfigs, slackConfigs,
// pagerdutyConfigs, ...; credentials are Secret references in the rotation's
// namespace, resolved by that operator, never read by relops), plus a fallback for
// coverage gaps. relops owns one AlertmanagerConfig per routed rotation whose route
// matches the rotation's alerts and sends them to whoever is on call now.
#pragma once

#include <array>
#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "operator/base/result.h"

namespace relops::oncall {

// The receiver kinds of AlertmanagerConfig (monitoring.coreos.com/v1alpha1, prometheus-operator
// v0.85): a receiver is a name and lists of these.
inline constexpr std::array<std::string_view, 15> kReceiverKinds = {
    "discordConfigs",  "emailConfigs",     "msteamsConfigs",  "msteamsv2Configs",
    "opsgenieConfigs", "pagerdutyConfigs", "pushoverConfigs", "rocketchatConfigs",
    "slackConfigs",    "snsConfigs",       "telegramConfigs", "victoropsConfigs",
    "webexConfigs",    "webhookConfigs",   "wechatConfigs"};

// Bounds of the schema (crds/relops.dev_oncallrotations.yaml), mirrored here.
inline constexpr size_t kMaxReceivers = 50;
inline constexpr size_t kMaxReceiverConfigs = 10;  // per kind
inline constexpr size_t kMaxGroupBy = 20;
inline constexpr std::string_view kDefaultNoticeLeadTime = "15m";

// How a receiver is written: the lists by kind, passed through unchanged.
struct ReceiverConfigs {
  nlohmann::json lists = nlohmann::json::object();  // kind -> array of objects
  bool operator==(const ReceiverConfigs&) const = default;
};

struct ParticipantReceiver {
  std::string participant;
  ReceiverConfigs configs;
  bool operator==(const ParticipantReceiver&) const = default;
};

// Shift notices posted to Alertmanager (with --alertmanager-url).
struct Notices {
  bool enabled = true;
  std::chrono::minutes leadTime{15};
  std::string leadTimeText{kDefaultNoticeLeadTime};
  bool operator==(const Notices&) const = default;
};

struct Routing {
  std::vector<ParticipantReceiver> receivers;  // one per participant
  ReceiverConfigs fallback;                    // during coverage gaps
  std::vector<std::string> groupBy;            // passed through to the route
  std::string groupWait;                       // Alertmanager durations, as written
  std::string groupInterval;
  std::string repeatInterval;
  Notices notices;

  const ParticipantReceiver* receiverOf(std::string_view participant) const;
  bool operator==(const Routing&) const = default;
};

// Parses `.spec.routing` (`path` names it in errors). That every receiver names a
// participant, and every participant has one, is checked by parseSpec, which knows them.
base::Result<Routing> parseRouting(const nlohmann::json& node, const std::string& path);
nlohmann::json toJson(const Routing& routing);

// "30s", "5m", "1h30m", "4h": Alertmanager's duration syntax
// (^(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?$),
// not empty.
bool isAlertmanagerDuration(std::string_view text);

}  // namespace relops::oncall
