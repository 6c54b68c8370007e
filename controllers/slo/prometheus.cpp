#include "controllers/slo/prometheus.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "operator/kube/http_client.h"
#include "operator/kube/url.h"

namespace relops::slo {

using base::Error;
using base::ErrorKind;
using nlohmann::json;

namespace {

base::Result<double> sampleValue(const json& pair) {
  // [<unix seconds, float>, "<value>"]; the value is a string so NaN and ±Inf survive JSON.
  if (!pair.is_array() || pair.size() != 2 || !pair[0].is_number() || !pair[1].is_string()) {
    return Error(ErrorKind::kInternal, "Prometheus returned a sample that is not [time, value]");
  }
  const std::string& text = pair[1].get_ref<const std::string&>();
  if (text == "NaN") return std::nan("");
  if (text == "+Inf") return HUGE_VAL;
  if (text == "-Inf") return -HUGE_VAL;
  try {
    size_t used = 0;
    const double value = std::stod(text, &used);
    if (used == text.size()) return value;
  } catch (const std::exception&) {
  }
  return Error(ErrorKind::kInternal,
               "Prometheus returned a sample value that is not a number: " + text.substr(0, 64));
}

std::chrono::system_clock::time_point sampleTime(const json& pair) {
  const double seconds = pair[0].get<double>();
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::duration<double>(seconds)));
}

base::Result<PromSample> parseSample(const json& pair, const json* metric) {
  PromSample sample;
  auto value = sampleValue(pair);
  if (!value.ok()) return std::move(value).error();
  sample.value = *value;
  sample.time = sampleTime(pair);
  if (metric != nullptr && metric->is_object()) {
    for (const auto& [name, labelValue] : metric->items()) {
      if (labelValue.is_string()) sample.labels[name] = labelValue.get<std::string>();
    }
  }
  return sample;
}

class HttpPrometheus final : public PrometheusApi {
 public:
  explicit HttpPrometheus(std::unique_ptr<kube::HttpClient> client) : client_(std::move(client)) {}

  base::Result<std::vector<PromSample>> query(const std::string& expr) override {
    return ask(expr, std::nullopt);
  }

  base::Result<std::vector<PromSample>> queryAt(const std::string& expr,
                                                std::chrono::system_clock::time_point at) override {
    return ask(expr, at);
  }

 private:
  base::Result<std::vector<PromSample>> ask(
      const std::string& expr, std::optional<std::chrono::system_clock::time_point> at) {
    kube::Query parameters;
    parameters.add("query", expr);
    if (at) {
      parameters.add(
          "time",
          std::to_string(
              std::chrono::duration_cast<std::chrono::seconds>(at->time_since_epoch()).count()));
    }
    auto response = client_->request("GET", "/api/v1/query" + parameters.str());
    if (!response.ok()) return std::move(response).error().context("Prometheus query " + expr);
    return parseQueryResponse(*response);
  }

  std::unique_ptr<kube::HttpClient> client_;
};

}  // namespace

base::Result<std::vector<PromSample>> parseQueryResponse(const json& response) {
  if (!response.is_object()) {
    return Error(ErrorKind::kInternal, "Prometheus's answer is not JSON");
  }
  if (response.value("status", "") != "success") {
    return Error(ErrorKind::kBadRequest,
                 "Prometheus answered: " + response.value("error", std::string("unknown error")));
  }
  const json* data = response.contains("data") ? &response["data"] : nullptr;
  if (data == nullptr || !data->is_object()) {
    return Error(ErrorKind::kInternal, "Prometheus's answer has no data");
  }
  const std::string type = data->value("resultType", "");
  const json* result = data->contains("result") ? &(*data)["result"] : nullptr;
  std::vector<PromSample> samples;
  if (type == "scalar" && result != nullptr) {
    auto sample = parseSample(*result, nullptr);
    if (!sample.ok()) return std::move(sample).error();
    samples.push_back(std::move(*sample));
    return samples;
  }
  if (type != "vector" || result == nullptr || !result->is_array()) {
    return Error(ErrorKind::kBadRequest,
                 "Prometheus returned a " + type + " result where an instant vector was expected");
  }
  for (const json& element : *result) {
    if (!element.is_object() || !element.contains("value")) continue;
    auto sample =
        parseSample(element["value"], element.contains("metric") ? &element["metric"] : nullptr);
    if (!sample.ok()) return std::move(sample).error();
    samples.push_back(std::move(*sample));
  }
  return samples;
}

base::Result<std::unique_ptr<PrometheusApi>> connectPrometheus(const PrometheusOptions& options) {
  // Refused at startup rather than per request: the URL and the token file are fixed for
  // the process, so the mistake is known before anything is sent.
  std::string scheme = options.url.substr(0, options.url.find(':'));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (!options.bearerTokenFile.empty() && scheme != "https" && !options.allowHttpBearerToken) {
    return Error(ErrorKind::kConfig,
                 "--prometheus-bearer-token-file is set but --prometheus-url " + options.url +
                     " is not https://: the token would be sent unencrypted. Use an https:// "
                     "URL, or pass --prometheus-allow-http-bearer-token if the path to "
                     "Prometheus is trusted (a sidecar or loopback)");
  }
  kube::ClientConfig config;
  config.server = options.url;
  while (config.server.ends_with('/')) config.server.pop_back();
  config.source = "--prometheus-url " + options.url;
  config.tokenFile = options.bearerTokenFile;
  config.insecureSkipTlsVerify = options.insecureSkipTlsVerify;
  if (!options.caFile.empty()) {
    std::ifstream file(options.caFile);
    if (!file)
      return Error(ErrorKind::kConfig, "cannot read --prometheus-ca-file " + options.caFile);
    std::stringstream text;
    text << file.rdbuf();
    config.caPem = text.str();
  }
  kube::HttpClientOptions clientOptions;
  clientOptions.qps = 50;  // the refresh is spread over the interval; this only caps bursts
  clientOptions.burst = 100;
  clientOptions.requestTimeout = options.timeout;
  clientOptions.userAgent = "relops";
  auto client = kube::HttpClient::create(config, std::move(clientOptions));
  if (!client.ok()) return std::move(client).error();
  return std::unique_ptr<PrometheusApi>(std::make_unique<HttpPrometheus>(std::move(*client)));
}

}  // namespace relops::slo
