// HTTPS on the HTTP server: a generated self-signed certificate, certificates
// from a directory, the metrics route behind the bearer-token filter, and a
// plain-HTTP client refused by a TLS listener.
#include "operator/server/tls.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "operator/base/digest.h"
#include "operator/runtime/metrics.h"
#include "operator/server/certificate_watcher.h"
#include "operator/server/http_server.h"
#include "operator/server/standard_routes.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/operator/server/fake_access_reviewer.h"
#include "tests/unit/operator/server/http_test_client.h"

namespace relops::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

struct TlsReply {
  int status = 0;
  std::string body;
};

// A GET over TLS that verifies the server against `caPem` for host "localhost".
TlsReply httpsGet(uint16_t port, const std::string& caPem, const std::string& target,
                  const std::string& authorization = "") {
  asio::io_context ioc;
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  ctx.add_certificate_authority(asio::buffer(caPem));
  ctx.set_verify_mode(asio::ssl::verify_peer);
  beast::ssl_stream<beast::tcp_stream> stream(ioc, ctx);
  stream.set_verify_callback(asio::ssl::host_name_verification("localhost"));
  beast::get_lowest_layer(stream).connect({asio::ip::make_address("127.0.0.1"), port});
  stream.handshake(asio::ssl::stream_base::client);
  http::request<http::string_body> request{http::verb::get, target, 11};
  request.set(http::field::host, "localhost");
  if (!authorization.empty()) request.set(http::field::authorization, authorization);
  http::write(stream, request);
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  http::read(stream, buffer, response);
  return {static_cast<int>(response.result_int()), response.body()};
}

TEST(Tls, SelfSignedCertificateServesHttpsToVerifyingClients) {
  auto certificate = generateSelfSignedCertificate({"localhost", "127.0.0.1"});
  ASSERT_TRUE(certificate.ok()) << certificate.error().describe();
  EXPECT_THAT(certificate->certificatePem, ::testing::HasSubstr("BEGIN CERTIFICATE"));
  EXPECT_THAT(certificate->privateKeyPem, ::testing::HasSubstr("PRIVATE KEY"));

  ServerOptions options;
  options.bindAddress = "127.0.0.1:0";
  options.tls = *certificate;
  HttpServer server(options);
  server.handle("GET", "/hello", [](const Request&) { return Response::text(200, "hi"); });
  ASSERT_TRUE(server.start().ok());

  const TlsReply reply = httpsGet(server.port(), certificate->certificatePem, "/hello");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, "hi");

  // A plain-HTTP client gets no answer from a TLS listener.
  relops::testing::HttpTestClient plain(server.port());
  plain.sendRaw("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_THAT(plain.readUntilClosed(), ::testing::Not(::testing::HasSubstr("200")));
}

TEST(Tls, EachGeneratedCertificateIsNew) {
  auto a = generateSelfSignedCertificate({"localhost"});
  auto b = generateSelfSignedCertificate({"localhost"});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->privateKeyPem, b->privateKeyPem);
}

TEST(Tls, CertificatesFromADirectory) {
  relops::testing::TempDir dir;
  EXPECT_EQ(loadTlsCertificate(dir.path().string()).error().kind(), base::ErrorKind::kConfig);
  auto generated = generateSelfSignedCertificate({"localhost"});
  ASSERT_TRUE(generated.ok());
  dir.write("tls.crt", generated->certificatePem);
  dir.write("tls.key", generated->privateKeyPem);
  auto loaded = loadTlsCertificate(dir.path().string());
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->certificatePem, generated->certificatePem);
}

TEST(Tls, AnInvalidCertificateFailsStart) {
  ServerOptions options;
  options.bindAddress = "127.0.0.1:0";
  options.tls = TlsCertificate{"not a certificate", "not a key"};
  HttpServer server(options);
  base::Result<void> started = server.start();
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.error().kind(), base::ErrorKind::kConfig);
}

TEST(Tls, SecureMetricsOverHttps) {
  auto certificate = generateSelfSignedCertificate({"localhost"});
  ASSERT_TRUE(certificate.ok());
  relops::testing::FakeAccessReviewer reviewer;
  reviewer.addToken("reader", {"reader", "", {}, {}});
  reviewer.addToken("tenant", {"tenant", "", {}, {}});
  AccessAttributes metrics;
  metrics.verb = "get";
  metrics.nonResourcePath = "/metrics";
  reviewer.allow("reader", metrics);

  runtime::Registry registry{runtime::Registry::ProcessMetrics::kExclude};
  registry.counter("relops_test_total", "A test counter", {}).with({}).inc();
  ServerOptions options;
  options.bindAddress = "127.0.0.1:0";
  options.tls = *certificate;
  HttpServer server(options);
  addMetricsRoute(server, registry, &reviewer);
  ASSERT_TRUE(server.start().ok());

  const std::string& ca = certificate->certificatePem;
  EXPECT_EQ(httpsGet(server.port(), ca, "/metrics").status, 401);
  EXPECT_EQ(httpsGet(server.port(), ca, "/metrics", "Bearer wrong").status, 401);
  EXPECT_EQ(httpsGet(server.port(), ca, "/metrics", "Bearer tenant").status, 403);
  const TlsReply allowed = httpsGet(server.port(), ca, "/metrics", "Bearer reader");
  EXPECT_EQ(allowed.status, 200);
  EXPECT_THAT(allowed.body, ::testing::HasSubstr("relops_test_total 1"));
}

// The handshake succeeds when the client trusts `caPem`.
bool trusts(uint16_t port, const std::string& caPem) {
  try {
    return httpsGet(port, caPem, "/hello").status == 200;
  } catch (const std::exception&) {
    return false;
  }
}

TEST(Tls, RotatedCertificateIsServedWithoutARestart) {
  auto first = generateSelfSignedCertificate({"localhost"});
  auto second = generateSelfSignedCertificate({"localhost"});
  ASSERT_TRUE(first.ok() && second.ok());
  relops::testing::TempDir dir;
  dir.write("tls.crt", first->certificatePem);
  dir.write("tls.key", first->privateKeyPem);

  ServerOptions options;
  options.bindAddress = "127.0.0.1:0";
  options.tls = *first;
  HttpServer server(options);
  server.handle("GET", "/hello", [](const Request&) { return Response::text(200, "hi"); });
  ASSERT_TRUE(server.start().ok());
  // A long interval: the test polls by hand.
  CertificateWatcher watcher(server, dir.path().string(), *first, std::chrono::hours(1));
  EXPECT_FALSE(watcher.poll());  // unchanged
  EXPECT_TRUE(trusts(server.port(), first->certificatePem));

  // Half a rotation (a key that does not match): the old pair stays.
  dir.write("tls.crt", second->certificatePem);
  EXPECT_FALSE(watcher.poll());
  EXPECT_TRUE(trusts(server.port(), first->certificatePem));

  dir.write("tls.key", second->privateKeyPem);
  EXPECT_TRUE(watcher.poll());
  EXPECT_TRUE(trusts(server.port(), second->certificatePem));
  EXPECT_FALSE(trusts(server.port(), first->certificatePem));
}

TEST(Tls, ReloadingAPlainServerIsAConfigError) {
  ServerOptions options;
  options.bindAddress = "127.0.0.1:0";
  HttpServer server(options);
  auto certificate = generateSelfSignedCertificate({"localhost"});
  ASSERT_TRUE(certificate.ok());
  EXPECT_EQ(server.reloadCertificate(*certificate).error().kind(), base::ErrorKind::kConfig);
}

TEST(Hashes, Sha256AndHmacKnownAnswers) {
  // FIPS 180-2 and RFC 4231 test case 2.
  EXPECT_EQ(base::sha256Hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(base::hmacSha256Hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

}  // namespace
}  // namespace relops::server
