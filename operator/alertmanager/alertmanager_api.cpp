#include "operator/alertmanager/alertmanager_api.h"

#include <date/date.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "operator/kube/http_client.h"
#include "operator/kube/url.h"

namespace relops::alertmanager {

using nlohmann::json;

namespace {

std::string formatInstant(std::chrono::sys_seconds t) { return date::format("%FT%TZ", t); }

base::Result<std::chrono::sys_seconds> parseInstant(const json& value, const char* field) {
  if (!value.is_string()) {
    return base::Error(base::ErrorKind::kBadRequest,
                       std::string("Alertmanager silence without ") + field);
  }
  std::istringstream in(value.get<std::string>());
  std::chrono::sys_time<std::chrono::milliseconds> parsed;
  in >> date::parse("%FT%T%Ez", parsed);
  if (in.fail()) {
    in.clear();
    in.str(value.get<std::string>());
    in >> date::parse("%FT%TZ", parsed);
  }
  if (in.fail()) {
    return base::Error(base::ErrorKind::kBadRequest,
                       std::string("Alertmanager silence with a bad ") + field);
  }
  return std::chrono::floor<std::chrono::seconds>(parsed);
}

class HttpAlertmanager final : public AlertmanagerApi {
 public:
  explicit HttpAlertmanager(std::unique_ptr<kube::HttpClient> client)
      : client_(std::move(client)) {}

  base::Result<void> postAlerts(const json& alerts) override {
    auto response = client_->request("POST", "/api/v2/alerts", alerts.dump());
    if (!response.ok()) return std::move(response).error().context("post alerts to Alertmanager");
    return {};
  }

  base::Result<std::vector<Silence>> listSilences(const std::vector<SilenceMatcher>& filter,
                                                  size_t limit) override {
    kube::Query query;
    for (const SilenceMatcher& matcher : filter) {
      query.add("filter", matcher.name + "=" + json(matcher.value).dump());
    }
    auto response = client_->request("GET", "/api/v2/silences" + query.str());
    if (!response.ok()) return std::move(response).error().context("list Alertmanager silences");
    std::vector<Silence> silences;
    if (!response->is_array()) return silences;
    for (const json& item : *response) {
      if (silences.size() >= limit) break;
      auto silence = parseSilence(item);
      if (silence.ok()) silences.push_back(std::move(*silence));
    }
    return silences;
  }

  base::Result<std::string> createSilence(const Silence& silence) override {
    auto response = client_->request("POST", "/api/v2/silences", silenceJson(silence).dump());
    if (!response.ok()) return std::move(response).error().context("create Alertmanager silence");
    if (!response->is_object() || !(*response)["silenceID"].is_string()) {
      return base::Error(base::ErrorKind::kTransient, "Alertmanager answered without silenceID");
    }
    return (*response)["silenceID"].get<std::string>();
  }

  base::Result<void> expireSilence(const std::string& id) override {
    auto response = client_->request("DELETE", "/api/v2/silence/" + kube::escapePathSegment(id));
    if (!response.ok()) {
      if (response.error().kind() == base::ErrorKind::kNotFound) return {};
      return std::move(response).error().context("expire Alertmanager silence " + id);
    }
    return {};
  }

 private:
  std::unique_ptr<kube::HttpClient> client_;
};

}  // namespace

json silenceJson(const Silence& silence) {
  json matchers = json::array();
  for (const SilenceMatcher& matcher : silence.matchers) {
    matchers.push_back({{"name", matcher.name},
                        {"value", matcher.value},
                        {"isRegex", matcher.isRegex},
                        {"isEqual", matcher.isEqual}});
  }
  json body = {{"matchers", matchers},
               {"startsAt", formatInstant(silence.startsAt)},
               {"endsAt", formatInstant(silence.endsAt)},
               {"createdBy", silence.createdBy},
               {"comment", silence.comment}};
  if (!silence.id.empty()) body["id"] = silence.id;
  return body;
}

base::Result<Silence> parseSilence(const json& value) {
  if (!value.is_object()) {
    return base::Error(base::ErrorKind::kBadRequest, "Alertmanager silence is not an object");
  }
  Silence silence;
  silence.id = value.value("id", "");
  silence.createdBy = value.value("createdBy", "");
  silence.comment = value.value("comment", "");
  if (value.contains("status") && value["status"].is_object()) {
    silence.state = value["status"].value("state", "");
  }
  if (value.contains("matchers") && value["matchers"].is_array()) {
    for (const json& matcher : value["matchers"]) {
      if (!matcher.is_object()) continue;
      silence.matchers.push_back({matcher.value("name", ""), matcher.value("value", ""),
                                  matcher.value("isRegex", false), matcher.value("isEqual", true)});
    }
  }
  RELOPS_ASSIGN(silence.startsAt, parseInstant(value.value("startsAt", json()), "startsAt"));
  RELOPS_ASSIGN(silence.endsAt, parseInstant(value.value("endsAt", json()), "endsAt"));
  return silence;
}

base::Result<std::unique_ptr<AlertmanagerApi>> connectAlertmanager(
    const AlertmanagerOptions& options) {
  kube::ClientConfig config;
  config.server = options.url;
  while (config.server.ends_with('/')) config.server.pop_back();
  config.source = "--alertmanager-url " + options.url;
  if (!options.caFile.empty()) {
    std::ifstream file(options.caFile);
    if (!file) {
      return base::Error(base::ErrorKind::kConfig,
                         "cannot read --alertmanager-ca-file " + options.caFile);
    }
    std::stringstream text;
    text << file.rdbuf();
    config.caPem = text.str();
  }
  kube::HttpClientOptions clientOptions;
  clientOptions.qps = 10;  // notices at handoffs, silences at maintenance windows
  clientOptions.burst = 50;
  clientOptions.requestTimeout = options.timeout;
  clientOptions.userAgent = "relops";
  auto client = kube::HttpClient::create(config, std::move(clientOptions));
  if (!client.ok()) return std::move(client).error();
  return std::unique_ptr<AlertmanagerApi>(std::make_unique<HttpAlertmanager>(std::move(*client)));
}

}  // namespace relops::alertmanager
