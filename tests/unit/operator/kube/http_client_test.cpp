// HttpClient without an API server: what fails before or instead of a
// response. Responses from a real API server are tested in
// tests/e2e/kube_client_test.cpp.
#include "operator/kube/http_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mutex>

namespace relops::kube {
namespace {

using base::ErrorKind;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

struct Recorded {
  std::string method;
  std::string host;
  int code;
};

class RecordingObserver final : public RequestObserver {
 public:
  void onRequest(std::string_view method, std::string_view host, int code,
                 std::chrono::duration<double>) override {
    std::lock_guard lock(mutex_);
    requests_.push_back({std::string(method), std::string(host), code});
  }
  std::vector<Recorded> requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  std::mutex mutex_;
  std::vector<Recorded> requests_;
};

// A loopback port with nothing listening: bind, read the port, close.
int unusedPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

// A loopback socket that listens but never accepts: the kernel completes
// the TCP handshake, then nothing ever answers.
class SilentServer {
 public:
  SilentServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address);
    ::listen(fd_, 16);
    socklen_t length = sizeof address;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
  }
  ~SilentServer() { ::close(fd_); }
  std::string url(const char* scheme) const {
    return std::string(scheme) + "://127.0.0.1:" + std::to_string(port_);
  }

 private:
  int fd_;
  int port_;
};

TEST(HttpClientTest, RequestTimeoutIsTransient) {
  SilentServer server;
  for (const char* scheme : {"http", "https"}) {
    auto client = HttpClient::create(
        ClientConfig{.server = server.url(scheme), .insecureSkipTlsVerify = true},
        {.requestTimeout = 300ms});
    ASSERT_TRUE(client.ok()) << client.error().message();
    const auto start = std::chrono::steady_clock::now();
    const Result<Json> result = (*client)->getRaw("/version");
    EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().kind(), ErrorKind::kTransient) << scheme;
    EXPECT_THAT(result.error().message(), HasSubstr("timed out after 0.3 s")) << scheme;

    const auto watch = (*client)->watch(resources::kConfigMaps, "", {});
    ASSERT_FALSE(watch.ok());
    EXPECT_THAT(watch.error().message(), HasSubstr("timed out")) << scheme;
  }
}

TEST(HttpClientTest, CreateRejectsABadServerUrl) {
  const auto client = HttpClient::create(ClientConfig{.server = "api:6443", .source = "test"});
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.error().kind(), ErrorKind::kConfig);
  EXPECT_THAT(client.error().message(), HasSubstr("api:6443"));
}

TEST(HttpClientTest, CreateRejectsACaWithoutCertificates) {
  const auto client = HttpClient::create(
      ClientConfig{.server = "https://h", .caPem = "not a pem", .source = "kubeconfig x"});
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.error().kind(), ErrorKind::kConfig);
  EXPECT_THAT(client.error().message(), HasSubstr("certificate authority"));
  EXPECT_THAT(client.error().message(), HasSubstr("kubeconfig x"));
}

TEST(HttpClientTest, CreateRejectsABadClientCertificate) {
  const auto client = HttpClient::create(ClientConfig{.server = "https://h",
                                                      .clientCertificatePem = "garbage",
                                                      .clientKeyPem = "garbage",
                                                      .source = "kubeconfig x"});
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.error().kind(), ErrorKind::kConfig);
  EXPECT_THAT(client.error().message(), HasSubstr("client certificate"));
}

TEST(HttpClientTest, ConnectionRefusedIsTransientAndObservedAsCodeZero) {
  const std::string server = "https://127.0.0.1:" + std::to_string(unusedPort());
  auto observer = std::make_shared<RecordingObserver>();
  auto client = HttpClient::create(ClientConfig{.server = server, .insecureSkipTlsVerify = true},
                                   {.requestTimeout = 5s, .observer = observer});
  ASSERT_TRUE(client.ok()) << client.error().message();
  const Result<Json> result = (*client)->get(resources::kConfigMaps, {"default", "a"});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().kind(), ErrorKind::kTransient);
  EXPECT_THAT(result.error().message(), HasSubstr("cannot connect"));
  const auto requests = observer->requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[0].host, server.substr(8));
  EXPECT_EQ(requests[0].code, 0);

  const auto watch = (*client)->watch(resources::kConfigMaps, "default", {});
  ASSERT_FALSE(watch.ok());
  EXPECT_EQ(watch.error().kind(), ErrorKind::kTransient);
}

TEST(HttpClientTest, NamespacedCreateNeedsANamespace) {
  auto client = HttpClient::create(ClientConfig{.server = "http://127.0.0.1:1"});
  ASSERT_TRUE(client.ok());
  const Result<Json> result =
      (*client)->create(resources::kConfigMaps, Json{{"metadata", {{"name", "a"}}}});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().kind(), ErrorKind::kBadRequest);
  EXPECT_THAT(result.error().message(), HasSubstr("metadata.namespace"));
}

}  // namespace
}  // namespace relops::kube
