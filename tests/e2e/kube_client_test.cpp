// relops's Kubernetes client against the REAL API server of the test cluster
// (tests/cluster). State is set up and checked with kubectl, an independent
// client, so a bug in relops's client cannot confirm itself.
//
// Needs KUBECONFIG (the cluster's admin kubeconfig, with a client
// certificate) and kubectl: from RELOPS_BINARIES_SCRIPT (tests/cluster/
// binaries.sh, which prints the directory) or on PATH.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "operator/base/clock.h"
#include "operator/kube/api_error.h"
#include "operator/kube/base64.h"
#include "operator/kube/client.h"
#include "operator/kube/config.h"
#include "operator/kube/http_client.h"
#include "tests/support/temp_dir.h"

namespace relops::kube {
namespace {

using base::ErrorKind;
using ::testing::HasSubstr;
using testing::TempDir;
using namespace std::chrono_literals;

const ResourceRef kWidgets{"e2e.kube.relops.test", "v1", "widgets", "Widget", true};
const ResourceRef kSelfSubjectReviews{"authentication.k8s.io", "v1", "selfsubjectreviews",
                                      "SelfSubjectReview", false};
const ResourceRef kServiceAccounts{"", "v1", "serviceaccounts", "ServiceAccount", true};

std::string shellQuote(const std::string& text) {
  std::string quoted = "'";
  for (const char c : text) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  return quoted + "'";
}

struct Shell {
  int code;
  std::string out;
};

// Runs a shell command, capturing stdout; stderr goes to the test log.
Shell shell(const std::string& command) {
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return {-1, ""};
  std::string out;
  char buffer[4096];
  while (const size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) out.append(buffer, n);
  const int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

std::string kubectlBinary() {
  static const std::string binary = [] {
    const char* script = std::getenv("RELOPS_BINARIES_SCRIPT");
    if (script == nullptr || *script == '\0') return std::string("kubectl");
    Shell dir = shell(shellQuote(script));
    while (!dir.out.empty() && dir.out.back() == '\n') dir.out.pop_back();
    return dir.code == 0 ? dir.out + "/kubectl" : std::string("kubectl");
  }();
  return binary;
}

// kubectl with the cluster's admin kubeconfig; fails the test on error
// unless `check` is false.
std::string kubectl(const std::vector<std::string>& args, const std::string& input = "",
                    bool check = true) {
  std::string command = shellQuote(kubectlBinary());
  for (const std::string& arg : args) command += " " + shellQuote(arg);
  std::unique_ptr<TempDir> dir;
  if (!input.empty()) {
    dir = std::make_unique<TempDir>();
    command += " < " + shellQuote(dir->write("stdin", input));
  }
  const Shell result = shell(command);
  if (check) {
    EXPECT_EQ(result.code, 0) << "kubectl failed: " << command << "\n" << result.out;
  }
  return result.out;
}

Json kubectlJson(const std::vector<std::string>& args) {
  std::vector<std::string> all = args;
  all.insert(all.end(), {"-o", "json"});
  return Json::parse(kubectl(all));
}

std::string randomSuffix() {
  std::random_device random;
  std::string suffix;
  for (int i = 0; i < 6; ++i) suffix += "0123456789abcdef"[random() % 16];
  return suffix;
}

// One namespace and the Widget CRD for the whole run.
class Cluster : public ::testing::Environment {
 public:
  static inline std::string ns;
  static inline ClientConfig admin;

  void SetUp() override {
    Result<ClientConfig> config = loadKubeconfig();
    ASSERT_TRUE(config.ok()) << config.error().message();
    admin = *config;
    ns = "kube-client-e2e-" + randomSuffix();
    kubectl({"create", "namespace", ns});
    kubectl({"apply", "-f", "-"}, R"(
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.e2e.kube.relops.test
spec:
  group: e2e.kube.relops.test
  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer}
          status:
            type: object
            properties:
              phase: {type: string}
              observedSize: {type: integer}
)");
    kubectl({"wait", "--for=condition=Established", "--timeout=60s",
             "crd/widgets.e2e.kube.relops.test"});
    // The namespace's default ServiceAccount is made by the controller manager.
    for (int i = 0; i < 100; ++i) {
      if (!kubectl(
               {"get", "serviceaccount", "default", "-n", ns, "--ignore-not-found", "-o", "name"})
               .empty()) {
        break;
      }
      std::this_thread::sleep_for(100ms);
    }
  }

  void TearDown() override { kubectl({"delete", "namespace", ns, "--wait=false"}, "", false); }
};

std::unique_ptr<HttpClient> makeClient(const ClientConfig& config, HttpClientOptions options = {}) {
  // The tests send bursts; client-side limiting has its own test.
  if (options.qps == 5) options.qps = -1;
  Result<std::unique_ptr<HttpClient>> client = HttpClient::create(config, std::move(options));
  EXPECT_TRUE(client.ok()) << client.error().message();
  return client.ok() ? std::move(client).value() : nullptr;
}

std::string whoAmI(HttpClient& client) {
  const Result<Json> review =
      client.create(kSelfSubjectReviews, Json{{"apiVersion", "authentication.k8s.io/v1"},
                                              {"kind", "SelfSubjectReview"},
                                              {"metadata", Json::object()}});
  if (!review.ok()) return "error: " + review.error().message();
  return (*review)["status"]["userInfo"]["username"].get<std::string>();
}

Json configMap(const std::string& name, Json data) {
  return Json{{"apiVersion", "v1"},
              {"kind", "ConfigMap"},
              {"metadata", {{"name", name}, {"namespace", Cluster::ns}}},
              {"data", std::move(data)}};
}

std::string serviceAccountToken(const std::string& name) {
  static std::mutex mutex;
  static std::set<std::string> created;
  {
    std::lock_guard lock(mutex);
    if (created.insert(name).second) kubectl({"create", "serviceaccount", name, "-n", Cluster::ns});
  }
  std::string token = kubectl({"create", "token", name, "-n", Cluster::ns, "--duration=1h"});
  while (!token.empty() && token.back() == '\n') token.pop_back();
  return token;
}

// The admin's server and CA, with no credentials.
ClientConfig anonymous() {
  ClientConfig config;
  config.server = Cluster::admin.server;
  config.caPem = Cluster::admin.caPem;
  config.source = "e2e test";
  return config;
}

TEST(KubeClientE2E, ConfigMapCrud) {
  auto client = makeClient(Cluster::admin);
  ASSERT_TRUE(client);
  const ObjectKey key{Cluster::ns, "crud"};

  Result<Json> created = client->create(resources::kConfigMaps, configMap("crud", {{"a", "1"}}));
  ASSERT_TRUE(created.ok()) << created.error().message();
  EXPECT_EQ((*created)["metadata"]["name"], "crud");
  EXPECT_EQ(kubectl({"get", "configmap", "crud", "-n", Cluster::ns, "-o", "jsonpath={.data.a}"}),
            "1");

  Result<Json> got = client->get(resources::kConfigMaps, key);
  ASSERT_TRUE(got.ok()) << got.error().message();
  EXPECT_EQ((*got)["data"]["a"], "1");

  Json changed = *got;
  changed["data"]["a"] = "2";
  Result<Json> updated = client->update(resources::kConfigMaps, changed);
  ASSERT_TRUE(updated.ok()) << updated.error().message();
  EXPECT_NE((*updated)["metadata"]["resourceVersion"], (*got)["metadata"]["resourceVersion"]);

  Result<Json> merged = client->patch(resources::kConfigMaps, key, PatchType::kMerge,
                                      R"({"data":{"b":"from merge patch"}})");
  ASSERT_TRUE(merged.ok()) << merged.error().message();
  Result<Json> jsonPatched = client->patch(resources::kConfigMaps, key, PatchType::kJson,
                                           R"([{"op":"test","path":"/data/a","value":"2"},)"
                                           R"({"op":"replace","path":"/data/a","value":"3"}])");
  ASSERT_TRUE(jsonPatched.ok()) << jsonPatched.error().message();
  const Json seen = kubectlJson({"get", "configmap", "crud", "-n", Cluster::ns});
  EXPECT_EQ(seen["data"]["a"], "3");
  EXPECT_EQ(seen["data"]["b"], "from merge patch");

  // A failed JSON patch test is Invalid (422), not a silent write.
  Result<Json> failedTest = client->patch(resources::kConfigMaps, key, PatchType::kJson,
                                          R"([{"op":"test","path":"/data/a","value":"9"}])");
  ASSERT_FALSE(failedTest.ok());
  EXPECT_EQ(failedTest.error().kind(), ErrorKind::kInvalid);

  ASSERT_TRUE(client->remove(resources::kConfigMaps, key).ok());
  EXPECT_EQ(kubectl({"get", "configmap", "crud", "-n", Cluster::ns, "--ignore-not-found"}), "");
  const Result<Json> gone = client->get(resources::kConfigMaps, key);
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().kind(), ErrorKind::kNotFound);
}

TEST(KubeClientE2E, DeleteWithPreconditions) {
  auto client = makeClient(Cluster::admin);
  ASSERT_TRUE(client);
  kubectl({"create", "configmap", "precondition", "-n", Cluster::ns, "--from-literal=a=1"});
  DeleteOptions stale;
  stale.preconditionResourceVersion = "1";
  const Result<void> refused =
      client->remove(resources::kConfigMaps, {Cluster::ns, "precondition"}, stale);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind(), ErrorKind::kConflict);
  DeleteOptions foreground;
  foreground.propagationPolicy = "Foreground";
  ASSERT_TRUE(
      client->remove(resources::kConfigMaps, {Cluster::ns, "precondition"}, foreground).ok());
}

TEST(KubeClientE2E, PaginationWithLimitTwoAcrossFiveObjects) {
  auto client = makeClient(Cluster::admin);
  ASSERT_TRUE(client);
  for (int i = 0; i < 5; ++i) {
    kubectl({"create", "configmap", "page-" + std::to_string(i), "-n", Cluster::ns});
    kubectl({"label", "configmap", "page-" + std::to_string(i), "-n", Cluster::ns,
             "relops.dev/e2e=pagination"});
  }
  ListOptions options;
  options.limit = 2;
  options.labelSelector = "relops.dev/e2e in (pagination)";
  std::vector<size_t> pageSizes;
  std::vector<std::string> names;
  while (true) {
    Result<ListPage> page = client->list(resources::kConfigMaps, Cluster::ns, options);
    ASSERT_TRUE(page.ok()) << page.error().message();
    pageSizes.push_back(page->items.size());
    EXPECT_FALSE(page->resourceVersion.empty());
    for (const Json& item : page->items) {
      names.push_back(item["metadata"]["name"]);
      EXPECT_EQ(item["kind"], "ConfigMap");  // filled in, the server leaves it out
      EXPECT_EQ(item["apiVersion"], "v1");
    }
    if (page->continueToken.empty()) break;
    options.continueToken = page->continueToken;
    ASSERT_LT(pageSizes.size(), 10u);
  }
  EXPECT_THAT(pageSizes, ::testing::ElementsAre(2, 2, 1));
  EXPECT_THAT(names, ::testing::ElementsAre("page-0", "page-1", "page-2", "page-3", "page-4"));

  ListOptions all;
  all.limit = 2;
  all.labelSelector = "relops.dev/e2e=pagination";
  const Result<ListPage> everything = listAll(*client, resources::kConfigMaps, Cluster::ns, all);
  ASSERT_TRUE(everything.ok()) << everything.error().message();
  EXPECT_EQ(everything->items.size(), 5u);
}

TEST(KubeClientE2E, ServerSideApplyWithFieldManagerRelops) {
  auto client = makeClient(Cluster::admin);
  ASSERT_TRUE(client);
  Json desired = configMap("applied", {{"owned", "by relops"}});
  Result<Json> applied = apply(*client, resources::kConfigMaps, desired);
  ASSERT_TRUE(applied.ok()) << applied.error().message();
  const Json seen =
      kubectlJson({"get", "configmap", "applied", "-n", Cluster::ns, "--show-managed-fields"});
  EXPECT_EQ(seen["data"]["owned"], "by relops");
  bool relopsApplies = false;
  for (const Json& entry : seen["metadata"]["managedFields"]) {
    if (entry["manager"] == "relops" && entry["operation"] == "Apply") relopsApplies = true;
  }
  EXPECT_TRUE(relopsApplies) << seen["metadata"]["managedFields"].dump();

  // Another manager takes the field; a non-forced apply conflicts, a forced one wins.
  kubectl({"patch", "configmap", "applied", "-n", Cluster::ns, "--type=merge",
           "--field-manager=someone-else", "-p", R"({"data":{"owned":"by someone else"}})"});
  WriteOptions gentle;
  gentle.force = false;
  const Result<Json> conflict = apply(*client, resources::kConfigMaps, desired, gentle);
  ASSERT_FALSE(conflict.ok());
  EXPECT_EQ(conflict.error().kind(), ErrorKind::kConflict);
  ASSERT_TRUE(apply(*client, resources::kConfigMaps, desired).ok());
  EXPECT_EQ(
      kubectl({"get", "configmap", "applied", "-n", Cluster::ns, "-o", "jsonpath={.data.owned}"}),
      "by relops");

  // dryRun=All: validated and answered, never stored.
  WriteOptions dryRun;
  dryRun.dryRun = true;
  const Result<Json> dry =
      client->create(resources::kConfigMaps, configMap("dry-run", {{"a", "b"}}), dryRun);
  ASSERT_TRUE(dry.ok()) << dry.error().message();
  EXPECT_EQ(kubectl({"get", "configmap", "dry-run", "-n", Cluster::ns, "--ignore-not-found"}), "");
}

TEST(KubeClientE2E, StatusSubresourceOfACustomResource) {
  auto client = makeClient(Cluster::admin);
  ASSERT_TRUE(client);
  kubectl({"apply", "-f", "-"},
          "apiVersion: e2e.kube.relops.test/v1\nkind: Widget\n"
          "metadata: {name: w, namespace: " +
              Cluster::ns + "}\nspec: {size: 3}\n");
  Result<Json> widget = client->get(kWidgets, {Cluster::ns, "w"});
  ASSERT_TRUE(widget.ok()) << widget.error().message();

  Json withStatus = *widget;
  withStatus["status"] = {{"phase", "Ready"}, {"observedSize", 3}};
  withStatus["spec"]["size"] = 99;  // ignored: /status writes only status
  WriteOptions status;
  status.subresource = "status";
  Result<Json> written = client->update(kWidgets, withStatus, status);
  ASSERT_TRUE(written.ok()) << written.error().message();
  Json seen = kubectlJson({"get", "widget", "w", "-n", Cluster::ns});
  EXPECT_EQ(seen["status"]["phase"], "Ready");
  EXPECT_EQ(seen["spec"]["size"], 3);

  Result<Json> patched = client->patch(kWidgets, {Cluster::ns, "w"}, PatchType::kMerge,
                                       R"({"status":{"phase":"Degraded"}})", status);
  ASSERT_TRUE(patched.ok()) << patched.error().message();
  seen = kubectlJson({"get", "widget", "w", "-n", Cluster::ns});
  EXPECT_EQ(seen["status"]["phase"], "Degraded");
  EXPECT_EQ(seen["status"]["observedSize"], 3);

  // Server-side apply of status with field manager relops.
  Json applyStatus{{"apiVersion", "e2e.kube.relops.test/v1"},
                   {"kind", "Widget"},
                   {"metadata", {{"name", "w"}, {"namespace", Cluster::ns}}},
                   {"status", {{"phase", "Applied"}}}};
  WriteOptions applyOptions = forceApplyOptions();
  applyOptions.subresource = "status";
  ASSERT_TRUE(apply(*client, kWidgets, applyStatus, applyOptions).ok());
  EXPECT_EQ(kubectl({"get", "widget", "w", "-n", Cluster::ns, "-o", "jsonpath={.status.phase}"}),
            "Applied");
}

TEST(KubeClientE2E, TypedErrors) {
  auto client = makeClient(Cluster::admin);
  ASSERT_TRUE(client);

  const Result<Json> missing = client->get(resources::kConfigMaps, {Cluster::ns, "nope"});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind(), ErrorKind::kNotFound);
  EXPECT_EQ(missing.error().httpStatus(), 404);
  EXPECT_EQ(missing.error().reason(), "NotFound");
  EXPECT_THAT(missing.error().message(), HasSubstr("\"nope\" not found"));

  ASSERT_TRUE(client->create(resources::kConfigMaps, configMap("twice", {{"a", "1"}})).ok());
  const Result<Json> again = client->create(resources::kConfigMaps, configMap("twice", {}));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().kind(), ErrorKind::kAlreadyExists);
  EXPECT_EQ(again.error().httpStatus(), 409);

  Result<Json> current = client->get(resources::kConfigMaps, {Cluster::ns, "twice"});
  ASSERT_TRUE(current.ok());
  kubectl({"patch", "configmap", "twice", "-n", Cluster::ns, "--type=merge", "-p",
           R"({"data":{"a":"changed by kubectl"}})"});
  Json stale = *current;
  stale["data"]["a"] = "lost update";
  const Result<Json> conflict = client->update(resources::kConfigMaps, stale);
  ASSERT_FALSE(conflict.ok());
  EXPECT_EQ(conflict.error().kind(), ErrorKind::kConflict);
  EXPECT_EQ(conflict.error().reason(), "Conflict");
  EXPECT_EQ(conflict.error().disposition(), base::Disposition::kRetryNow);

  const Result<Json> invalid = client->create(resources::kConfigMaps, configMap("Bad_Name", {}));
  ASSERT_FALSE(invalid.ok());
  EXPECT_EQ(invalid.error().kind(), ErrorKind::kInvalid);
  EXPECT_EQ(invalid.error().httpStatus(), 422);
  ASSERT_FALSE(invalid.error().causes().empty());
  EXPECT_EQ(invalid.error().causes()[0].field, "metadata.name");
  EXPECT_EQ(invalid.error().causes()[0].reason, "FieldValueInvalid");
  EXPECT_THAT(invalid.error().describe(), HasSubstr("metadata.name"));

  // A ServiceAccount with no RBAC at all.
  ClientConfig narrow = anonymous();
  narrow.token = serviceAccountToken("narrow");
  auto narrowClient = makeClient(narrow);
  ASSERT_TRUE(narrowClient);
  const Result<ListPage> forbidden = narrowClient->list(resources::kConfigMaps, Cluster::ns, {});
  ASSERT_FALSE(forbidden.ok());
  EXPECT_EQ(forbidden.error().kind(), ErrorKind::kForbidden);
  EXPECT_EQ(forbidden.error().httpStatus(), 403);
  EXPECT_THAT(forbidden.error().message(), HasSubstr("system:serviceaccount:" + Cluster::ns));

  ClientConfig wrongToken = anonymous();
  wrongToken.token = "not-a-token";
  auto unauthorized = makeClient(wrongToken);
  ASSERT_TRUE(unauthorized);
  const Result<Json> rejected = unauthorized->get(resources::kConfigMaps, {Cluster::ns, "twice"});
  ASSERT_FALSE(rejected.ok());
  EXPECT_EQ(rejected.error().kind(), ErrorKind::kUnauthorized);
}

struct SeenEvent {
  WatchEventType type;
  std::string name;
};

TEST(KubeClientE2E, WatchSeesAddedModifiedDeletedAndBookmarks) {
  auto client = makeClient(Cluster::admin);
  ASSERT_TRUE(client);
  const Result<ListPage> start = client->list(resources::kConfigMaps, Cluster::ns, {});
  ASSERT_TRUE(start.ok()) << start.error().message();
  WatchOptions options;
  options.resourceVersion = start->resourceVersion;
  // Short, so the API server sends its pre-timeout BOOKMARK (2 s before the
  // end) and then ends the stream.
  options.timeoutSeconds = 8;
  Result<std::unique_ptr<WatchStream>> watch =
      client->watch(resources::kConfigMaps, Cluster::ns, options);
  ASSERT_TRUE(watch.ok()) << watch.error().message();

  std::thread changes([] {
    std::this_thread::sleep_for(300ms);
    kubectl({"create", "configmap", "watched", "-n", Cluster::ns, "--from-literal=a=1"});
    kubectl({"patch", "configmap", "watched", "-n", Cluster::ns, "--type=merge", "-p",
             R"({"data":{"a":"2"}})"});
    kubectl({"delete", "configmap", "watched", "-n", Cluster::ns});
  });
  std::vector<SeenEvent> seen;
  std::string lastResourceVersion;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < deadline) {
    Result<std::optional<WatchEvent>> event = (*watch)->next();
    ASSERT_TRUE(event.ok()) << event.error().message();
    if (!event->has_value()) break;  // the server's timeoutSeconds
    const WatchEvent& e = **event;
    ASSERT_NE(e.type, WatchEventType::kError) << e.object.dump();
    seen.push_back({e.type, e.object["metadata"].value("name", "")});
    lastResourceVersion = e.object["metadata"].value("resourceVersion", "");
  }
  changes.join();
  std::vector<WatchEventType> forWatched;
  bool bookmark = false;
  for (const SeenEvent& event : seen) {
    if (event.name == "watched") forWatched.push_back(event.type);
    if (event.type == WatchEventType::kBookmark) bookmark = true;
  }
  EXPECT_THAT(forWatched, ::testing::ElementsAre(WatchEventType::kAdded, WatchEventType::kModified,
                                                 WatchEventType::kDeleted));
  EXPECT_TRUE(bookmark) << "no BOOKMARK before the watch ended";
  EXPECT_FALSE(lastResourceVersion.empty());
}

TEST(KubeClientE2E, WatchStopUnblocksNextPromptly) {
  auto client = makeClient(Cluster::admin);
  ASSERT_TRUE(client);
  WatchOptions options;
  options.timeoutSeconds = 600;
  const Result<ListPage> start = client->list(resources::kConfigMaps, Cluster::ns, {});
  ASSERT_TRUE(start.ok());
  options.resourceVersion = start->resourceVersion;
  Result<std::unique_ptr<WatchStream>> watch =
      client->watch(resources::kConfigMaps, Cluster::ns, options);
  ASSERT_TRUE(watch.ok()) << watch.error().message();
  WatchStream* stream = watch->get();
  std::thread stopper([stream] {
    std::this_thread::sleep_for(500ms);
    stream->stop();
  });
  const auto begin = std::chrono::steady_clock::now();
  Result<std::optional<WatchEvent>> event = stream->next();
  const auto waited = std::chrono::steady_clock::now() - begin;
  stopper.join();
  ASSERT_TRUE(event.ok()) << event.error().message();
  EXPECT_FALSE(event->has_value());
  EXPECT_LT(waited, 5s);
  // Stopped stays stopped.
  Result<std::optional<WatchEvent>> after = stream->next();
  ASSERT_TRUE(after.ok());
  EXPECT_FALSE(after->has_value());
}

TEST(KubeClientE2E, TooOldResourceVersionIsGone) {
  auto client = makeClient(Cluster::admin);
  ASSERT_TRUE(client);
  // The Widget watch cache started when its CRD was created, long after
  // resourceVersion 1: the API server answers 410 Expired.
  WatchOptions options;
  options.resourceVersion = "1";
  options.timeoutSeconds = 10;
  Result<std::unique_ptr<WatchStream>> watch = client->watch(kWidgets, Cluster::ns, options);
  if (watch.ok()) {
    Result<std::optional<WatchEvent>> event = (*watch)->next();
    ASSERT_TRUE(event.ok()) << event.error().message();
    ASSERT_TRUE(event->has_value());
    ASSERT_EQ((*event)->type, WatchEventType::kError) << (*event)->object.dump();
    const base::Error error = errorFromStatus((*event)->object);
    EXPECT_EQ(error.kind(), ErrorKind::kGone);
    EXPECT_EQ(error.httpStatus(), 410);
  } else {
    EXPECT_EQ(watch.error().kind(), ErrorKind::kGone);
  }

  ListOptions exact;
  exact.resourceVersion = "1";
  exact.resourceVersionMatch = "Exact";
  // An exact list at an old revision is served from etcd until etcd compacts
  // it (every 5 minutes), so only a refusal is checked: it must be Gone.
  const Result<ListPage> list = client->list(kWidgets, Cluster::ns, exact);
  if (!list.ok()) {
    EXPECT_EQ(list.error().kind(), ErrorKind::kGone) << list.error().message();
    EXPECT_EQ(list.error().httpStatus(), 410);
  }
}

TEST(KubeClientE2E, RotatedTokenFileIsPickedUpWithoutANewClient) {
  TempDir dir;
  const std::string alpha = serviceAccountToken("alpha");
  const std::string beta = serviceAccountToken("beta");
  const std::string tokenFile = dir.write("token", alpha + "\n");
  ClientConfig config = anonymous();
  config.tokenFile = tokenFile;
  HttpClientOptions options;
  options.tokenFileReloadPeriod = 1s;
  auto client = makeClient(config, options);
  ASSERT_TRUE(client);
  const std::string prefix = "system:serviceaccount:" + Cluster::ns + ":";
  EXPECT_EQ(whoAmI(*client), prefix + "alpha");

  dir.write("token", beta + "\n");  // atomic rename, as the kubelet rotates
  std::string identity;
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  do {
    std::this_thread::sleep_for(200ms);
    identity = whoAmI(*client);
  } while (identity != prefix + "beta" && std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(identity, prefix + "beta");
}

TEST(KubeClientE2E, TokenFileIsRereadImmediatelyAfterA401) {
  TempDir dir;
  const std::string alpha = serviceAccountToken("alpha");
  const std::string tokenFile = dir.write("token", "expired-or-garbage\n");
  ClientConfig config = anonymous();
  config.tokenFile = tokenFile;
  HttpClientOptions options;
  options.tokenFileReloadPeriod = 1h;  // only a 401 can make it re-read
  auto client = makeClient(config, options);
  ASSERT_TRUE(client);
  EXPECT_THAT(whoAmI(*client), HasSubstr("error"));
  dir.write("token", alpha);
  // The cached token gets a 401, the file is re-read, the request retried.
  EXPECT_EQ(whoAmI(*client), "system:serviceaccount:" + Cluster::ns + ":alpha");
}

// A kubeconfig whose user is an exec plugin written by the test.
std::string execKubeconfig(const TempDir& dir, const std::string& script) {
  return dir.write("kubeconfig",
                   "apiVersion: v1\nkind: Config\ncurrent-context: e2e\n"
                   "clusters:\n- name: e2e\n  cluster:\n    server: " +
                       Cluster::admin.server +
                       "\n    certificate-authority-data: " + base64Encode(Cluster::admin.caPem) +
                       "\nusers:\n- name: plugin\n  user:\n    exec:\n"
                       "      apiVersion: client.authentication.k8s.io/v1\n"
                       "      command: ./" +
                       script +
                       "\n      args: [--count-file, runs]\n"
                       "      env: [{name: E2E_GREETING, value: hello}]\n"
                       "      provideClusterInfo: true\n"
                       "      interactiveMode: Never\n"
                       "contexts:\n- name: e2e\n  context: {cluster: e2e, user: plugin}\n");
}

TEST(KubeClientE2E, ExecPluginWithToken) {
  TempDir dir;
  const std::string alpha = serviceAccountToken("alpha");
  dir.write("credential.json",
            Json{{"apiVersion", "client.authentication.k8s.io/v1"},
                 {"kind", "ExecCredential"},
                 {"status", {{"token", alpha}, {"expirationTimestamp", "2999-01-01T00:00:00Z"}}}}
                .dump());
  // Records its environment and how often it ran, then prints the credential.
  dir.write("plugin.sh",
            "#!/bin/sh\n"
            "cd \"$(dirname \"$0\")\"\n"
            "echo \"$KUBERNETES_EXEC_INFO\" > exec-info.json\n"
            "echo \"$1 $E2E_GREETING\" > args\n"
            "echo run >> runs\n"
            "cat credential.json\n",
            true);
  Result<ClientConfig> config = loadKubeconfig({.path = execKubeconfig(dir, "plugin.sh")});
  ASSERT_TRUE(config.ok()) << config.error().message();
  auto client = makeClient(*config);
  ASSERT_TRUE(client);
  EXPECT_EQ(whoAmI(*client), "system:serviceaccount:" + Cluster::ns + ":alpha");
  EXPECT_EQ(whoAmI(*client), "system:serviceaccount:" + Cluster::ns + ":alpha");

  std::ifstream runs(dir.file("runs"));
  std::string line;
  int count = 0;
  while (std::getline(runs, line)) ++count;
  EXPECT_EQ(count, 1) << "cached until its expirationTimestamp";
  std::ifstream args(dir.file("args"));
  std::getline(args, line);
  EXPECT_EQ(line, "--count-file hello");
  std::ifstream infoFile(dir.file("exec-info.json"));
  const Json info = Json::parse(infoFile);
  EXPECT_EQ(info["apiVersion"], "client.authentication.k8s.io/v1");
  EXPECT_EQ(info["spec"]["interactive"], false);
  EXPECT_EQ(info["spec"]["cluster"]["server"], Cluster::admin.server);
}

TEST(KubeClientE2E, ExecPluginWithClientCertificate) {
  TempDir dir;
  dir.write("credential.json",
            Json{{"apiVersion", "client.authentication.k8s.io/v1"},
                 {"kind", "ExecCredential"},
                 {"status",
                  {{"clientCertificateData", Cluster::admin.clientCertificatePem},
                   {"clientKeyData", Cluster::admin.clientKeyPem}}}}
                .dump());
  dir.write("plugin.sh", "#!/bin/sh\ncat \"$(dirname \"$0\")/credential.json\"\n", true);
  Result<ClientConfig> config = loadKubeconfig({.path = execKubeconfig(dir, "plugin.sh")});
  ASSERT_TRUE(config.ok()) << config.error().message();
  auto client = makeClient(*config);
  ASSERT_TRUE(client);
  EXPECT_EQ(whoAmI(*client), whoAmI(*makeClient(Cluster::admin)));
}

TEST(KubeClientE2E, ExecPluginFailureIsReported) {
  TempDir dir;
  dir.write("plugin.sh", "#!/bin/sh\necho 'login required: run sso-login' >&2\nexit 2\n", true);
  Result<ClientConfig> config = loadKubeconfig({.path = execKubeconfig(dir, "plugin.sh")});
  ASSERT_TRUE(config.ok()) << config.error().message();
  auto client = makeClient(*config);
  ASSERT_TRUE(client);
  const Result<Json> result = client->get(resources::kConfigMaps, {Cluster::ns, "x"});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().kind(), ErrorKind::kUnauthorized);
  EXPECT_THAT(result.error().message(), HasSubstr("login required: run sso-login"));
}

TEST(KubeClientE2E, WrongCaIsRefusedWithAClearError) {
  TempDir dir;
  ASSERT_EQ(shell("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=not-the-cluster-ca "
                  "-keyout " +
                  dir.file("ca.key") + " -out " + dir.file("ca.crt") + " 2>/dev/null")
                .code,
            0);
  std::ifstream in(dir.file("ca.crt"));
  std::stringstream wrongCa;
  wrongCa << in.rdbuf();
  ClientConfig config = Cluster::admin;
  config.caPem = wrongCa.str();
  auto client = makeClient(config);
  ASSERT_TRUE(client);
  const Result<Json> result = client->getRaw("/version");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().kind(), ErrorKind::kConfig);
  EXPECT_THAT(result.error().message(), HasSubstr("certificate could not be verified"));
  EXPECT_THAT(result.error().message(), HasSubstr(Cluster::admin.server));

  // The system trust store does not know the cluster's CA either.
  config.caPem.clear();
  const Result<Json> systemRoots = makeClient(config)->getRaw("/version");
  ASSERT_FALSE(systemRoots.ok());
  EXPECT_THAT(systemRoots.error().message(), HasSubstr("certificate could not be verified"));
}

TEST(KubeClientE2E, TlsServerNameAndInsecureSkipVerify) {
  // The serving certificate names DNS:kubernetes but the URL says 127.0.0.1.
  ClientConfig named = Cluster::admin;
  named.tlsServerName = "kubernetes";
  ASSERT_TRUE(makeClient(named)->getRaw("/version").ok());

  named.tlsServerName = "not-in-the-certificate.example";
  const Result<Json> mismatch = makeClient(named)->getRaw("/version");
  ASSERT_FALSE(mismatch.ok());
  EXPECT_THAT(mismatch.error().message(), HasSubstr("could not be verified"));
  EXPECT_THAT(mismatch.error().message(), HasSubstr("not-in-the-certificate.example"));

  ClientConfig insecure = Cluster::admin;
  insecure.caPem.clear();
  insecure.insecureSkipTlsVerify = true;
  const Result<Json> version = makeClient(insecure)->getRaw("/version");
  ASSERT_TRUE(version.ok()) << version.error().message();
  EXPECT_TRUE(version->contains("gitVersion"));
}

class CountingObserver final : public RequestObserver {
 public:
  void onRequest(std::string_view method, std::string_view host, int code,
                 std::chrono::duration<double> latency) override {
    std::lock_guard lock(mutex_);
    seen.push_back(std::string(method) + " " + std::string(host) + " " + std::to_string(code));
    EXPECT_GE(latency.count(), 0);
  }
  std::mutex mutex_;
  std::vector<std::string> seen;
};

TEST(KubeClientE2E, ConcurrentRequestsShareThePoolAndAreObserved) {
  auto observer = std::make_shared<CountingObserver>();
  HttpClientOptions options;
  options.observer = observer;
  auto client = makeClient(Cluster::admin, options);
  ASSERT_TRUE(client);
  ASSERT_TRUE(client->create(resources::kConfigMaps, configMap("shared", {{"a", "1"}})).ok());
  std::atomic<int> failures{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < 4; ++t) {
    workers.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        if (!client->get(resources::kConfigMaps, {Cluster::ns, "shared"}).ok()) ++failures;
      }
    });
  }
  for (std::thread& worker : workers) worker.join();
  EXPECT_EQ(failures.load(), 0);
  // Keep-alive: 101 requests from 4 threads over at most a handful of connections.
  EXPECT_LE(client->stats().connectionsOpened, 6u);
  EXPECT_GE(client->stats().idleConnections, 1u);
  EXPECT_FALSE(client->get(resources::kConfigMaps, {Cluster::ns, "absent"}).ok());

  const std::string host = Cluster::admin.server.substr(std::string("https://").size());
  std::lock_guard lock(observer->mutex_);
  ASSERT_EQ(observer->seen.size(), 102u);
  EXPECT_EQ(observer->seen.front(), "POST " + host + " 201");
  EXPECT_EQ(std::count(observer->seen.begin(), observer->seen.end(), "GET " + host + " 200"), 100);
  EXPECT_EQ(observer->seen.back(), "GET " + host + " 404");
}

TEST(KubeClientE2E, ClientSideRateLimit) {
  HttpClientOptions options;
  options.qps = 5;
  options.burst = 2;
  Result<std::unique_ptr<HttpClient>> client = HttpClient::create(Cluster::admin, options);
  ASSERT_TRUE(client.ok());
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 7; ++i) ASSERT_TRUE((*client)->getRaw("/version").ok());
  // 2 at once, then 5 more at 200 ms each.
  EXPECT_GE(std::chrono::steady_clock::now() - start, 950ms);
}

}  // namespace
}  // namespace relops::kube

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new relops::kube::Cluster);
  return RUN_ALL_TESTS();
}
