// A Prometheus bearer token never travels over plain http:// unless the operator says so.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "controllers/slo/prometheus.h"

namespace relops::slo {
namespace {

using ::testing::HasSubstr;

TEST(ConnectPrometheus, ABearerTokenNeedsHttpsOrTheFlag) {
  const std::string tokenFile = ::testing::TempDir() + "/prometheus-token";
  std::ofstream(tokenFile) << "secret\n";
  struct Case {
    const char* name;
    const char* url;
    bool token;
    bool allowHttp;
    bool ok;
  };
  const Case cases[] = {
      {"https with a token", "https://prometheus.monitoring:9090", true, false, true},
      {"http without a token", "http://prometheus.monitoring:9090", false, false, true},
      {"http with a token is refused", "http://prometheus.monitoring:9090", true, false, false},
      {"upper-case HTTP with a token is refused", "HTTP://prometheus:9090", true, false, false},
      {"http with a token and the flag", "http://127.0.0.1:9090", true, true, true},
  };
  for (const Case& c : cases) {
    PrometheusOptions options;
    options.url = c.url;
    if (c.token) options.bearerTokenFile = tokenFile;
    options.allowHttpBearerToken = c.allowHttp;
    auto connected = connectPrometheus(options);
    EXPECT_EQ(connected.ok(), c.ok) << c.name;
    if (!c.ok && !connected.ok()) {
      EXPECT_THAT(connected.error().message(), HasSubstr("--prometheus-allow-http-bearer-token"))
          << c.name;
    }
  }
  std::remove(tokenFile.c_str());
}

}  // namespace
}  // namespace relops::slo
