#include "controllers/oncall/alertmanager_api.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "operator/kube/http_client.h"

namespace relops::oncall {
namespace {

class HttpAlertmanager final : public AlertmanagerApi {
 public:
  explicit HttpAlertmanager(std::unique_ptr<kube::HttpClient> client)
      : client_(std::move(client)) {}

  base::Result<void> postAlerts(const nlohmann::json& alerts) override {
    auto response = client_->request("POST", "/api/v2/alerts", alerts.dump());
    if (!response.ok()) return std::move(response).error().context("post alerts to Alertmanager");
    return {};
  }

 private:
  std::unique_ptr<kube::HttpClient> client_;
};

}  // namespace

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
  clientOptions.qps = 10;  // notices come at handoffs, a few per rotation per day
  clientOptions.burst = 50;
  clientOptions.requestTimeout = options.timeout;
  clientOptions.userAgent = "relops";
  auto client = kube::HttpClient::create(config, std::move(clientOptions));
  if (!client.ok()) return std::move(client).error();
  return std::unique_ptr<AlertmanagerApi>(std::make_unique<HttpAlertmanager>(std::move(*client)));
}

}  // namespace relops::oncall
