// The operator's one HTTP server: /metrics, /healthz, /readyz and the
// calendar feeds. HTTP/1.1 with keep-alive on Boost.Beast, over TLS when
// ServerOptions::tls is set; Beast and Asio's SSL stay
// in http_server.cpp (pimpl) so including this header costs nothing.
//
// Routes are prefixes: "/healthz" matches "/healthz" and "/healthz/ping", a
// route ending in "/" ("/calendars/") matches everything below it. The longest
// matching prefix wins. Handlers run on the server's own threads and must be
// quick and thread-safe; they never see Beast types.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "operator/base/result.h"
#include "operator/runtime/log.h"
#include "operator/server/tls.h"

namespace relops::server {

struct Request {
  std::string method;  // "GET", "HEAD", ... as sent
  std::string path;    // percent-decoded, without the query: "/calendars/team-a/primary.ics"
  std::string query;   // raw, without '?': "verbose&exclude=informers"
  std::map<std::string, std::string> headers;  // names lower-cased; repeats joined with ", "
  std::string body;

  // A header's value, or "" (name in any case).
  std::string header(std::string_view name) const;
  // Query parameters decoded ('+' is a space), in order; a bare key has value "".
  std::vector<std::pair<std::string, std::string>> queryParams() const;
  bool hasQueryParam(std::string_view name) const;
  // The first value of a query parameter.
  std::optional<std::string> queryParam(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string contentType = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers

  static Response text(int status, std::string body);
};

using Handler = std::function<Response(const Request&)>;

struct ServerOptions {
  // kubebuilder's flag syntax: ":8080" all interfaces, "127.0.0.1:0" a free
  // port on loopback (port() reports it), "[::1]:8080", "0" disables.
  std::string bindAddress = ":8080";
  std::string name = "http";  // for logs: "metrics", "probes"
  // Serve HTTPS (TLS 1.2 or later) with this certificate; plain HTTP when absent.
  std::optional<TlsCertificate> tls;
  int threads = 2;  // a slow handler must not stall a probe
  size_t maxHeaderBytes = 16 * 1024;
  size_t maxBodyBytes = 64 * 1024;  // nothing relops serves accepts big bodies
  size_t maxConnections = 256;      // beyond this new connections are closed at once
  // Time to read a whole request (and the idle time allowed between requests
  // on a kept-alive connection), so a slow or silent client cannot hold a
  // connection (Go's http.Server ReadTimeout / IdleTimeout).
  std::chrono::milliseconds readTimeout{10'000};
  std::chrono::milliseconds writeTimeout{10'000};
  // How long stop() lets in-flight handlers finish before abandoning the loop.
  std::chrono::milliseconds shutdownTimeout{2'000};
};

// A parsed bind address; std::nullopt from parseBindAddress means disabled.
struct BindAddress {
  std::string host;  // "" = all interfaces
  uint16_t port = 0;
};
base::Result<std::optional<BindAddress>> parseBindAddress(std::string_view address);

class HttpServer {
 public:
  explicit HttpServer(ServerOptions options, runtime::Logger log = runtime::discardLogger());
  ~HttpServer();  // stops
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Adds a route; "" as method matches any method, and a GET route also
  // answers HEAD. Safe to call before or after start().
  void handle(std::string method, std::string pathPrefix, Handler handler);

  // Binds and starts serving on the server's threads. A disabled server
  // ("0") starts as a no-op. Fails with kConfig on a bad address or when the
  // port cannot be bound. Call at most once.
  base::Result<void> start();
  // Closes the listener and every connection, lets running handlers finish
  // (bounded by shutdownTimeout) and joins the threads. Idempotent.
  void stop();

  // Serves `certificate` to connections accepted from now on (a rotated
  // certificate); the old one stays if this one is invalid. kConfig for a
  // server without TLS.
  base::Result<void> reloadCertificate(const TlsCertificate& certificate);

  bool enabled() const;
  bool running() const;
  // The port actually bound (the free port picked for ":0"); 0 before start.
  uint16_t port() const;

  // Routes a request as the server would, without a socket (for handlers' tests).
  Response dispatch(const Request& request) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Decodes %XX escapes (and '+' as a space when `plusIsSpace`); nullopt on a
// malformed escape.
std::optional<std::string> percentDecode(std::string_view text, bool plusIsSpace = false);

}  // namespace relops::server
