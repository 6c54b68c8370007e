// HttpClient's HTTP mechanics against a scripted loopback server: chunk
// boundaries, keep-alive reuse and dropped connections, the bytes of each
// verb on the wire. What the API server answers is tested against a real
// one in tests/e2e/kube_client_test.cpp.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "operator/kube/http_client.h"
#include "tests/support/scripted_http_server.h"

namespace relops::kube {
namespace {

using base::ErrorKind;
using ::testing::HasSubstr;
using testing::ScriptedHttpServer;
using testing::ScriptedRequest;
using testing::ScriptedResponse;
using namespace std::chrono_literals;

const std::string kObject = R"({"kind":"ConfigMap","metadata":{"name":"a"}})";

std::unique_ptr<HttpClient> clientFor(const ScriptedHttpServer& server,
                                      HttpClientOptions options = {}) {
  ClientConfig config;
  config.server = server.url();
  config.token = "secret-token";
  config.source = "test";
  options.qps = -1;
  auto client = HttpClient::create(config, std::move(options));
  EXPECT_TRUE(client.ok());
  return std::move(client).value();
}

std::string chunked(const std::string& body, size_t chunkSize) {
  std::string out;
  for (size_t offset = 0; offset < body.size(); offset += chunkSize) {
    const std::string part = body.substr(offset, chunkSize);
    char size[16];
    std::snprintf(size, sizeof size, "%zx", part.size());
    out += std::string(size) + "\r\n" + part + "\r\n";
  }
  return out;
}

constexpr char kChunkedHeader[] =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";

std::string watchBody() {
  return R"({"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"1"}}})"
         "\n"
         R"({"type":"MODIFIED","object":{"metadata":{"name":"a","resourceVersion":"2"}}})"
         "\n"
         R"({"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"3"}}})"
         "\n";
}

TEST(HttpWireTest, ChunkedWatchSplitAtOddBoundaries) {
  ScriptedHttpServer server([](const ScriptedRequest&) {
    ScriptedResponse response;
    response.pieces.push_back(kChunkedHeader);
    // Chunks of 7 bytes, sent 5 at a time: events straddle chunks and reads.
    const std::string chunks = chunked(watchBody(), 7);
    for (size_t offset = 0; offset < chunks.size(); offset += 61) {
      response.pieces.push_back(chunks.substr(offset, 61));
    }
    response.pieces.push_back("0\r\n\r\n");
    response.pause = 2ms;
    return response;
  });
  auto client = clientFor(server);
  WatchOptions options;
  options.resourceVersion = "0";
  auto watch = client->watch(resources::kConfigMaps, "ns", options);
  ASSERT_TRUE(watch.ok()) << watch.error().message();
  std::vector<WatchEventType> types;
  while (true) {
    auto event = (*watch)->next();
    ASSERT_TRUE(event.ok()) << event.error().message();
    if (!event->has_value()) break;
    types.push_back((*event)->type);
  }
  EXPECT_THAT(types, ::testing::ElementsAre(WatchEventType::kAdded, WatchEventType::kModified,
                                            WatchEventType::kBookmark));
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].target,
            "/api/v1/namespaces/ns/configmaps?watch=true&resourceVersion=0"
            "&allowWatchBookmarks=true&timeoutSeconds=300");
  EXPECT_TRUE(requests[0].hasHeader("Authorization: Bearer secret-token"));
}

TEST(HttpWireTest, WatchDroppedMidStreamDeliversWhatArrivedThenFails) {
  ScriptedHttpServer server([](const ScriptedRequest&) {
    ScriptedResponse response;
    const std::string body = watchBody();
    response.pieces = {kChunkedHeader, chunked(body.substr(0, body.find('\n') + 20), 1000)};
    response.close = true;  // no terminating chunk
    return response;
  });
  auto client = clientFor(server);
  auto watch = client->watch(resources::kConfigMaps, "ns", {});
  ASSERT_TRUE(watch.ok());
  auto first = (*watch)->next();
  ASSERT_TRUE(first.ok() && first->has_value());
  EXPECT_EQ((*first)->type, WatchEventType::kAdded);
  auto second = (*watch)->next();
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().kind(), ErrorKind::kTransient);
  EXPECT_THAT(second.error().message(), HasSubstr("watch connection lost"));
}

TEST(HttpWireTest, WatchStopFromAnotherThread) {
  ScriptedHttpServer server([](const ScriptedRequest&) {
    ScriptedResponse response;
    response.pieces = {kChunkedHeader};
    response.pause = 1500ms;  // holds the connection open, sending nothing
    return response;
  });
  auto client = clientFor(server);
  auto watch = client->watch(resources::kConfigMaps, "", {});
  ASSERT_TRUE(watch.ok());
  std::thread stopper([&] {
    std::this_thread::sleep_for(100ms);
    (*watch)->stop();
  });
  const auto start = std::chrono::steady_clock::now();
  auto event = (*watch)->next();
  stopper.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  ASSERT_TRUE(event.ok());
  EXPECT_FALSE(event->has_value());
}

TEST(HttpWireTest, WatchRefusedWithAStatus) {
  ScriptedHttpServer server([](const ScriptedRequest&) {
    return ScriptedResponse::json(
        410,
        R"({"kind":"Status","status":"Failure","reason":"Expired","message":"too old","code":410})");
  });
  auto client = clientFor(server);
  auto watch = client->watch(resources::kConfigMaps, "", {});
  ASSERT_FALSE(watch.ok());
  EXPECT_EQ(watch.error().kind(), ErrorKind::kGone);
  EXPECT_THAT(watch.error().message(), HasSubstr("too old"));
}

TEST(HttpWireTest, ChunkedOrdinaryResponse) {
  ScriptedHttpServer server([](const ScriptedRequest&) {
    ScriptedResponse response;
    response.pieces = {kChunkedHeader,
                       chunked(R"({"kind":"ConfigMapList","metadata":{"resourceVersion":"9",)"
                               R"("continue":"next"},"items":[{"metadata":{"name":"a"}}]})",
                               5) +
                           "0\r\n\r\n"};
    return response;
  });
  auto client = clientFor(server);
  auto page = client->list(resources::kConfigMaps, "", {});
  ASSERT_TRUE(page.ok()) << page.error().message();
  EXPECT_EQ(page->resourceVersion, "9");
  EXPECT_EQ(page->continueToken, "next");
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0]["kind"], "ConfigMap");
}

TEST(HttpWireTest, KeepAliveReusesOneConnection) {
  ScriptedHttpServer server(
      [](const ScriptedRequest&) { return ScriptedResponse::json(200, kObject); });
  auto client = clientFor(server);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(client->get(resources::kConfigMaps, {"ns", "a"}).ok());
  EXPECT_EQ(server.connectionsAccepted(), 1);
  EXPECT_EQ(client->stats().connectionsOpened, 1u);
}

TEST(HttpWireTest, IdleConnectionClosedByTheServerIsNotReused) {
  ScriptedHttpServer server([](const ScriptedRequest&) {
    return ScriptedResponse::json(200, kObject, /*close=*/true);  // without Connection: close
  });
  auto client = clientFor(server);
  ASSERT_TRUE(client->get(resources::kConfigMaps, {"ns", "a"}).ok());
  std::this_thread::sleep_for(50ms);
  ASSERT_TRUE(client->get(resources::kConfigMaps, {"ns", "a"}).ok());
  EXPECT_EQ(server.connectionsAccepted(), 2);
}

TEST(HttpWireTest, GetRetriesOnceWhenAReusedConnectionDies) {
  ScriptedHttpServer server([](const ScriptedRequest& request) {
    ScriptedResponse response = ScriptedResponse::json(200, kObject);
    // The server takes the second request on the first connection, then drops it.
    if (request.connection == 1 && request.indexOnConnection == 2) {
      response.closeWithoutAnswer = true;
    }
    return response;
  });
  auto client = clientFor(server);
  ASSERT_TRUE(client->get(resources::kConfigMaps, {"ns", "a"}).ok());
  const auto second = client->get(resources::kConfigMaps, {"ns", "a"});
  ASSERT_TRUE(second.ok()) << second.error().message();
  EXPECT_EQ(server.connectionsAccepted(), 2);
}

TEST(HttpWireTest, PostIsNotRetriedWhenTheServerMayHaveSeenIt) {
  ScriptedHttpServer server([](const ScriptedRequest& request) {
    ScriptedResponse response = ScriptedResponse::json(201, kObject);
    if (request.connection == 1 && request.indexOnConnection == 2) {
      response.closeWithoutAnswer = true;
    }
    return response;
  });
  auto client = clientFor(server);
  const Json object{{"metadata", {{"name", "a"}, {"namespace", "ns"}}}};
  ASSERT_TRUE(client->create(resources::kConfigMaps, object).ok());
  const auto second = client->create(resources::kConfigMaps, object);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().kind(), ErrorKind::kTransient);
  EXPECT_EQ(server.requests().size(), 2u);
}

TEST(HttpWireTest, VerbsOnTheWire) {
  ScriptedHttpServer server(
      [](const ScriptedRequest&) { return ScriptedResponse::json(200, kObject); });
  auto client = clientFor(server);
  const ResourceRef widgets{"relops.dev", "v1alpha1", "widgets", "Widget", true};
  ASSERT_TRUE(
      client->patch(widgets, {"ns", "w"}, PatchType::kApply, "{}", forceApplyOptions()).ok());
  WriteOptions statusDryRun;
  statusDryRun.subresource = "status";
  statusDryRun.dryRun = true;
  ASSERT_TRUE(client->patch(widgets, {"ns", "w"}, PatchType::kJson, "[]", statusDryRun).ok());
  ASSERT_TRUE(
      client
          ->update(widgets, Json{{"metadata", {{"name", "w"}, {"namespace", "ns"}}}}, statusDryRun)
          .ok());
  DeleteOptions deleteOptions;
  deleteOptions.propagationPolicy = "Foreground";
  deleteOptions.preconditionUid = "u-1";
  ASSERT_TRUE(client->remove(resources::kNamespaces, {"", "gone"}, deleteOptions).ok());

  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 4u);
  EXPECT_EQ(requests[0].method, "PATCH");
  EXPECT_EQ(requests[0].target,
            "/apis/relops.dev/v1alpha1/namespaces/ns/widgets/w?fieldManager=relops&force=true");
  EXPECT_TRUE(requests[0].hasHeader("Content-Type: application/apply-patch+yaml"));
  EXPECT_TRUE(requests[0].hasHeader("User-Agent: relops"));
  EXPECT_TRUE(requests[0].hasHeader("Accept: application/json"));
  EXPECT_EQ(
      requests[1].target,
      "/apis/relops.dev/v1alpha1/namespaces/ns/widgets/w/status?fieldManager=relops&dryRun=All");
  EXPECT_TRUE(requests[1].hasHeader("Content-Type: application/json-patch+json"));
  EXPECT_EQ(requests[2].method, "PUT");
  EXPECT_EQ(requests[2].target, requests[1].target);
  EXPECT_EQ(requests[3].method, "DELETE");
  EXPECT_EQ(requests[3].target, "/api/v1/namespaces/gone");
  EXPECT_EQ(Json::parse(requests[3].body), (Json{{"apiVersion", "v1"},
                                                 {"kind", "DeleteOptions"},
                                                 {"propagationPolicy", "Foreground"},
                                                 {"preconditions", {{"uid", "u-1"}}}}));
}

TEST(HttpWireTest, TooManyRequestsWithRetryAfterIsObserved) {
  ScriptedHttpServer server([](const ScriptedRequest&) {
    return ScriptedResponse::json(
        429, R"({"kind":"Status","status":"Failure","reason":"TooManyRequests","code":429})", false,
        "Retry-After: 3\r\n");
  });
  struct Observer final : RequestObserver {
    std::vector<int> codes;
    void onRequest(std::string_view, std::string_view, int code,
                   std::chrono::duration<double>) override {
      codes.push_back(code);
    }
  };
  auto observer = std::make_shared<Observer>();
  HttpClientOptions options;
  options.observer = observer;
  auto client = clientFor(server, options);
  const auto result = client->get(resources::kConfigMaps, {"ns", "a"});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().kind(), ErrorKind::kTooManyRequests);
  EXPECT_EQ(result.error().retryAfter(), std::chrono::seconds(3));
  EXPECT_THAT(observer->codes, ::testing::ElementsAre(429));
}

}  // namespace
}  // namespace relops::kube
