#include "operator/kube/exec_credential.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "operator/kube/base64.h"
#include "tests/support/fake_clock.h"
#include "tests/support/temp_dir.h"

namespace relops::kube {
namespace {

using base::ErrorKind;
using testing::FakeClock;
using ::testing::HasSubstr;
using testing::TempDir;
using namespace std::chrono_literals;

constexpr char kV1[] = "client.authentication.k8s.io/v1";
constexpr char kV1beta1[] = "client.authentication.k8s.io/v1beta1";

std::string credential(const std::string& status, const std::string& apiVersion = kV1) {
  return R"({"apiVersion":")" + apiVersion + R"(","kind":"ExecCredential","status":)" + status +
         "}";
}

std::chrono::system_clock::time_point at(int64_t secondsSinceEpoch) {
  return std::chrono::system_clock::time_point(std::chrono::seconds(secondsSinceEpoch));
}

TEST(ParseExecCredentialTest, Token) {
  const Result<ExecCredential> parsed = parseExecCredential(
      credential(R"({"token":"abc","expirationTimestamp":"2024-05-01T10:00:00Z"})"), kV1);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message();
  EXPECT_EQ(parsed->token, "abc");
  EXPECT_EQ(parsed->expiration, at(1714557600));
}

TEST(ParseExecCredentialTest, ClientCertificateWithoutExpiry) {
  const Result<ExecCredential> parsed = parseExecCredential(
      credential(R"({"clientCertificateData":"CERT","clientKeyData":"KEY"})", kV1beta1), kV1beta1);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message();
  EXPECT_EQ(parsed->clientCertificatePem, "CERT");
  EXPECT_EQ(parsed->clientKeyPem, "KEY");
  EXPECT_TRUE(parsed->token.empty());
  EXPECT_FALSE(parsed->expiration.has_value());
}

TEST(ParseExecCredentialTest, Rejects) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"not json", "not a JSON object"},
      {R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"Other","status":{"token":"a"}})",
       "want ExecCredential"},
      {credential(R"({"token":"a"})", kV1beta1), "but the kubeconfig configures"},
      {R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential"})",
       "status is missing"},
      {credential(R"({})"), "neither a token nor"},
      {credential(R"({"clientCertificateData":"C"})"), "only one of"},
      {credential(R"({"token":5})"), "must be strings"},
      {credential(R"({"token":"a","expirationTimestamp":"tomorrow"})"), "not RFC 3339"},
  };
  for (const auto& [output, mention] : cases) {
    const Result<ExecCredential> parsed = parseExecCredential(output, kV1);
    ASSERT_FALSE(parsed.ok()) << output;
    EXPECT_EQ(parsed.error().kind(), ErrorKind::kConfig);
    EXPECT_THAT(parsed.error().message(), HasSubstr(mention)) << output;
  }
}

TEST(Rfc3339Test, Forms) {
  EXPECT_EQ(parseRfc3339("1970-01-01T00:00:00Z"), at(0));
  EXPECT_EQ(parseRfc3339("2024-02-29T23:59:59Z"), at(1709251199));
  EXPECT_EQ(parseRfc3339("2024-05-01T12:00:00+02:00"), at(1714557600));
  EXPECT_EQ(parseRfc3339("2024-05-01T05:30:00-04:30"), at(1714557600));
  EXPECT_EQ(parseRfc3339("2024-05-01T10:00:00.25Z"), at(1714557600) + 250ms);
  // Beyond what system_clock holds (2262): the end of time, not an overflow.
  EXPECT_EQ(parseRfc3339("2999-01-01T00:00:00Z"), std::chrono::system_clock::time_point::max());
  for (const char* bad :
       {"", "2024-05-01", "2024-05-01 10:00:00Z", "2024-13-01T00:00:00Z", "2023-02-29T00:00:00Z",
        "2024-05-01T10:00:00", "2024-05-01T10:00:00Zx", "2024-05-01T25:00:00Z"}) {
    EXPECT_FALSE(parseRfc3339(bad).has_value()) << bad;
  }
}

TEST(ExecInfoTest, NonInteractiveWithOptionalClusterInfo) {
  ExecConfig exec{.command = "x", .apiVersion = kV1, .interactiveMode = "Never"};
  ClientConfig cluster{.server = "https://h:6443", .caPem = "PEM", .tlsServerName = "kubernetes"};
  nlohmann::json info = nlohmann::json::parse(execInfo(exec, cluster));
  EXPECT_EQ(info["apiVersion"], kV1);
  EXPECT_EQ(info["kind"], "ExecCredential");
  EXPECT_EQ(info["spec"]["interactive"], false);
  EXPECT_FALSE(info["spec"].contains("cluster"));

  exec.provideClusterInfo = true;
  info = nlohmann::json::parse(execInfo(exec, cluster));
  EXPECT_EQ(info["spec"]["cluster"]["server"], "https://h:6443");
  EXPECT_EQ(info["spec"]["cluster"]["tls-server-name"], "kubernetes");
  EXPECT_EQ(info["spec"]["cluster"]["certificate-authority-data"], base64Encode("PEM"));
}

// Returns canned outputs in turn and records what it was asked to run.
class ScriptedRunner final : public ExecRunner {
 public:
  std::vector<Result<ExecResult>> outputs;
  std::vector<std::vector<std::pair<std::string, std::string>>> envs;
  size_t calls = 0;

  Result<ExecResult> run(const std::string&, const std::vector<std::string>&,
                         const std::vector<std::pair<std::string, std::string>>& env,
                         std::chrono::nanoseconds) override {
    envs.push_back(env);
    const size_t index = std::min(calls++, outputs.size() - 1);
    return outputs[index];
  }
};

ExecResult ok(const std::string& stdoutText) { return ExecResult{0, stdoutText, ""}; }

class ExecCredentialSourceTest : public ::testing::Test {
 protected:
  std::shared_ptr<FakeClock> clock_ = std::make_shared<FakeClock>(at(1714557600));
  std::shared_ptr<ScriptedRunner> runner_ = std::make_shared<ScriptedRunner>();
  ExecConfig exec_{.command = "get-token",
                   .env = {{"REGION", "eu"}},
                   .apiVersion = kV1,
                   .installHint = "Install get-token from https://example.com",
                   .interactiveMode = "Never"};
  ExecCredentialSource source() {
    return ExecCredentialSource(exec_, ClientConfig{.server = "https://h"}, clock_, runner_);
  }
};

TEST_F(ExecCredentialSourceTest, CachesUntilExpirationTimestamp) {
  runner_->outputs = {
      ok(credential(R"({"token":"first","expirationTimestamp":"2024-05-01T10:05:00Z"})")),
      ok(credential(R"({"token":"second","expirationTimestamp":"2024-05-01T11:00:00Z"})"))};
  ExecCredentialSource exec = source();
  EXPECT_EQ(exec.current()->token, "first");
  clock_->advance(4min);
  EXPECT_EQ(exec.current()->token, "first");
  clock_->advance(1min);  // exactly at expiry: still good, as in client-go
  EXPECT_EQ(exec.current()->token, "first");
  EXPECT_EQ(exec.runs(), 1);
  clock_->advance(1s);
  EXPECT_EQ(exec.current()->token, "second");
  EXPECT_EQ(exec.runs(), 2);
  // The plugin got our variables and KUBERNETES_EXEC_INFO.
  ASSERT_EQ(runner_->envs[0].size(), 2u);
  EXPECT_EQ(runner_->envs[0][0], (std::pair<std::string, std::string>{"REGION", "eu"}));
  EXPECT_EQ(runner_->envs[0][1].first, "KUBERNETES_EXEC_INFO");
  EXPECT_THAT(runner_->envs[0][1].second, HasSubstr(R"("interactive":false)"));
}

TEST_F(ExecCredentialSourceTest, WithoutExpiryCachedUntilA401) {
  runner_->outputs = {ok(credential(R"({"token":"first"})")),
                      ok(credential(R"({"token":"second"})"))};
  ExecCredentialSource exec = source();
  const Credentials first = *exec.current();
  clock_->advance(24h);
  EXPECT_EQ(exec.current()->token, "first");
  exec.invalidate(Credentials{.token = "something else"});  // an old rejection: ignored
  EXPECT_EQ(exec.current()->token, "first");
  exec.invalidate(first);
  EXPECT_EQ(exec.current()->token, "second");
  EXPECT_EQ(exec.runs(), 2);
}

TEST_F(ExecCredentialSourceTest, ClientCertificateCredential) {
  runner_->outputs = {ok(credential(R"({"clientCertificateData":"C","clientKeyData":"K"})"))};
  const Result<Credentials> credentials = source().current();
  ASSERT_TRUE(credentials.ok());
  EXPECT_EQ(credentials->clientCertificatePem, "C");
  EXPECT_EQ(credentials->clientKeyPem, "K");
  EXPECT_EQ(credentials->authorization(), "");
}

TEST_F(ExecCredentialSourceTest, FailuresAreNotCached) {
  runner_->outputs = {ExecResult{1, "", "error: login expired\n"},
                      ok(credential(R"({"token":"ok"})"))};
  ExecCredentialSource exec = source();
  const Result<Credentials> failed = exec.current();
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().kind(), ErrorKind::kUnauthorized);
  EXPECT_THAT(failed.error().message(), HasSubstr("exited with code 1: error: login expired"));
  EXPECT_EQ(exec.current()->token, "ok");
}

TEST_F(ExecCredentialSourceTest, CommandMissingShowsInstallHint) {
  runner_->outputs = {base::Error(ErrorKind::kConfig, "cannot run get-token: No such file")};
  const Result<Credentials> failed = source().current();
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().kind(), ErrorKind::kConfig);
  EXPECT_THAT(failed.error().message(), HasSubstr("Install get-token from https://example.com"));
}

TEST(ProcessExecRunnerTest, RunsAScriptWithArgsEnvAndCapturesOutput) {
  TempDir dir;
  const std::string script = dir.write("plugin.sh",
                                       "#!/bin/sh\n"
                                       "echo \"args=$1,$2 region=$REGION\"\n"
                                       "echo \"$KUBERNETES_EXEC_INFO\"\n"
                                       "echo complaint >&2\n"
                                       "exit 3\n",
                                       true);
  ProcessExecRunner runner;
  const Result<ExecResult> result =
      runner.run(script, {"a", "b c"}, {{"REGION", "eu"}, {"KUBERNETES_EXEC_INFO", "{}"}}, 10s);
  ASSERT_TRUE(result.ok()) << result.error().message();
  EXPECT_EQ(result->exitCode, 3);
  EXPECT_EQ(result->stdoutText, "args=a,b c region=eu\n{}\n");
  EXPECT_EQ(result->stderrText, "complaint\n");
}

TEST(ProcessExecRunnerTest, MissingCommand) {
  ProcessExecRunner runner;
  const Result<ExecResult> result = runner.run("/nonexistent/plugin", {}, {}, 10s);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().kind(), ErrorKind::kConfig);
  EXPECT_THAT(result.error().message(), HasSubstr("/nonexistent/plugin"));
}

TEST(ProcessExecRunnerTest, KillsAPluginThatHangs) {
  TempDir dir;
  const std::string script = dir.write("hang.sh", "#!/bin/sh\nexec sleep 60\n", true);
  ProcessExecRunner runner;
  const auto start = std::chrono::steady_clock::now();
  const Result<ExecResult> result = runner.run(script, {}, {}, 300ms);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().kind(), ErrorKind::kTransient);
  EXPECT_THAT(result.error().message(), HasSubstr("killed"));
}

TEST(ProcessExecRunnerTest, EndToEndThroughTheSource) {
  TempDir dir;
  const std::string script = dir.write(
      "token.sh",
      "#!/bin/sh\n"
      "printf '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\","
      "\"status\":{\"token\":\"from-script\"}}'\n",
      true);
  ExecCredentialSource source(
      ExecConfig{.command = script, .apiVersion = kV1, .interactiveMode = "Never"},
      ClientConfig{.server = "https://h"}, nullptr, nullptr);
  const Result<Credentials> credentials = source.current();
  ASSERT_TRUE(credentials.ok()) << credentials.error().message();
  EXPECT_EQ(credentials->authorization(), "Bearer from-script");
}

}  // namespace
}  // namespace relops::kube
