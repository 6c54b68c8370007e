#include "operator/kube/credentials.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "operator/kube/exec_credential.h"
#include "tests/support/fake_clock.h"
#include "tests/support/temp_dir.h"

namespace relops::kube {
namespace {

using base::ErrorKind;
using testing::FakeClock;
using testing::TempDir;
using namespace std::chrono_literals;

TEST(TokenFileSourceTest, RereadsAfterThePeriod) {
  TempDir dir;
  const std::string path = dir.write("token", "one\n");
  auto clock = std::make_shared<FakeClock>();
  TokenFileSource source(path, clock, 60s);
  EXPECT_EQ(source.current()->token, "one");  // trimmed
  dir.write("token", "two");
  clock->advance(59s);
  EXPECT_EQ(source.current()->token, "one");
  clock->advance(1s);
  EXPECT_EQ(source.current()->token, "two");
}

TEST(TokenFileSourceTest, RereadsAtOnceAfterA401) {
  TempDir dir;
  const std::string path = dir.write("token", "one");
  auto clock = std::make_shared<FakeClock>();
  TokenFileSource source(path, clock, 60s);
  const Credentials rejected = *source.current();
  dir.write("token", "two");
  source.invalidate(rejected);
  EXPECT_EQ(source.current()->token, "two");
}

TEST(TokenFileSourceTest, KeepsTheLastGoodTokenWhenTheFileGoesAway) {
  TempDir dir;
  const std::string path = dir.write("token", "one");
  auto clock = std::make_shared<FakeClock>();
  TokenFileSource source(path, clock, 1s);
  EXPECT_EQ(source.current()->token, "one");
  std::filesystem::remove(path);
  clock->advance(2s);
  EXPECT_EQ(source.current()->token, "one");
  dir.write("token", "");  // half-written rotation
  clock->advance(2s);
  EXPECT_EQ(source.current()->token, "one");
  dir.write("token", "three");
  clock->advance(2s);
  EXPECT_EQ(source.current()->token, "three");
}

TEST(TokenFileSourceTest, NoTokenYetIsUnauthorizedAndNamesTheFile) {
  TempDir dir;
  TokenFileSource source(dir.file("missing"), std::make_shared<FakeClock>());
  const Result<Credentials> credentials = source.current();
  ASSERT_FALSE(credentials.ok());
  EXPECT_EQ(credentials.error().kind(), ErrorKind::kUnauthorized);
  EXPECT_THAT(credentials.error().message(), ::testing::HasSubstr(dir.file("missing")));
  // A static token from the kubeconfig is the fallback.
  TokenFileSource withFallback(dir.file("missing"), std::make_shared<FakeClock>(), 60s, "static");
  EXPECT_EQ(withFallback.current()->token, "static");
}

TEST(CredentialsTest, AuthorizationHeader) {
  EXPECT_EQ(Credentials{.token = "t"}.authorization(), "Bearer t");
  EXPECT_EQ((Credentials{.username = "Aladdin", .password = "open sesame"}.authorization()),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
  EXPECT_EQ(Credentials{}.authorization(), "");
}

TEST(MakeCredentialSourceTest, PicksTheSourceTheConfigAsksFor) {
  TempDir dir;
  const std::string tokenFile = dir.write("token", "from-file");
  EXPECT_EQ(makeCredentialSource(ClientConfig{}), nullptr);
  EXPECT_EQ(makeCredentialSource(ClientConfig{.token = "t"})->current()->token, "t");
  // client-go: the file wins over a static token when both are set.
  EXPECT_EQ(
      makeCredentialSource(ClientConfig{.token = "t", .tokenFile = tokenFile})->current()->token,
      "from-file");
  EXPECT_EQ(makeCredentialSource(ClientConfig{.username = "u", .password = "p"})
                ->current()
                ->authorization()
                .rfind("Basic ", 0),
            0u);
  auto exec = makeCredentialSource(ClientConfig{
      .exec = ExecConfig{.command = "x", .apiVersion = "client.authentication.k8s.io/v1"}});
  EXPECT_NE(dynamic_cast<ExecCredentialSource*>(exec.get()), nullptr);
}

}  // namespace
}  // namespace relops::kube
