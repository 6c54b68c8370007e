// client.authentication.k8s.io exec credential plugins (KEP-541): relops runs
// the kubeconfig's command with KUBERNETES_EXEC_INFO in its environment and
// reads an ExecCredential from its stdout, which carries a token or a client
// certificate and key, and may say when it expires.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "operator/base/clock.h"
#include "operator/base/result.h"
#include "operator/kube/config.h"
#include "operator/kube/credentials.h"

namespace relops::kube {

struct ExecCredential {
  std::string token;
  std::string clientCertificatePem;
  std::string clientKeyPem;
  std::optional<std::chrono::system_clock::time_point> expiration;
};

// Parses a plugin's stdout. The apiVersion must be the one the kubeconfig
// configured, and the status must hold a token or a certificate/key pair.
Result<ExecCredential> parseExecCredential(std::string_view json,
                                           const std::string& expectedApiVersion);

// An RFC 3339 timestamp ("2024-05-01T10:00:00Z", fractions and offsets allowed).
std::optional<std::chrono::system_clock::time_point> parseRfc3339(std::string_view text);

// The JSON put in KUBERNETES_EXEC_INFO: an ExecCredential with spec.interactive
// false and, with provideClusterInfo, spec.cluster describing the server.
std::string execInfo(const ExecConfig& exec, const ClientConfig& cluster);

struct ExecResult {
  int exitCode = 0;
  std::string stdoutText;
  std::string stderrText;
};

// Runs a command; the test double returns canned output.
class ExecRunner {
 public:
  virtual ~ExecRunner() = default;
  // `env` is added to (and overrides) the current process environment.
  // Fails with kConfig when the command cannot be started at all.
  virtual Result<ExecResult> run(const std::string& command, const std::vector<std::string>& args,
                                 const std::vector<std::pair<std::string, std::string>>& env,
                                 std::chrono::nanoseconds timeout) = 0;
};

// posix_spawnp with stdin from /dev/null (relops never runs plugins
// interactively), stdout and stderr captured, killed after the timeout.
class ProcessExecRunner final : public ExecRunner {
 public:
  Result<ExecResult> run(const std::string& command, const std::vector<std::string>& args,
                         const std::vector<std::pair<std::string, std::string>>& env,
                         std::chrono::nanoseconds timeout) override;
};

// Caches the plugin's credential until status.expirationTimestamp (or, with
// none, until a 401), as client-go does; concurrent callers share one run.
class ExecCredentialSource final : public CredentialSource {
 public:
  ExecCredentialSource(ExecConfig exec, ClientConfig cluster,
                       std::shared_ptr<const base::Clock> clock, std::shared_ptr<ExecRunner> runner,
                       std::chrono::nanoseconds timeout = std::chrono::seconds(60));

  Result<Credentials> current() override;
  void invalidate(const Credentials& rejected) override;

  // How many times the plugin ran; for tests and debugging.
  int runs() const;

 private:
  Result<Credentials> runPlugin();

  const ExecConfig exec_;
  const ClientConfig cluster_;
  const std::shared_ptr<const base::Clock> clock_;
  const std::shared_ptr<ExecRunner> runner_;
  const std::chrono::nanoseconds timeout_;
  mutable std::mutex mutex_;
  std::optional<Credentials> cached_;
  std::optional<std::chrono::system_clock::time_point> expiration_;
  int runs_ = 0;
};

}  // namespace relops::kube
