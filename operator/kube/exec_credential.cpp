#include "operator/kube/exec_credential.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>

#include "operator/kube/base64.h"

extern char** environ;

namespace relops::kube {
namespace {

using base::Error;
using base::ErrorKind;
using Json = nlohmann::json;

// Enough of a plugin's stderr to explain a failure, not a flood.
constexpr size_t kMaxStderrInError = 1024;
// A credential is a few KiB; anything far larger is a broken plugin.
constexpr size_t kMaxOutput = 16 * 1024 * 1024;

bool parseDigits(std::string_view text, size_t pos, size_t count, int& out) {
  if (pos + count > text.size()) return false;
  const char* begin = text.data() + pos;
  const auto [end, ec] = std::from_chars(begin, begin + count, out);
  return ec == std::errc() && end == begin + count;
}

std::string tail(const std::string& text, size_t max) {
  std::string result = text.size() > max ? "..." + text.substr(text.size() - max) : text;
  while (!result.empty() && (result.back() == '\n' || result.back() == ' ')) result.pop_back();
  return result;
}

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  int get() const { return fd_; }
  int* out() { return &fd_; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

}  // namespace

std::optional<std::chrono::system_clock::time_point> parseRfc3339(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (text.size() < 20 || !parseDigits(text, 0, 4, year) || text[4] != '-' ||
      !parseDigits(text, 5, 2, month) || text[7] != '-' || !parseDigits(text, 8, 2, day) ||
      (text[10] != 'T' && text[10] != 't') || !parseDigits(text, 11, 2, hour) || text[13] != ':' ||
      !parseDigits(text, 14, 2, minute) || text[16] != ':' || !parseDigits(text, 17, 2, second)) {
    return std::nullopt;
  }
  size_t pos = 19;
  std::chrono::nanoseconds fraction{0};
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int64_t scale = 100'000'000;
    const size_t start = pos;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
      fraction += std::chrono::nanoseconds((text[pos] - '0') * scale);
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
  }
  std::chrono::minutes offset{0};
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int offsetHours = 0, offsetMinutes = 0;
    if (!parseDigits(text, pos + 1, 2, offsetHours) || pos + 3 >= text.size() ||
        text[pos + 3] != ':' || !parseDigits(text, pos + 4, 2, offsetMinutes)) {
      return std::nullopt;
    }
    offset = std::chrono::hours(offsetHours) + std::chrono::minutes(offsetMinutes);
    if (text[pos] == '-') offset = -offset;
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;
  const std::chrono::year_month_day date{std::chrono::year(year), std::chrono::month(month),
                                         std::chrono::day(day)};
  if (!date.ok() || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  const std::chrono::sys_seconds time = std::chrono::sys_days(date) + std::chrono::hours(hour) +
                                        std::chrono::minutes(minute) +
                                        std::chrono::seconds(second) - offset;
  // system_clock counts nanoseconds in 64 bits and ends in 2262; plugins
  // that mean "never" write dates such as 2999-01-01.
  constexpr auto kLast = std::chrono::time_point_cast<std::chrono::seconds>(
      std::chrono::system_clock::time_point::max());
  if (time >= kLast) return std::chrono::system_clock::time_point::max();
  return std::chrono::time_point_cast<std::chrono::system_clock::duration>(time) + fraction;
}

Result<ExecCredential> parseExecCredential(std::string_view json,
                                           const std::string& expectedApiVersion) {
  const auto fail = [](const std::string& problem) {
    return Error(ErrorKind::kConfig, "exec plugin output: " + problem);
  };
  const Json document = Json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded() || !document.is_object()) {
    return fail("not a JSON object (a plugin must print one ExecCredential on stdout)");
  }
  if (document.value("kind", "") != "ExecCredential") {
    return fail("kind is \"" + document.value("kind", "") + "\", want ExecCredential");
  }
  const std::string apiVersion = document.value("apiVersion", "");
  if (apiVersion != expectedApiVersion) {
    return fail("apiVersion is \"" + apiVersion + "\", but the kubeconfig configures " +
                expectedApiVersion);
  }
  const auto status = document.find("status");
  if (status == document.end() || !status->is_object()) return fail("status is missing");
  ExecCredential credential;
  const auto text = [&](const char* key) -> std::optional<std::string> {
    const auto it = status->find(key);
    if (it == status->end() || it->is_null()) return std::string();
    if (!it->is_string()) return std::nullopt;
    return it->get<std::string>();
  };
  const std::optional<std::string> token = text("token");
  const std::optional<std::string> cert = text("clientCertificateData");
  const std::optional<std::string> key = text("clientKeyData");
  const std::optional<std::string> expiration = text("expirationTimestamp");
  if (!token || !cert || !key || !expiration) {
    return fail(
        "status fields token, clientCertificateData, clientKeyData and "
        "expirationTimestamp must be strings");
  }
  if (cert->empty() != key->empty()) {
    return fail("status has only one of clientCertificateData and clientKeyData");
  }
  if (token->empty() && cert->empty()) {
    return fail("status has neither a token nor clientCertificateData and clientKeyData");
  }
  credential.token = *token;
  credential.clientCertificatePem = *cert;
  credential.clientKeyPem = *key;
  if (!expiration->empty()) {
    credential.expiration = parseRfc3339(*expiration);
    if (!credential.expiration) {
      return fail("status.expirationTimestamp \"" + *expiration + "\" is not RFC 3339");
    }
  }
  return credential;
}

std::string execInfo(const ExecConfig& exec, const ClientConfig& cluster) {
  Json spec{{"interactive", false}};
  if (exec.provideClusterInfo) {
    Json info{{"server", cluster.server}};
    if (!cluster.tlsServerName.empty()) info["tls-server-name"] = cluster.tlsServerName;
    if (cluster.insecureSkipTlsVerify) info["insecure-skip-tls-verify"] = true;
    // Go marshals []byte as base64, so the plugin sees what kubectl would send.
    if (!cluster.caPem.empty()) info["certificate-authority-data"] = base64Encode(cluster.caPem);
    spec["cluster"] = std::move(info);
  }
  const Json document{
      {"apiVersion", exec.apiVersion}, {"kind", "ExecCredential"}, {"spec", std::move(spec)}};
  return document.dump();
}

Result<ExecResult> ProcessExecRunner::run(
    const std::string& command, const std::vector<std::string>& args,
    const std::vector<std::pair<std::string, std::string>>& env, std::chrono::nanoseconds timeout) {
  // Environment: ours, with the plugin's variables replacing same-named ones.
  std::map<std::string, std::string> variables;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view item(*entry);
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos) continue;
    variables[std::string(item.substr(0, eq))] = std::string(item.substr(eq + 1));
  }
  for (const auto& [name, value] : env) variables[name] = value;
  std::vector<std::string> envStrings;
  envStrings.reserve(variables.size());
  for (const auto& [name, value] : variables) envStrings.push_back(name + "=" + value);
  std::vector<char*> envp;
  for (std::string& item : envStrings) envp.push_back(item.data());
  envp.push_back(nullptr);
  std::vector<std::string> argStrings{command};
  argStrings.insert(argStrings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& item : argStrings) argv.push_back(item.data());
  argv.push_back(nullptr);

  // O_CLOEXEC: another thread spawning at the same time must not inherit our pipes.
  int outPipe[2], errPipe[2];
  if (::pipe2(outPipe, O_CLOEXEC) != 0) {
    return Error(ErrorKind::kInternal, std::string("exec plugin: pipe: ") + std::strerror(errno));
  }
  Fd outRead(outPipe[0]), outWrite(outPipe[1]);
  if (::pipe2(errPipe, O_CLOEXEC) != 0) {
    return Error(ErrorKind::kInternal, std::string("exec plugin: pipe: ") + std::strerror(errno));
  }
  Fd errRead(errPipe[0]), errWrite(errPipe[1]);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, outWrite.get(), 1);
  posix_spawn_file_actions_adddup2(&actions, errWrite.get(), 2);
  pid_t pid = 0;
  const int spawnError =
      ::posix_spawnp(&pid, command.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  outWrite.reset();
  errWrite.reset();
  if (spawnError != 0) {
    return Error(ErrorKind::kConfig, "cannot run " + command + ": " + std::strerror(spawnError));
  }

  ExecResult result;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool timedOut = false;
  pollfd fds[2] = {{outRead.get(), POLLIN, 0}, {errRead.get(), POLLIN, 0}};
  std::string* sinks[2] = {&result.stdoutText, &result.stderrText};
  int open = 2;
  char buffer[16384];
  while (open > 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timedOut = true;
      break;
    }
    const int ready = ::poll(fds, 2, static_cast<int>(std::min<int64_t>(left.count(), 1000)));
    if (ready < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      const ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
      if (n > 0) {
        if (sinks[i]->size() < kMaxOutput) sinks[i]->append(buffer, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        fds[i].fd = -1;  // EOF: poll ignores negative descriptors
        --open;
      }
    }
  }
  if (timedOut) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timedOut) {
    return Error(
        ErrorKind::kTransient,
        "exec plugin " + command + " did not finish within " +
            std::to_string(std::chrono::duration_cast<std::chrono::seconds>(timeout).count()) +
            " s and was killed");
  }
  result.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

ExecCredentialSource::ExecCredentialSource(ExecConfig exec, ClientConfig cluster,
                                           std::shared_ptr<const base::Clock> clock,
                                           std::shared_ptr<ExecRunner> runner,
                                           std::chrono::nanoseconds timeout)
    : exec_(std::move(exec)),
      cluster_(std::move(cluster)),
      clock_(clock ? std::move(clock) : std::make_shared<base::SystemClock>()),
      runner_(runner ? std::move(runner) : std::make_shared<ProcessExecRunner>()),
      timeout_(timeout) {}

Result<Credentials> ExecCredentialSource::current() {
  // One lock across the run: concurrent requests wait for one plugin run
  // instead of starting one each.
  std::lock_guard lock(mutex_);
  // client-go treats a credential as good until now is after its expiry.
  if (cached_ && (!expiration_ || clock_->now() <= *expiration_)) return *cached_;
  cached_.reset();
  return runPlugin();
}

void ExecCredentialSource::invalidate(const Credentials& rejected) {
  std::lock_guard lock(mutex_);
  if (cached_ && *cached_ == rejected) cached_.reset();
}

int ExecCredentialSource::runs() const {
  std::lock_guard lock(mutex_);
  return runs_;
}

Result<Credentials> ExecCredentialSource::runPlugin() {
  ++runs_;
  std::vector<std::pair<std::string, std::string>> env = exec_.env;
  env.emplace_back("KUBERNETES_EXEC_INFO", execInfo(exec_, cluster_));
  Result<ExecResult> ran = runner_->run(exec_.command, exec_.args, env, timeout_);
  if (!ran.ok()) {
    Error error = std::move(ran).error();
    if (error.kind() == ErrorKind::kConfig && !exec_.installHint.empty()) {
      return Error(ErrorKind::kConfig, error.message() + "\n" + exec_.installHint);
    }
    return error;
  }
  if (ran->exitCode != 0) {
    std::string message =
        "exec plugin " + exec_.command + " exited with code " + std::to_string(ran->exitCode);
    if (!ran->stderrText.empty()) message += ": " + tail(ran->stderrText, kMaxStderrInError);
    // Most often the plugin's own login expired or its backend is down: back off.
    return Error(ErrorKind::kUnauthorized, std::move(message));
  }
  Result<ExecCredential> credential = parseExecCredential(ran->stdoutText, exec_.apiVersion);
  if (!credential.ok()) return Error(credential.error()).context(exec_.command);
  Credentials fresh;
  fresh.token = credential->token;
  fresh.clientCertificatePem = credential->clientCertificatePem;
  fresh.clientKeyPem = credential->clientKeyPem;
  cached_ = std::move(fresh);
  expiration_ = credential->expiration;
  return *cached_;
}

}  // namespace relops::kube
