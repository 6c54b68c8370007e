// The HTTP server answering real requests on 127.0.0.1:0.
#include "operator/server/http_server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>
#include <vector>

#include "tests/unit/operator/server/http_test_client.h"

namespace relops::server {
namespace {

using relops::testing::httpRequest;
using relops::testing::HttpTestClient;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using namespace std::chrono_literals;

ServerOptions loopback() {
  ServerOptions options;
  options.bindAddress = "127.0.0.1:0";
  options.name = "test";
  return options;
}

Handler echo(std::string tag) {
  return [tag](const Request& request) {
    return Response::text(200,
                          tag + " " + request.method + " " + request.path + " ?" + request.query);
  };
}

TEST(ParseBindAddress, AcceptsKubebuilderForms) {
  auto disabled = parseBindAddress("0");
  ASSERT_TRUE(disabled.ok());
  EXPECT_FALSE(disabled->has_value());

  auto all = parseBindAddress(":8080");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ((*all)->host, "");
  EXPECT_EQ((*all)->port, 8080);

  auto loop = parseBindAddress("127.0.0.1:0");
  ASSERT_TRUE(loop.ok());
  EXPECT_EQ((*loop)->host, "127.0.0.1");
  EXPECT_EQ((*loop)->port, 0);

  auto v6 = parseBindAddress("[::1]:9443");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ((*v6)->host, "::1");
  EXPECT_EQ((*v6)->port, 9443);
}

TEST(ParseBindAddress, RejectsBadForms) {
  for (const char* bad : {"8080", "", "host:", ":http", ":70000", "::1:80", "a:-1"}) {
    auto parsed = parseBindAddress(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.error().kind(), base::ErrorKind::kConfig) << bad;
  }
}

TEST(PercentDecode, DecodesAndRejectsMalformed) {
  EXPECT_EQ(percentDecode("/a%20b%2Fc"), "/a b/c");
  EXPECT_EQ(percentDecode("a+b", true), "a b");
  EXPECT_EQ(percentDecode("a+b", false), "a+b");
  EXPECT_FALSE(percentDecode("%zz").has_value());
  EXPECT_FALSE(percentDecode("%4").has_value());
  EXPECT_FALSE(percentDecode("abc%").has_value());
}

TEST(Request, QueryParams) {
  Request request;
  request.query = "verbose&exclude=a&exclude=b%20c&x=1+2&&";
  EXPECT_TRUE(request.hasQueryParam("verbose"));
  EXPECT_EQ(request.queryParam("verbose"), "");
  EXPECT_EQ(request.queryParam("exclude"), "a");
  EXPECT_EQ(request.queryParam("x"), "1 2");
  EXPECT_FALSE(request.hasQueryParam("missing"));
  EXPECT_EQ(request.queryParams().size(), 4u);
}

TEST(HttpServer, DisabledServerStartsAsNoOp) {
  ServerOptions options;
  options.bindAddress = "0";
  HttpServer server(options);
  EXPECT_FALSE(server.enabled());
  ASSERT_TRUE(server.start().ok());
  EXPECT_EQ(server.port(), 0);
  server.stop();
}

TEST(HttpServer, BadAddressFailsStart) {
  ServerOptions options;
  options.bindAddress = "nonsense";
  HttpServer server(options);
  auto started = server.start();
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.error().kind(), base::ErrorKind::kConfig);
}

TEST(HttpServer, PortInUseFailsStartWithClearError) {
  HttpServer first(loopback());
  ASSERT_TRUE(first.start().ok());
  ServerOptions options = loopback();
  options.bindAddress = "127.0.0.1:" + std::to_string(first.port());
  HttpServer second(options);
  auto started = second.start();
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.error().kind(), base::ErrorKind::kConfig);
  EXPECT_THAT(started.error().message(), HasSubstr("cannot listen on 127.0.0.1:"));
}

TEST(HttpServer, PicksAFreePortAndAnswers) {
  HttpServer server(loopback());
  server.handle("GET", "/hello", echo("hello"));
  ASSERT_TRUE(server.start().ok());
  ASSERT_NE(server.port(), 0);
  EXPECT_TRUE(server.running());

  auto reply = httpRequest(server.port(), "GET", "/hello?x=1");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, "hello GET /hello ?x=1");
  EXPECT_EQ(reply.headers["content-type"], "text/plain; charset=utf-8");
  EXPECT_EQ(reply.headers["content-length"], std::to_string(reply.body.size()));
}

TEST(HttpServer, RoutesByLongestPrefixAndSegment) {
  HttpServer server(loopback());
  server.handle("GET", "/calendars/", echo("calendars"));
  server.handle("GET", "/healthz", echo("healthz"));
  server.handle("", "/", echo("root"));
  ASSERT_TRUE(server.start().ok());
  const uint16_t port = server.port();

  EXPECT_EQ(httpRequest(port, "GET", "/calendars/team-a/primary.ics").body,
            "calendars GET /calendars/team-a/primary.ics ?");
  EXPECT_EQ(httpRequest(port, "GET", "/healthz/ping").body, "healthz GET /healthz/ping ?");
  // "/healthz" is a path segment, not a string prefix.
  EXPECT_EQ(httpRequest(port, "GET", "/healthzx").body, "root GET /healthzx ?");
  EXPECT_EQ(httpRequest(port, "POST", "/anything").body, "root POST /anything ?");
  // Percent-escapes are decoded in the path, kept raw in the query.
  EXPECT_EQ(httpRequest(port, "GET", "/calendars/a%20b?q=%41").body,
            "calendars GET /calendars/a b ?q=%41");
}

TEST(HttpServer, UnknownPathIs404) {
  HttpServer server(loopback());
  server.handle("GET", "/metrics", echo("metrics"));
  ASSERT_TRUE(server.start().ok());
  auto reply = httpRequest(server.port(), "GET", "/nope");
  EXPECT_EQ(reply.status, 404);
  EXPECT_EQ(reply.body, "404 page not found\n");
}

TEST(HttpServer, WrongMethodIs405WithAllow) {
  HttpServer server(loopback());
  server.handle("GET", "/metrics", echo("metrics"));
  ASSERT_TRUE(server.start().ok());
  auto reply = httpRequest(server.port(), "POST", "/metrics", "x");
  EXPECT_EQ(reply.status, 405);
  EXPECT_EQ(reply.headers["allow"], "GET");
}

TEST(HttpServer, HeadAnswersLikeGetWithoutBody) {
  HttpServer server(loopback());
  server.handle("GET", "/metrics", [](const Request&) { return Response::text(200, "12345"); });
  ASSERT_TRUE(server.start().ok());
  auto reply = httpRequest(server.port(), "HEAD", "/metrics");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, "");
  EXPECT_EQ(reply.headers["content-length"], "5");
}

TEST(HttpServer, HandlerSeesHeadersAndBody) {
  HttpServer server(loopback());
  server.handle("POST", "/echo", [](const Request& request) {
    Response response = Response::text(201, request.header("X-Test") + ":" + request.body);
    response.contentType = "application/json";
    response.headers.emplace_back("X-Reply", "yes");
    return response;
  });
  ASSERT_TRUE(server.start().ok());
  HttpTestClient client(server.port());
  client.sendRaw(
      "POST /echo HTTP/1.1\r\nHost: x\r\nx-test: a\r\nX-Test: b\r\nContent-Length: 4\r\n"
      "Connection: close\r\n\r\nbody");
  const std::string raw = client.readUntilClosed();
  EXPECT_THAT(raw, StartsWith("HTTP/1.1 201"));
  EXPECT_THAT(raw, HasSubstr("Content-Type: application/json\r\n"));
  EXPECT_THAT(raw, HasSubstr("X-Reply: yes\r\n"));
  EXPECT_THAT(raw, HasSubstr("\r\n\r\na, b:body"));
}

TEST(HttpServer, ThrowingHandlerIs500AndServerLives) {
  HttpServer server(loopback());
  server.handle("GET", "/boom", [](const Request&) -> Response { throw std::runtime_error("x"); });
  server.handle("GET", "/bad", [](const Request&) { return Response::text(42, ""); });
  server.handle("GET", "/ok", echo("ok"));
  ASSERT_TRUE(server.start().ok());
  EXPECT_EQ(httpRequest(server.port(), "GET", "/boom").status, 500);
  EXPECT_EQ(httpRequest(server.port(), "GET", "/bad").status, 500);
  EXPECT_EQ(httpRequest(server.port(), "GET", "/ok").status, 200);
}

TEST(HttpServer, KeepAliveServesSeveralRequestsOnOneConnection) {
  HttpServer server(loopback());
  std::atomic<int> calls{0};
  server.handle("GET", "/n",
                [&](const Request&) { return Response::text(200, std::to_string(++calls)); });
  ASSERT_TRUE(server.start().ok());
  HttpTestClient client(server.port());
  for (int i = 1; i <= 5; ++i) {
    auto reply = client.request("GET", "/n");
    EXPECT_EQ(reply.status, 200);
    EXPECT_EQ(reply.body, std::to_string(i));
    EXPECT_TRUE(reply.keepAlive);
  }
  auto last = client.request("GET", "/n", "", false);
  EXPECT_FALSE(last.keepAlive);
  EXPECT_EQ(client.readUntilClosed(), "");
}

TEST(HttpServer, GarbageIs400AndClosed) {
  HttpServer server(loopback());
  server.handle("", "/", echo("root"));
  ASSERT_TRUE(server.start().ok());
  HttpTestClient client(server.port());
  client.sendRaw("THIS IS NOT HTTP\r\n\r\n");
  const std::string raw = client.readUntilClosed();
  EXPECT_THAT(raw, StartsWith("HTTP/1.1 400"));
}

TEST(HttpServer, NonOriginTargetIs400) {
  HttpServer server(loopback());
  server.handle("", "/", echo("root"));
  ASSERT_TRUE(server.start().ok());
  HttpTestClient client(server.port());
  client.sendRaw("GET http://example.com/x HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_THAT(client.readUntilClosed(), StartsWith("HTTP/1.1 400"));

  HttpTestClient badEscape(server.port());
  badEscape.sendRaw("GET /a%zz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_THAT(badEscape.readUntilClosed(), StartsWith("HTTP/1.1 400"));
}

TEST(HttpServer, OversizedHeaderIs431AndBodyIs413) {
  ServerOptions options = loopback();
  options.maxHeaderBytes = 1024;
  options.maxBodyBytes = 100;
  HttpServer server(options);
  server.handle("", "/", echo("root"));
  ASSERT_TRUE(server.start().ok());

  HttpTestClient header(server.port());
  header.sendRaw("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4096, 'a') + "\r\n\r\n");
  EXPECT_THAT(header.readUntilClosed(), StartsWith("HTTP/1.1 431"));

  HttpTestClient body(server.port());
  body.sendRaw("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" +
               std::string(1000, 'b'));
  EXPECT_THAT(body.readUntilClosed(), StartsWith("HTTP/1.1 413"));
}

TEST(HttpServer, SlowClientIsCutOffAfterReadTimeout) {
  ServerOptions options = loopback();
  options.readTimeout = 300ms;
  HttpServer server(options);
  server.handle("", "/", echo("root"));
  ASSERT_TRUE(server.start().ok());

  HttpTestClient slow(server.port());
  const auto start = std::chrono::steady_clock::now();
  slow.sendRaw("GET / HTTP/1.1\r\nHost: x\r\n");  // never finishes the header
  EXPECT_EQ(slow.readUntilClosed(), "");
  const auto held = std::chrono::steady_clock::now() - start;
  EXPECT_GE(held, 250ms);
  EXPECT_LT(held, 3s);

  // Meanwhile and afterwards the server still answers others.
  EXPECT_EQ(httpRequest(server.port(), "GET", "/").status, 200);
}

TEST(HttpServer, IdleKeepAliveConnectionIsClosedAfterReadTimeout) {
  ServerOptions options = loopback();
  options.readTimeout = 200ms;
  HttpServer server(options);
  server.handle("", "/", echo("root"));
  ASSERT_TRUE(server.start().ok());
  HttpTestClient client(server.port());
  EXPECT_EQ(client.request("GET", "/").status, 200);
  EXPECT_EQ(client.readUntilClosed(), "");
}

TEST(HttpServer, ServesConcurrentClients) {
  HttpServer server(loopback());
  std::atomic<int> inFlight{0};
  std::atomic<int> maxInFlight{0};
  server.handle("GET", "/work", [&](const Request& request) {
    const int now = ++inFlight;
    int seen = maxInFlight.load();
    while (now > seen && !maxInFlight.compare_exchange_weak(seen, now)) {
    }
    std::this_thread::sleep_for(5ms);
    --inFlight;
    return Response::text(200, request.query);
  });
  ASSERT_TRUE(server.start().ok());

  constexpr int kClients = 8;
  constexpr int kRequests = 15;
  std::vector<std::future<int>> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.push_back(std::async(std::launch::async, [&, c] {
      HttpTestClient client(server.port());
      int ok = 0;
      for (int i = 0; i < kRequests; ++i) {
        const std::string query = std::to_string(c) + "-" + std::to_string(i);
        auto reply = client.request("GET", "/work?" + query);
        if (reply.status == 200 && reply.body == query) ++ok;
      }
      return ok;
    }));
  }
  int total = 0;
  for (auto& client : clients) total += client.get();
  EXPECT_EQ(total, kClients * kRequests);
  // Two server threads: requests really ran side by side.
  EXPECT_GE(maxInFlight.load(), 2);
}

TEST(HttpServer, ConnectionLimitShedsExtraConnections) {
  ServerOptions options = loopback();
  options.maxConnections = 2;
  HttpServer server(options);
  server.handle("", "/", echo("root"));
  ASSERT_TRUE(server.start().ok());
  HttpTestClient a(server.port());
  HttpTestClient b(server.port());
  EXPECT_EQ(a.request("GET", "/").status, 200);
  EXPECT_EQ(b.request("GET", "/").status, 200);
  HttpTestClient c(server.port());
  EXPECT_EQ(c.readUntilClosed(), "");
}

TEST(HttpServer, RoutesAddedAfterStartAreServed) {
  HttpServer server(loopback());
  ASSERT_TRUE(server.start().ok());
  EXPECT_EQ(httpRequest(server.port(), "GET", "/late").status, 404);
  server.handle("GET", "/late", echo("late"));
  EXPECT_EQ(httpRequest(server.port(), "GET", "/late").status, 200);
}

TEST(HttpServer, StopIsPromptWithOpenConnections) {
  HttpServer server(loopback());
  server.handle("", "/", echo("root"));
  ASSERT_TRUE(server.start().ok());
  const uint16_t port = server.port();

  // An idle kept-alive connection and a half-sent request must not hold stop().
  HttpTestClient idle(port);
  EXPECT_EQ(idle.request("GET", "/").status, 200);
  HttpTestClient partial(port);
  partial.sendRaw("GET / HTTP/1.1\r\nHost: x\r\n");
  std::this_thread::sleep_for(50ms);

  const auto start = std::chrono::steady_clock::now();
  server.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  EXPECT_FALSE(server.running());
  EXPECT_EQ(idle.readUntilClosed(), "");
  EXPECT_EQ(partial.readUntilClosed(), "");

  boost::asio::io_context ioc;
  boost::asio::ip::tcp::socket socket(ioc);
  boost::system::error_code ec;
  socket.connect({boost::asio::ip::make_address("127.0.0.1"), port}, ec);
  EXPECT_TRUE(ec) << "the listener is closed";
  server.stop();  // idempotent
}

TEST(HttpServer, StopWaitsForRunningHandler) {
  HttpServer server(loopback());
  std::promise<void> entered;
  std::atomic<bool> finished{false};
  server.handle("GET", "/slow", [&](const Request&) {
    entered.set_value();
    std::this_thread::sleep_for(200ms);
    finished = true;
    return Response::text(200, "done");
  });
  ASSERT_TRUE(server.start().ok());
  auto reply =
      std::async(std::launch::async, [&] { return httpRequest(server.port(), "GET", "/slow"); });
  entered.get_future().wait();
  server.stop();
  EXPECT_TRUE(finished);
  // The in-flight request got its answer before the connection closed.
  EXPECT_EQ(reply.get().status, 200);
}

TEST(HttpServer, DispatchWithoutSocket) {
  HttpServer server(loopback());
  server.handle("GET", "/x", echo("x"));
  Request request;
  request.method = "GET";
  request.path = "/x/y";
  EXPECT_EQ(server.dispatch(request).body, "x GET /x/y ?");
}

}  // namespace
}  // namespace relops::server
