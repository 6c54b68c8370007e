#include "operator/kube/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include "operator/kube/base64.h"
#include "tests/support/temp_dir.h"

namespace relops::kube {
namespace {

using base::ErrorKind;
using ::testing::HasSubstr;
using testing::TempDir;

constexpr char kCaPem[] = "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n";
constexpr char kCertPem[] = "-----BEGIN CERTIFICATE-----\nCERT\n-----END CERTIFICATE-----\n";
constexpr char kKeyPem[] = "-----BEGIN PRIVATE KEY-----\nKEY\n-----END PRIVATE KEY-----\n";

GetEnv env(std::map<std::string, std::string> values) {
  return [values = std::move(values)](const std::string& name) -> std::optional<std::string> {
    const auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

// A kubeconfig with one context "ctx" → cluster "c", user "u", and the given
// extra lines under the cluster and the user.
std::string kubeconfig(const std::string& clusterFields, const std::string& userFields,
                       const std::string& contextExtra = "") {
  return "apiVersion: v1\nkind: Config\ncurrent-context: ctx\n"
         "clusters:\n- name: c\n  cluster:\n" +
         clusterFields + "users:\n- name: u\n  user:\n" + userFields +
         "contexts:\n- name: ctx\n  context:\n    cluster: c\n    user: u\n" + contextExtra;
}

Result<ClientConfig> load(const TempDir& dir, const std::string& text) {
  const std::string path = dir.write("kube/config", text);
  return loadKubeconfig({.path = path, .getEnv = env({})});
}

TEST(KubeconfigTest, ReadsEveryClusterAndUserFieldFromData) {
  TempDir dir;
  const Result<ClientConfig> config =
      load(dir, kubeconfig("    server: https://api.example.com:6443\n"
                           "    certificate-authority-data: " +
                               base64Encode(kCaPem) +
                               "\n"
                               "    tls-server-name: kubernetes.internal\n",
                           "    client-certificate-data: " + base64Encode(kCertPem) +
                               "\n"
                               "    client-key-data: " +
                               base64Encode(kKeyPem) +
                               "\n"
                               "    token: abc.def\n",
                           "    namespace: team-a\n"));
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_EQ(config->server, "https://api.example.com:6443");
  EXPECT_EQ(config->caPem, kCaPem);
  EXPECT_EQ(config->tlsServerName, "kubernetes.internal");
  EXPECT_FALSE(config->insecureSkipTlsVerify);
  EXPECT_EQ(config->clientCertificatePem, kCertPem);
  EXPECT_EQ(config->clientKeyPem, kKeyPem);
  EXPECT_EQ(config->token, "abc.def");
  EXPECT_EQ(config->namespace_, "team-a");
  EXPECT_THAT(config->source, HasSubstr("context \"ctx\""));
}

TEST(KubeconfigTest, ResolvesRelativeFilePathsAgainstTheKubeconfigDirectory) {
  TempDir dir;
  dir.write("kube/pki/ca.crt", kCaPem);
  dir.write("kube/pki/admin.crt", kCertPem);
  dir.write("kube/pki/admin.key", kKeyPem);
  dir.write("kube/token", "file-token\n");
  const Result<ClientConfig> config =
      load(dir, kubeconfig("    server: https://127.0.0.1:6443\n"
                           "    certificate-authority: pki/ca.crt\n",
                           "    client-certificate: pki/admin.crt\n"
                           "    client-key: ./pki/admin.key\n"
                           "    tokenFile: token\n"));
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_EQ(config->caPem, kCaPem);
  EXPECT_EQ(config->clientCertificatePem, kCertPem);
  EXPECT_EQ(config->clientKeyPem, kKeyPem);
  EXPECT_EQ(config->tokenFile, dir.file("kube/token"));
}

TEST(KubeconfigTest, AbsolutePathsStayAsTheyAre) {
  TempDir dir;
  const std::string ca = dir.write("elsewhere/ca.crt", kCaPem);
  const Result<ClientConfig> config =
      load(dir, kubeconfig("    server: https://h\n    certificate-authority: " + ca + "\n", ""));
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_EQ(config->caPem, kCaPem);
}

TEST(KubeconfigTest, InsecureSkipTlsVerify) {
  TempDir dir;
  const Result<ClientConfig> config =
      load(dir, kubeconfig("    server: https://h\n    insecure-skip-tls-verify: true\n", ""));
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_TRUE(config->insecureSkipTlsVerify);
  EXPECT_TRUE(config->caPem.empty());
}

TEST(KubeconfigTest, ExecPluginV1WithEveryField) {
  TempDir dir;
  const Result<ClientConfig> config =
      load(dir, kubeconfig("    server: https://h\n",
                           "    exec:\n"
                           "      apiVersion: client.authentication.k8s.io/v1\n"
                           "      command: bin/get-token\n"
                           "      args: [--cluster, prod]\n"
                           "      env:\n"
                           "      - name: REGION\n"
                           "        value: eu-1\n"
                           "      installHint: install get-token from example.com\n"
                           "      provideClusterInfo: true\n"
                           "      interactiveMode: Never\n"));
  ASSERT_TRUE(config.ok()) << config.error().message();
  ASSERT_TRUE(config->exec.has_value());
  const ExecConfig& exec = *config->exec;
  EXPECT_EQ(exec.apiVersion, "client.authentication.k8s.io/v1");
  EXPECT_EQ(exec.command, dir.file("kube/bin/get-token"));  // has a '/': relative to the file
  EXPECT_THAT(exec.args, ::testing::ElementsAre("--cluster", "prod"));
  ASSERT_EQ(exec.env.size(), 1u);
  EXPECT_EQ(exec.env[0].first, "REGION");
  EXPECT_EQ(exec.env[0].second, "eu-1");
  EXPECT_EQ(exec.installHint, "install get-token from example.com");
  EXPECT_TRUE(exec.provideClusterInfo);
  EXPECT_EQ(exec.interactiveMode, "Never");
}

TEST(KubeconfigTest, ExecPluginV1beta1DefaultsInteractiveModeAndKeepsBareCommands) {
  TempDir dir;
  const Result<ClientConfig> config =
      load(dir, kubeconfig("    server: https://h\n",
                           "    exec:\n"
                           "      apiVersion: client.authentication.k8s.io/v1beta1\n"
                           "      command: aws\n"));
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_EQ(config->exec->command, "aws");  // looked up on PATH
  EXPECT_EQ(config->exec->interactiveMode, "IfAvailable");
  EXPECT_FALSE(config->exec->provideClusterInfo);
}

TEST(KubeconfigTest, ExplicitContextOverridesCurrentContext) {
  TempDir dir;
  const Result<ClientConfig> config = load(dir,
                                           "current-context: a\n"
                                           "clusters:\n"
                                           "- name: one\n  cluster: {server: https://one}\n"
                                           "- name: two\n  cluster: {server: https://two}\n"
                                           "contexts:\n"
                                           "- name: a\n  context: {cluster: one}\n"
                                           "- name: b\n  context: {cluster: two, namespace: x}\n");
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_EQ(config->server, "https://one");

  const Result<ClientConfig> explicitContext =
      loadKubeconfig({.path = dir.file("kube/config"), .context = "b", .getEnv = env({})});
  ASSERT_TRUE(explicitContext.ok()) << explicitContext.error().message();
  EXPECT_EQ(explicitContext->server, "https://two");
  EXPECT_EQ(explicitContext->namespace_, "x");
  EXPECT_TRUE(explicitContext->token.empty());  // no user: anonymous
}

TEST(KubeconfigTest, KubeconfigListMergesWithFirstFileWinning) {
  TempDir dir;
  // first: defines cluster c and user u, and current-context.
  const std::string first = dir.write("first/config",
                                      "current-context: mine\n"
                                      "clusters:\n- name: c\n  cluster:\n"
                                      "    server: https://first\n"
                                      "    certificate-authority: ca.crt\n"
                                      "users:\n- name: u\n  user: {token: first-token}\n");
  dir.write("first/ca.crt", "first CA");
  // second: redefines c and u (ignored), adds the context and its own cluster.
  const std::string second = dir.write("second/config",
                                       "current-context: theirs\n"
                                       "clusters:\n- name: c\n  cluster: {server: https://second}\n"
                                       "users:\n- name: u\n  user: {token: second-token}\n"
                                       "contexts:\n"
                                       "- name: mine\n  context: {cluster: c, user: u}\n"
                                       "- name: theirs\n  context: {cluster: c}\n");
  const std::string missing = dir.file("missing/config");
  const Result<ClientConfig> config =
      loadKubeconfig({.getEnv = env({{"KUBECONFIG", first + ":" + missing + "::" + second}})});
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_EQ(config->server, "https://first");
  EXPECT_EQ(config->caPem, "first CA");  // relative to the file that defined the cluster
  EXPECT_EQ(config->token, "first-token");
  EXPECT_THAT(config->source, HasSubstr("context \"mine\""));
}

TEST(KubeconfigTest, KubeconfigListWithNoExistingFileFails) {
  TempDir dir;
  const Result<ClientConfig> config =
      loadKubeconfig({.getEnv = env({{"KUBECONFIG", dir.file("a") + ":" + dir.file("b")}})});
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().kind(), ErrorKind::kConfig);
  EXPECT_THAT(config.error().message(), HasSubstr("none of these files exist"));
}

TEST(KubeconfigTest, FallsBackToHomeKubeConfig) {
  TempDir dir;
  dir.write(".kube/config", kubeconfig("    server: https://home\n", "    token: t\n"));
  const Result<ClientConfig> config =
      loadKubeconfig({.getEnv = env({{"HOME", dir.path().string()}})});
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_EQ(config->server, "https://home");
}

TEST(KubeconfigTest, ExplicitPathMustExist) {
  TempDir dir;
  const Result<ClientConfig> config = loadKubeconfig({.path = dir.file("nope"), .getEnv = env({})});
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().kind(), ErrorKind::kConfig);
  EXPECT_THAT(config.error().message(), HasSubstr(dir.file("nope")));
  EXPECT_THAT(config.error().message(), HasSubstr("No such file"));
}

// Each broken kubeconfig fails with kConfig and a message naming the file and
// what is wrong with which field.
struct BadCase {
  std::string name;
  std::string text;
  std::vector<std::string> mentions;
};

class BadKubeconfigTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadKubeconfigTest, FailsNamingFileAndField) {
  TempDir dir;
  const Result<ClientConfig> config = load(dir, GetParam().text);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().kind(), ErrorKind::kConfig);
  EXPECT_THAT(config.error().message(), HasSubstr(dir.file("kube/config")));
  for (const std::string& mention : GetParam().mentions) {
    EXPECT_THAT(config.error().message(), HasSubstr(mention));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BadKubeconfigTest,
    ::testing::Values(
        BadCase{"NotYaml", "clusters: [\n  - {name: a", {"not valid YAML", "line"}},
        BadCase{"TopLevelList", "- a\n- b\n", {"expected a map at the top level"}},
        BadCase{"ClustersNotAList", "clusters: {a: b}\n", {"clusters: expected a list"}},
        BadCase{"ClusterWithoutName",
                "clusters:\n- cluster: {server: https://x}\n",
                {"clusters[0]: name is missing"}},
        BadCase{"DuplicateName",
                "clusters:\n- name: a\n  cluster: {}\n- name: a\n  cluster: {}\n",
                {"clusters[1]", "duplicate name \"a\""}},
        BadCase{"NoCurrentContext", "clusters: []\n", {"current-context is not set"}},
        BadCase{"ContextNotFound",
                "current-context: gone\ncontexts: []\n",
                {"context \"gone\" not found"}},
        BadCase{"ContextWithoutCluster",
                "current-context: x\ncontexts:\n- name: x\n  context: {user: u}\n",
                {"context \"x\"", "cluster: missing"}},
        BadCase{"UndefinedCluster",
                "current-context: x\ncontexts:\n- name: x\n  context: {cluster: nope}\n",
                {"context \"x\"", "\"nope\" is not defined in clusters"}},
        BadCase{"UndefinedUser",
                "current-context: x\nclusters:\n- name: c\n  cluster: {server: https://h}\n"
                "contexts:\n- name: x\n  context: {cluster: c, user: ghost}\n",
                {"\"ghost\" is not defined in users"}},
        BadCase{"MissingServer",
                kubeconfig("    insecure-skip-tls-verify: true\n", ""),
                {"cluster \"c\"", "server: missing"}},
        BadCase{"ServerNotUrl",
                kubeconfig("    server: api.example.com\n", ""),
                {"server:", "not an http:// or https:// URL"}},
        BadCase{"BadBase64",
                kubeconfig("    server: https://h\n    certificate-authority-data: '%%%'\n", ""),
                {"cluster \"c\"", "certificate-authority-data: not valid base64"}},
        BadCase{"MissingCaFile",
                kubeconfig("    server: https://h\n    certificate-authority: nope.crt\n", ""),
                {"certificate-authority:", "nope.crt", "No such file"}},
        BadCase{"CaFileAndData",
                kubeconfig("    server: https://h\n    certificate-authority: a\n"
                           "    certificate-authority-data: YQ==\n",
                           ""),
                {"both certificate-authority and certificate-authority-data"}},
        BadCase{"InsecureWithCa",
                kubeconfig("    server: https://h\n    insecure-skip-tls-verify: true\n"
                           "    certificate-authority-data: YQ==\n",
                           ""),
                {"insecure-skip-tls-verify: cannot be combined"}},
        BadCase{"InsecureNotBool",
                kubeconfig("    server: https://h\n    insecure-skip-tls-verify: maybe\n", ""),
                {"insecure-skip-tls-verify: expected true or false"}},
        BadCase{"ProxyUrl",
                kubeconfig("    server: https://h\n    proxy-url: http://proxy:3128\n", ""),
                {"proxy-url: not supported"}},
        BadCase{"CertWithoutKey",
                kubeconfig("    server: https://h\n", "    client-certificate-data: YQ==\n"),
                {"user \"u\"", "client-key: missing"}},
        BadCase{"KeyWithoutCert",
                kubeconfig("    server: https://h\n", "    client-key-data: YQ==\n"),
                {"user \"u\"", "client-certificate: missing"}},
        BadCase{"MissingKeyFile",
                kubeconfig("    server: https://h\n",
                           "    client-certificate-data: YQ==\n    client-key: k.pem\n"),
                {"client-key:", "k.pem", "No such file"}},
        BadCase{"MissingTokenFile",
                kubeconfig("    server: https://h\n", "    tokenFile: /nonexistent/token\n"),
                {"user \"u\"", "tokenFile:", "/nonexistent/token"}},
        BadCase{"TokenNotString",
                kubeconfig("    server: https://h\n", "    token: [a]\n"),
                {"token: expected a string"}},
        BadCase{"TokenAndBasicAuth",
                kubeconfig("    server: https://h\n", "    token: t\n    username: a\n"),
                {"cannot be combined with username/password"}},
        BadCase{"AuthProvider",
                kubeconfig("    server: https://h\n", "    auth-provider: {name: gcp}\n"),
                {"auth-provider:", "use an exec plugin"}},
        BadCase{"Impersonation",
                kubeconfig("    server: https://h\n", "    as: admin\n"),
                {"as: impersonation is not supported"}},
        BadCase{"ExecWithoutCommand",
                kubeconfig("    server: https://h\n",
                           "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n"
                           "      interactiveMode: Never\n"),
                {"user \"u\": exec: command: missing"}},
        BadCase{"ExecWithoutApiVersion",
                kubeconfig("    server: https://h\n", "    exec:\n      command: x\n"),
                {"exec: apiVersion: missing"}},
        BadCase{"ExecOldApiVersion",
                kubeconfig("    server: https://h\n",
                           "    exec:\n      command: x\n"
                           "      apiVersion: client.authentication.k8s.io/v1alpha1\n"),
                {"exec: apiVersion:", "v1alpha1\" is not supported"}},
        BadCase{"ExecV1WithoutInteractiveMode",
                kubeconfig("    server: https://h\n",
                           "    exec:\n      command: x\n"
                           "      apiVersion: client.authentication.k8s.io/v1\n"),
                {"exec: interactiveMode: missing (required by v1)"}},
        BadCase{"ExecInteractiveAlways",
                kubeconfig("    server: https://h\n",
                           "    exec:\n      command: x\n      interactiveMode: Always\n"
                           "      apiVersion: client.authentication.k8s.io/v1\n"),
                {"interactiveMode: Always needs a terminal"}},
        BadCase{"ExecEnvWithoutName",
                kubeconfig("    server: https://h\n",
                           "    exec:\n      command: x\n      interactiveMode: Never\n"
                           "      apiVersion: client.authentication.k8s.io/v1\n"
                           "      env:\n      - value: v\n"),
                {"exec.env[0]: name: missing"}},
        BadCase{"ExecArgsNotList",
                kubeconfig("    server: https://h\n",
                           "    exec:\n      command: x\n      interactiveMode: Never\n"
                           "      apiVersion: client.authentication.k8s.io/v1\n"
                           "      args: --flag\n"),
                {"exec: args: expected a list of strings"}},
        BadCase{"ExecWithToken",
                kubeconfig("    server: https://h\n",
                           "    token: t\n    exec:\n      command: x\n"
                           "      apiVersion: client.authentication.k8s.io/v1beta1\n"),
                {"exec: cannot be combined with token"}}),
    [](const ::testing::TestParamInfo<BadCase>& testInfo) { return testInfo.param.name; });

TEST(KubeconfigTest, BadFileInKubeconfigListNamesThatFile) {
  TempDir dir;
  const std::string good = dir.write("good", kubeconfig("    server: https://h\n", ""));
  const std::string bad = dir.write("bad", "clusters: {}\n");
  const Result<ClientConfig> config =
      loadKubeconfig({.getEnv = env({{"KUBECONFIG", good + ":" + bad}})});
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.error().message(), HasSubstr("kubeconfig " + bad + ": clusters"));
}

TEST(KubeconfigTest, EmptyFileIsAnEmptyConfig) {
  TempDir dir;
  const Result<ClientConfig> config = load(dir, "");
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.error().message(), HasSubstr("current-context is not set"));
}

TEST(KubeconfigTest, ParseKubeconfigFromText) {
  const Result<ClientConfig> config =
      parseKubeconfig(kubeconfig("    server: https://h:1\n", "    username: a\n    password: b\n"),
                      "/etc/relops/kubeconfig");
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_EQ(config->username, "a");
  EXPECT_EQ(config->password, "b");
}

class InClusterConfigTest : public ::testing::Test {
 protected:
  TempDir dir_;
  InClusterOptions options(std::map<std::string, std::string> variables) {
    return {.tokenPath = dir_.file("sa/token"),
            .caPath = dir_.file("sa/ca.crt"),
            .namespacePath = dir_.file("sa/namespace"),
            .getEnv = env(std::move(variables))};
  }
};

TEST_F(InClusterConfigTest, ReadsServiceAccountMount) {
  dir_.write("sa/token", "sa-token");
  dir_.write("sa/ca.crt", kCaPem);
  dir_.write("sa/namespace", "relops-system\n");
  const Result<ClientConfig> config = loadInClusterConfig(
      options({{"KUBERNETES_SERVICE_HOST", "10.0.0.1"}, {"KUBERNETES_SERVICE_PORT", "443"}}));
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_EQ(config->server, "https://10.0.0.1:443");
  EXPECT_EQ(config->tokenFile, dir_.file("sa/token"));  // re-read as it rotates
  EXPECT_TRUE(config->token.empty());
  EXPECT_EQ(config->caPem, kCaPem);
  EXPECT_EQ(config->namespace_, "relops-system");
}

TEST_F(InClusterConfigTest, BracketsIpv6AndToleratesMissingNamespace) {
  dir_.write("sa/token", "sa-token");
  dir_.write("sa/ca.crt", kCaPem);
  const Result<ClientConfig> config = loadInClusterConfig(
      options({{"KUBERNETES_SERVICE_HOST", "fd00::1"}, {"KUBERNETES_SERVICE_PORT", "6443"}}));
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_EQ(config->server, "https://[fd00::1]:6443");
  EXPECT_EQ(config->namespaceOrDefault(), "default");
}

TEST_F(InClusterConfigTest, NotInACluster) {
  const Result<ClientConfig> config =
      loadInClusterConfig(options({{"KUBERNETES_SERVICE_HOST", "10.0.0.1"}}));
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().kind(), ErrorKind::kConfig);
  EXPECT_THAT(config.error().message(), HasSubstr("KUBERNETES_SERVICE_PORT"));
  EXPECT_FALSE(runningInCluster(options({})));
}

TEST_F(InClusterConfigTest, MissingTokenOrCaNamesThePath) {
  const auto variables = std::map<std::string, std::string>{{"KUBERNETES_SERVICE_HOST", "10.0.0.1"},
                                                            {"KUBERNETES_SERVICE_PORT", "443"}};
  Result<ClientConfig> config = loadInClusterConfig(options(variables));
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.error().message(), HasSubstr(dir_.file("sa/token")));

  dir_.write("sa/token", "t");
  config = loadInClusterConfig(options(variables));
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.error().message(), HasSubstr(dir_.file("sa/ca.crt")));

  dir_.write("sa/token", " \n");
  dir_.write("sa/ca.crt", kCaPem);
  config = loadInClusterConfig(options(variables));
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.error().message(), HasSubstr("is empty"));
}

TEST_F(InClusterConfigTest, LoadClientConfigOrder) {
  dir_.write("sa/token", "t");
  dir_.write("sa/ca.crt", kCaPem);
  const std::string kubeconfigPath =
      dir_.write("kubeconfig", kubeconfig("    server: https://from-kubeconfig\n", ""));
  const std::map<std::string, std::string> inPod{{"KUBERNETES_SERVICE_HOST", "10.0.0.1"},
                                                 {"KUBERNETES_SERVICE_PORT", "443"},
                                                 {"HOME", dir_.path().string()}};
  // In a pod without KUBECONFIG: in-cluster.
  Result<ClientConfig> config = loadClientConfig({.getEnv = env(inPod)}, options(inPod));
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_EQ(config->server, "https://10.0.0.1:443");
  // KUBECONFIG wins over in-cluster.
  auto withKubeconfig = inPod;
  withKubeconfig["KUBECONFIG"] = kubeconfigPath;
  config = loadClientConfig({.getEnv = env(withKubeconfig)}, options(withKubeconfig));
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_EQ(config->server, "https://from-kubeconfig");
  // --kubeconfig wins over everything.
  config = loadClientConfig({.path = kubeconfigPath, .getEnv = env(inPod)}, options(inPod));
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_EQ(config->server, "https://from-kubeconfig");
  // Nothing at all: a message that says what to do.
  config = loadClientConfig({.getEnv = env({{"HOME", dir_.file("empty")}})}, options({}));
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.error().message(), HasSubstr("--kubeconfig"));
}

}  // namespace
}  // namespace relops::kube
