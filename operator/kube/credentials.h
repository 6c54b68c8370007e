// Who the client is, per request: a bearer token (static, from a file that
// rotates, or from an exec plugin), basic auth, or a client certificate an
// exec plugin handed out. Sources cache and refresh on their own schedule and
// are told about a 401 so the next request does not reuse what was rejected.
// Credentials are never logged; nothing here formats them into a message.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "operator/base/clock.h"
#include "operator/base/result.h"
#include "operator/kube/config.h"

namespace relops::kube {

struct Credentials {
  std::string token;
  std::string username;
  std::string password;
  // From an exec plugin; when set they replace the kubeconfig's client certificate.
  std::string clientCertificatePem;
  std::string clientKeyPem;

  // The Authorization header value, or "" for none.
  std::string authorization() const;
  bool operator==(const Credentials&) const = default;
};

class CredentialSource {
 public:
  virtual ~CredentialSource() = default;
  virtual Result<Credentials> current() = 0;
  // The server answered 401 to a request made with `rejected`: drop it from
  // any cache so that current() fetches afresh.
  virtual void invalidate(const Credentials& rejected) = 0;
};

class StaticCredentialSource final : public CredentialSource {
 public:
  explicit StaticCredentialSource(Credentials credentials) : credentials_(std::move(credentials)) {}
  Result<Credentials> current() override { return credentials_; }
  void invalidate(const Credentials&) override {}

 private:
  Credentials credentials_;
};

// A token file such as a projected service-account token, which the kubelet
// rewrites long before the token's hour is up. Re-read at least every
// `reloadPeriod` (client-go's cachingTokenSource uses 60 s) and immediately
// after a 401. If a re-read fails the last good token stays in use.
class TokenFileSource final : public CredentialSource {
 public:
  static constexpr std::chrono::seconds kDefaultReloadPeriod{60};

  TokenFileSource(std::string path, std::shared_ptr<const base::Clock> clock,
                  std::chrono::nanoseconds reloadPeriod = kDefaultReloadPeriod,
                  std::string fallbackToken = {});

  Result<Credentials> current() override;
  void invalidate(const Credentials& rejected) override;

 private:
  const std::string path_;
  const std::shared_ptr<const base::Clock> clock_;
  const std::chrono::nanoseconds reloadPeriod_;
  const std::string fallbackToken_;
  std::mutex mutex_;
  std::optional<std::string> token_;
  std::chrono::steady_clock::time_point readAt_;
  bool stale_ = true;
};

class ExecRunner;

struct CredentialOptions {
  std::shared_ptr<const base::Clock> clock;  // default: the system clock
  std::chrono::nanoseconds tokenFileReloadPeriod = TokenFileSource::kDefaultReloadPeriod;
  std::shared_ptr<ExecRunner> execRunner;  // default: a real subprocess
  std::chrono::nanoseconds execTimeout = std::chrono::seconds(60);
};

// The source a configuration asks for: exec plugin, token file, static
// token or basic auth; nullptr when the client is anonymous or uses only
// the configuration's client certificate.
std::unique_ptr<CredentialSource> makeCredentialSource(const ClientConfig& config,
                                                       const CredentialOptions& options = {});

}  // namespace relops::kube
