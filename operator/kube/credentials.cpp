#include "operator/kube/credentials.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "operator/kube/base64.h"
#include "operator/kube/exec_credential.h"

namespace relops::kube {
namespace {

std::string trimmed(std::string text) {
  const auto notSpace = [](unsigned char c) { return !std::isspace(c); };
  text.erase(text.begin(), std::find_if(text.begin(), text.end(), notSpace));
  text.erase(std::find_if(text.rbegin(), text.rend(), notSpace).base(), text.end());
  return text;
}

}  // namespace

std::string Credentials::authorization() const {
  if (!token.empty()) return "Bearer " + token;
  if (!username.empty() || !password.empty()) {
    return "Basic " + base64Encode(username + ":" + password);
  }
  return {};
}

TokenFileSource::TokenFileSource(std::string path, std::shared_ptr<const base::Clock> clock,
                                 std::chrono::nanoseconds reloadPeriod, std::string fallbackToken)
    : path_(std::move(path)),
      clock_(clock ? std::move(clock) : std::make_shared<base::SystemClock>()),
      reloadPeriod_(reloadPeriod),
      fallbackToken_(std::move(fallbackToken)) {}

Result<Credentials> TokenFileSource::current() {
  std::lock_guard lock(mutex_);
  const auto now = clock_->steadyNow();
  if (stale_ || !token_ || now - readAt_ >= reloadPeriod_) {
    std::ifstream in(path_, std::ios::binary);
    std::ostringstream content;
    if (in) content << in.rdbuf();
    std::string token = trimmed(content.str());
    if (in && !token.empty()) {
      token_ = std::move(token);
      readAt_ = now;
      stale_ = false;
    } else if (!token_ && fallbackToken_.empty()) {
      const std::string reason = in ? "the file is empty" : std::strerror(errno);
      return base::Error(base::ErrorKind::kUnauthorized,
                         "token file " + path_ + " cannot be read: " + reason);
    }
    // Otherwise keep the last good token (client-go's cachingTokenSource):
    // a rotation caught half-written must not take the operator down.
  }
  Credentials credentials;
  credentials.token = token_ ? *token_ : fallbackToken_;
  return credentials;
}

void TokenFileSource::invalidate(const Credentials&) {
  std::lock_guard lock(mutex_);
  stale_ = true;
}

std::unique_ptr<CredentialSource> makeCredentialSource(const ClientConfig& config,
                                                       const CredentialOptions& options) {
  std::shared_ptr<const base::Clock> clock =
      options.clock ? options.clock : std::make_shared<base::SystemClock>();
  if (config.exec) {
    std::shared_ptr<ExecRunner> runner =
        options.execRunner ? options.execRunner : std::make_shared<ProcessExecRunner>();
    return std::make_unique<ExecCredentialSource>(*config.exec, config, clock, runner,
                                                  options.execTimeout);
  }
  if (!config.tokenFile.empty()) {
    return std::make_unique<TokenFileSource>(config.tokenFile, clock, options.tokenFileReloadPeriod,
                                             config.token);
  }
  if (!config.token.empty() || !config.username.empty() || !config.password.empty()) {
    Credentials credentials;
    credentials.token = config.token;
    credentials.username = config.username;
    credentials.password = config.password;
    return std::make_unique<StaticCredentialSource>(std::move(credentials));
  }
  return nullptr;
}

}  // namespace relops::kube
