#include "operator/kube/http_client.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <deque>
#include <mutex>
#include <optional>
#include <variant>
#include <vector>

#include "operator/kube/api_error.h"
#include "operator/kube/exec_credential.h"
#include "operator/kube/rate_limiter.h"
#include "operator/kube/url.h"
#include "operator/kube/watch_parser.h"

namespace relops::kube {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using base::Error;
using base::ErrorKind;
using ErrorCode = boost::system::error_code;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// Read size for watch bodies: small enough that an event is handed over as
// soon as its bytes arrive, large enough not to spin on big objects.
constexpr size_t kWatchReadSize = 64 * 1024;
constexpr uint32_t kMaxHeaderBytes = 64 * 1024;

std::string seconds(std::chrono::nanoseconds duration) {
  const double value = std::chrono::duration<double>(duration).count();
  char text[32];
  std::snprintf(text, sizeof text, "%g s", value);
  return text;
}

std::string openSslErrors() {
  std::string text;
  while (const unsigned long code = ERR_get_error()) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof buffer);
    text += (text.empty() ? "" : "; ") + std::string(buffer);
  }
  return text.empty() ? "unknown OpenSSL error" : text;
}

// Every PEM certificate in `pem` goes into the context's trust store
// (a kubeconfig CA bundle may hold several, e.g. during CA rotation).
Result<void> addCertificateAuthorities(ssl::context& context, const std::string& pem) {
  ERR_clear_error();
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  X509_STORE* store = SSL_CTX_get_cert_store(context.native_handle());
  int added = 0;
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    X509_STORE_add_cert(store, cert);  // takes its own reference
    X509_free(cert);
    ++added;
  }
  ERR_clear_error();  // the loop ends on a "no start line" error by design
  if (added == 0) {
    return Error(ErrorKind::kConfig, "certificate authority: no PEM certificate found");
  }
  return {};
}

Result<std::shared_ptr<ssl::context>> buildTlsContext(const ClientConfig& config,
                                                      const std::string& certPem,
                                                      const std::string& keyPem) {
  auto context = std::make_shared<ssl::context>(ssl::context::tls_client);
  SSL_CTX* native = context->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  // HTTP/1.1 only: the API server would otherwise pick h2, which Beast does not speak.
  static constexpr unsigned char kAlpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  SSL_CTX_set_alpn_protos(native, kAlpn, sizeof kAlpn);
  ErrorCode ec;
  if (config.insecureSkipTlsVerify) {
    context->set_verify_mode(ssl::verify_none);
  } else {
    context->set_verify_mode(ssl::verify_peer);
    if (config.caPem.empty()) {
      context->set_default_verify_paths(ec);
      if (ec) {
        return Error(ErrorKind::kConfig,
                     "cannot load the system's trusted certificates: " + ec.message());
      }
    } else if (Result<void> added = addCertificateAuthorities(*context, config.caPem);
               !added.ok()) {
      return std::move(added).error();
    }
  }
  if (!certPem.empty()) {
    ERR_clear_error();
    context->use_certificate_chain(asio::buffer(certPem), ec);
    if (ec) return Error(ErrorKind::kConfig, "client certificate: " + ec.message());
    context->use_private_key(asio::buffer(keyPem), ssl::context::pem, ec);
    if (ec) return Error(ErrorKind::kConfig, "client key: " + ec.message());
    if (SSL_CTX_check_private_key(native) != 1) {
      return Error(ErrorKind::kConfig,
                   "client key does not match the client certificate: " + openSslErrors());
    }
  }
  return context;
}

// One connection with its own io_context: the calling thread drives it, so
// a blocking request needs no background thread, and Beast's stream timers
// give every operation a deadline.
class Connection {
 public:
  explicit Connection(std::shared_ptr<ssl::context> tlsContext)
      : tlsContext_(std::move(tlsContext)) {
    if (tlsContext_) {
      tls_.emplace(ioc_, *tlsContext_);
    } else {
      plain_.emplace(ioc_);
    }
  }

  asio::io_context& ioc() { return ioc_; }
  beast::tcp_stream& tcp() { return tls_ ? beast::get_lowest_layer(*tls_) : *plain_; }
  TlsStream* tls() { return tls_ ? &*tls_ : nullptr; }
  beast::flat_buffer& buffer() { return buffer_; }
  const std::shared_ptr<ssl::context>& tlsContext() const { return tlsContext_; }

  template <typename Operation>
  auto withStream(Operation&& operation) {
    if (tls_) return operation(*tls_);
    return operation(*plain_);
  }

  // Starts one asynchronous operation and runs this connection's io_context
  // until it (and anything posted meanwhile, such as a stop) has completed.
  template <typename Initiate>
  ErrorCode run(Initiate&& initiate) {
    ErrorCode result = asio::error::operation_aborted;
    initiate([&result](ErrorCode ec, auto&&...) { result = ec; });
    ioc_.restart();
    ioc_.run();
    return result;
  }

  // Closes the socket from any thread; a blocked operation then completes
  // with operation_aborted.
  void abortFromAnyThread() {
    asio::post(ioc_, [this] {
      ErrorCode ignored;
      tcp().socket().shutdown(tcp::socket::shutdown_both, ignored);
      tcp().socket().close(ignored);
    });
  }

  // True when the peer closed the idle connection (or sent something
  // unasked): it must not carry the next request.
  bool peerClosed() {
    if (!tcp().socket().is_open()) return true;
    pollfd fd{tcp().socket().native_handle(), POLLIN, 0};
    return ::poll(&fd, 1, 0) != 0;
  }

  std::chrono::steady_clock::time_point idleSince;
  bool reused = false;

 private:
  // Declared first, destroyed last: the streams and handlers still
  // queued on it go before it.
  asio::io_context ioc_;
  std::shared_ptr<ssl::context> tlsContext_;
  std::optional<beast::tcp_stream> plain_;
  std::optional<TlsStream> tls_;
  beast::flat_buffer buffer_;
};

bool isTimeout(const ErrorCode& ec) { return ec == beast::error::timeout; }

// A reused keep-alive connection the server had already closed fails like
// this, before any byte of the response arrives.
bool isStaleConnection(const ErrorCode& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == ssl::error::stream_truncated || ec == http::error::partial_message;
}

struct Call {
  http::verb verb;
  std::string target;  // path and query, below the server's path prefix
  std::string body;
  std::string contentType;
  // Safe to send twice: a GET, PUT or DELETE may be retried on a fresh
  // connection when a reused one turns out dead after sending.
  bool idempotent() const {
    return verb == http::verb::get || verb == http::verb::put || verb == http::verb::delete_;
  }
};

struct Response {
  int status = 0;
  std::string body;
  std::optional<std::string> retryAfter;
};

// Failure of one exchange: the Error, and whether a fresh connection may
// try again.
struct ExchangeFailure {
  Error error;
  bool retryable = false;
};

std::string describe(const Call& call) {
  const size_t query = call.target.find('?');
  return std::string(http::to_string(call.verb)) + " " + call.target.substr(0, query);
}

}  // namespace

struct HttpClient::Impl {
  ClientConfig config;
  ServerUrl url;
  std::string host;  // for the observer: host[:port]
  HttpClientOptions options;
  std::shared_ptr<const base::Clock> clock;
  std::shared_ptr<CredentialSource> credentials;
  TokenBucket limiter;

  std::mutex observerMutex;
  std::shared_ptr<RequestObserver> observer;

  // TLS context: the configured one, or one rebuilt when an exec plugin
  // hands out a new client certificate. Connections made with an older
  // context are dropped rather than reused.
  std::mutex tlsMutex;
  std::shared_ptr<ssl::context> tlsContext;
  std::string tlsCertPem;
  std::string tlsKeyPem;

  std::mutex poolMutex;
  std::vector<std::unique_ptr<Connection>> idle;
  std::atomic<uint64_t> connectionsOpened{0};

  Impl(ClientConfig config_, ServerUrl url_, HttpClientOptions options_,
       std::shared_ptr<const base::Clock> clock_, std::shared_ptr<CredentialSource> credentials_)
      : config(std::move(config_)),
        url(std::move(url_)),
        host(url.authority()),
        options(std::move(options_)),
        clock(std::move(clock_)),
        credentials(std::move(credentials_)),
        limiter(options.qps, options.burst, clock),
        observer(options.observer) {}

  void observe(const Call& call, int code, std::chrono::steady_clock::time_point start) {
    std::shared_ptr<RequestObserver> current;
    {
      std::lock_guard lock(observerMutex);
      current = observer;
    }
    if (!current) return;
    current->onRequest(http::to_string(call.verb), host, code,
                       std::chrono::duration<double>(std::chrono::steady_clock::now() - start));
  }

  Result<Credentials> currentCredentials() {
    if (!credentials) return Credentials{};
    return credentials->current();
  }

  Result<std::shared_ptr<ssl::context>> contextFor(const Credentials& credentials_) {
    if (!url.tls) return std::shared_ptr<ssl::context>();
    const std::string& cert = credentials_.clientCertificatePem.empty()
                                  ? config.clientCertificatePem
                                  : credentials_.clientCertificatePem;
    const std::string& key =
        credentials_.clientKeyPem.empty() ? config.clientKeyPem : credentials_.clientKeyPem;
    std::lock_guard lock(tlsMutex);
    if (!tlsContext || cert != tlsCertPem || key != tlsKeyPem) {
      Result<std::shared_ptr<ssl::context>> built = buildTlsContext(config, cert, key);
      if (!built.ok()) return Error(built.error()).context(config.source);
      tlsContext = std::move(built).value();
      tlsCertPem = cert;
      tlsKeyPem = key;
    }
    return tlsContext;
  }

  std::unique_ptr<Connection> takeIdle(const std::shared_ptr<ssl::context>& context) {
    std::lock_guard lock(poolMutex);
    const auto now = std::chrono::steady_clock::now();
    while (!idle.empty()) {
      std::unique_ptr<Connection> connection = std::move(idle.back());
      idle.pop_back();
      if (connection->tlsContext() == context &&
          now - connection->idleSince < options.idleConnectionTimeout &&
          !connection->peerClosed()) {
        connection->reused = true;
        return connection;
      }
    }
    return nullptr;
  }

  void giveBack(std::unique_ptr<Connection> connection) {
    connection->idleSince = std::chrono::steady_clock::now();
    std::lock_guard lock(poolMutex);
    if (idle.size() < options.maxIdleConnections) idle.push_back(std::move(connection));
  }

  // Resolve, connect and (for https) handshake, verifying the server.
  Result<std::unique_ptr<Connection>> connect(const std::shared_ptr<ssl::context>& context,
                                              std::chrono::steady_clock::time_point deadline) {
    auto connection = std::make_unique<Connection>(context);
    ++connectionsOpened;
    const std::string where = (url.tls ? "https://" : "http://") + host;
    ErrorCode ec;
    std::vector<tcp::endpoint> endpoints;
    const asio::ip::address address = asio::ip::make_address(url.host, ec);
    if (!ec) {
      endpoints.emplace_back(address, static_cast<uint16_t>(std::stoi(url.port)));
    } else {
      // Synchronous on purpose: asynchronous resolution would start a
      // helper thread per connection's io_context.
      tcp::resolver resolver(connection->ioc());
      const auto results = resolver.resolve(url.host, url.port, ec);
      if (ec) {
        return Error(ErrorKind::kTransient, "cannot resolve " + url.host + ": " + ec.message());
      }
      for (const auto& entry : results) endpoints.push_back(entry.endpoint());
    }
    connection->tcp().expires_at(deadline);
    ec = connection->run([&](auto handler) {
      connection->tcp().async_connect(endpoints,
                                      [handler](ErrorCode e, const tcp::endpoint&) { handler(e); });
    });
    if (ec) {
      if (isTimeout(ec)) {
        return Error(ErrorKind::kTransient, "timed out after " + seconds(options.requestTimeout) +
                                                " connecting to " + where);
      }
      Error error(ErrorKind::kTransient, "cannot connect to " + where + ": " + ec.message());
      // The reflector retries a refused watch without relisting (client-go).
      if (ec == boost::asio::error::connection_refused)
        error.withReason(base::kReasonConnectionRefused);
      return error;
    }
    connection->tcp().socket().set_option(tcp::no_delay(true), ec);
    if (TlsStream* tls = connection->tls()) {
      if (Result<void> r = handshake(*connection, *tls, where); !r.ok()) {
        return std::move(r).error();
      }
    }
    return connection;
  }

  Result<void> handshake(Connection& connection, TlsStream& tls, const std::string& where) {
    SSL* native = tls.native_handle();
    // tls-server-name replaces the URL's host both in SNI and in the check,
    // as Go's tls.Config.ServerName does.
    const std::string& name = config.tlsServerName.empty() ? url.host : config.tlsServerName;
    ErrorCode ec;
    asio::ip::make_address(name, ec);
    const bool isAddress = !ec;
    if (!isAddress) {
      // SNI carries host names only (RFC 6066 §3).
      // SSL_set_tlsext_host_name, without the macro's C-style cast.
      SSL_ctrl(native, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
               const_cast<char*>(name.c_str()));
    }
    if (!config.insecureSkipTlsVerify) {
      X509_VERIFY_PARAM* param = SSL_get0_param(native);
      if (isAddress) {
        X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str());
      } else {
        X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        X509_VERIFY_PARAM_set1_host(param, name.c_str(), name.size());
      }
    }
    ec = connection.run(
        [&](auto handler) { tls.async_handshake(ssl::stream_base::client, handler); });
    if (!ec) return {};
    if (isTimeout(ec)) {
      return Error(ErrorKind::kTransient, "timed out after " + seconds(options.requestTimeout) +
                                              " in the TLS handshake with " + where);
    }
    const long verify = SSL_get_verify_result(native);
    if (verify != X509_V_OK) {
      // Not transient: retrying cannot fix a CA or name that does not match.
      std::string message = "TLS handshake with " + where +
                            " failed: the server's certificate could not be verified: " +
                            X509_verify_cert_error_string(verify);
      if (verify == X509_V_ERR_HOSTNAME_MISMATCH || verify == X509_V_ERR_IP_ADDRESS_MISMATCH) {
        message += " (checked name \"" + name + "\")";
      } else {
        message += config.caPem.empty()
                       ? " (trusted: the system's certificate store)"
                       : " (trusted: the certificate authority of " + config.source + ")";
      }
      return Error(ErrorKind::kConfig, std::move(message));
    }
    return Error(ErrorKind::kTransient, "TLS handshake with " + where + " failed: " + ec.message());
  }

  http::request<http::string_body> buildRequest(const Call& call, const Credentials& creds) {
    http::request<http::string_body> request{call.verb, url.pathPrefix + call.target, 11};
    request.set(http::field::host, host);
    request.set(http::field::user_agent, options.userAgent);
    request.set(http::field::accept, "application/json");
    if (const std::string auth = creds.authorization(); !auth.empty()) {
      request.set(http::field::authorization, auth);
    }
    if (!call.body.empty() || call.verb == http::verb::post || call.verb == http::verb::put ||
        call.verb == http::verb::patch) {
      request.set(http::field::content_type, call.contentType);
      request.body() = call.body;
    }
    request.keep_alive(true);
    request.prepare_payload();
    return request;
  }

  // One request/response on a pooled or new connection.
  std::variant<Response, ExchangeFailure> exchangeOnce(
      const Call& call, const Credentials& creds, const std::shared_ptr<ssl::context>& context,
      std::chrono::steady_clock::time_point deadline, bool allowReuse) {
    std::unique_ptr<Connection> connection = allowReuse ? takeIdle(context) : nullptr;
    if (!connection) {
      Result<std::unique_ptr<Connection>> made = connect(context, deadline);
      if (!made.ok()) return ExchangeFailure{Error(made.error()).context(describe(call)), false};
      connection = std::move(made).value();
    }
    http::request<http::string_body> request = buildRequest(call, creds);
    connection->tcp().expires_at(deadline);
    ErrorCode ec = connection->run([&](auto handler) {
      connection->withStream([&](auto& stream) { http::async_write(stream, request, handler); });
    });
    const std::string where = describe(call);
    if (ec) {
      if (isTimeout(ec)) {
        return ExchangeFailure{Error(ErrorKind::kTransient, where + ": timed out after " +
                                                                seconds(options.requestTimeout)),
                               false};
      }
      // Nothing reached the server when a stale connection refuses the write.
      return ExchangeFailure{Error(ErrorKind::kTransient, where + ": sending: " + ec.message()),
                             connection->reused && isStaleConnection(ec)};
    }
    http::response_parser<http::string_body> parser;
    parser.body_limit(boost::none);  // lists of thousands of objects are many MiB
    parser.header_limit(kMaxHeaderBytes);
    ec = connection->run([&](auto handler) {
      connection->withStream(
          [&](auto& stream) { http::async_read(stream, connection->buffer(), parser, handler); });
    });
    if (ec) {
      if (isTimeout(ec)) {
        return ExchangeFailure{Error(ErrorKind::kTransient, where + ": timed out after " +
                                                                seconds(options.requestTimeout)),
                               false};
      }
      return ExchangeFailure{
          Error(ErrorKind::kTransient, where + ": reading the response: " + ec.message()),
          connection->reused && !parser.got_some() && call.idempotent() && isStaleConnection(ec)};
    }
    http::response<http::string_body> message = parser.release();
    Response response;
    response.status = static_cast<int>(message.result_int());
    if (const auto retry = message.find(http::field::retry_after); retry != message.end()) {
      response.retryAfter = std::string(retry->value());
    }
    response.body = std::move(message.body());
    if (message.keep_alive() && !parser.need_eof()) giveBack(std::move(connection));
    return response;
  }

  // The full pipeline of an ordinary request: rate limit, credentials, a
  // stale-connection retry, a 401 refresh-and-retry, the observer.
  Result<Response> send(const Call& call) {
    limiter.acquire();
    for (int attempt = 0;; ++attempt) {
      Result<Credentials> creds = currentCredentials();
      if (!creds.ok()) return Error(creds.error()).context(describe(call));
      Result<std::shared_ptr<ssl::context>> context = contextFor(*creds);
      if (!context.ok()) return std::move(context).error();
      const auto start = std::chrono::steady_clock::now();
      const auto deadline = start + options.requestTimeout;
      std::variant<Response, ExchangeFailure> outcome =
          exchangeOnce(call, *creds, *context, deadline, true);
      if (auto* failure = std::get_if<ExchangeFailure>(&outcome); failure && failure->retryable) {
        outcome = exchangeOnce(call, *creds, *context, deadline, false);
      }
      if (auto* failure = std::get_if<ExchangeFailure>(&outcome)) {
        observe(call, 0, start);
        return std::move(failure->error);
      }
      Response& response = std::get<Response>(outcome);
      observe(call, response.status, start);
      if (response.status == 401 && attempt == 0 && credentials) {
        // client-go refreshes on 401; relops also retries once when the
        // refresh produced different credentials (a rotated token file).
        credentials->invalidate(*creds);
        Result<Credentials> fresh = credentials->current();
        if (fresh.ok() && !(*fresh == *creds)) continue;
      }
      return std::move(response);
    }
  }

  Result<Json> sendJson(const Call& call) {
    Result<Response> response = send(call);
    if (!response.ok()) return std::move(response).error();
    if (response->status < 200 || response->status >= 300) {
      return errorFromResponse(response->status, response->body, response->retryAfter)
          .context(describe(call));
    }
    if (response->body.empty()) return Json::object();
    Json document = Json::parse(response->body, nullptr, /*allow_exceptions=*/false);
    if (document.is_discarded()) {
      return Error(ErrorKind::kTransient, describe(call) + ": the response is not JSON");
    }
    return document;
  }

  Result<std::unique_ptr<WatchStream>> openWatch(const Call& call, int timeoutSeconds);
};

namespace {

// A watch: its own connection, the chunked body read incrementally and cut
// into events by WatchStreamParser.
class HttpWatchStream final : public WatchStream {
 public:
  HttpWatchStream(std::unique_ptr<Connection> connection,
                  std::unique_ptr<http::response_parser<http::buffer_body>> parser)
      : connection_(std::move(connection)), parser_(std::move(parser)), chunk_(kWatchReadSize) {}

  Result<std::optional<WatchEvent>> next() override {
    while (pending_.empty()) {
      if (stopped_.load() || finished_) return std::optional<WatchEvent>();
      if (parser_->is_done()) {
        // The server ended the body (timeoutSeconds): a last line without
        // its newline still counts.
        for (Result<WatchEvent>& event : events_.finish()) pending_.push_back(std::move(event));
        finished_ = true;
        continue;
      }
      parser_->get().body().data = chunk_.data();
      parser_->get().body().size = chunk_.size();
      ErrorCode ec = connection_->run([&](auto handler) {
        connection_->withStream([&](auto& stream) {
          http::async_read_some(stream, connection_->buffer(), *parser_, handler);
        });
      });
      if (ec == http::error::need_buffer) ec = {};
      if (stopped_.load()) return std::optional<WatchEvent>();
      const size_t received = chunk_.size() - parser_->get().body().size;
      if (received > 0) {
        for (Result<WatchEvent>& event : events_.feed(std::string_view(chunk_.data(), received))) {
          pending_.push_back(std::move(event));
        }
      }
      if (ec) {
        finished_ = true;
        if (!pending_.empty()) {
          // Hand over what arrived; the failure comes after it.
          pending_.push_back(
              Error(ErrorKind::kTransient, "watch connection lost: " + ec.message()));
          break;
        }
        if (isTimeout(ec)) {
          return Error(ErrorKind::kTransient, "watch: no end of stream from the server in time");
        }
        return Error(ErrorKind::kTransient, "watch connection lost: " + ec.message());
      }
    }
    Result<WatchEvent> event = std::move(pending_.front());
    pending_.pop_front();
    if (!event.ok()) return std::move(event).error();
    return std::optional<WatchEvent>(std::move(event).value());
  }

  void stop() override {
    if (stopped_.exchange(true)) return;
    connection_->abortFromAnyThread();
  }

 private:
  std::unique_ptr<Connection> connection_;
  std::unique_ptr<http::response_parser<http::buffer_body>> parser_;
  std::vector<char> chunk_;
  WatchStreamParser events_;
  std::deque<Result<WatchEvent>> pending_;
  std::atomic<bool> stopped_{false};
  bool finished_ = false;
};

}  // namespace

Result<std::unique_ptr<WatchStream>> HttpClient::Impl::openWatch(const Call& call,
                                                                 int timeoutSeconds) {
  // Watches are not rate limited: they are long-lived and client-go exempts them.
  for (int attempt = 0;; ++attempt) {
    Result<Credentials> creds = currentCredentials();
    if (!creds.ok()) return Error(creds.error()).context(describe(call));
    Result<std::shared_ptr<ssl::context>> context = contextFor(*creds);
    if (!context.ok()) return std::move(context).error();
    const auto start = std::chrono::steady_clock::now();
    const auto deadline = start + options.requestTimeout;
    Result<std::unique_ptr<Connection>> made = connect(*context, deadline);
    if (!made.ok()) {
      observe(call, 0, start);
      return Error(made.error()).context(describe(call));
    }
    std::unique_ptr<Connection> connection = std::move(made).value();
    http::request<http::string_body> request = buildRequest(call, *creds);
    connection->tcp().expires_at(deadline);
    ErrorCode ec = connection->run([&](auto handler) {
      connection->withStream([&](auto& stream) { http::async_write(stream, request, handler); });
    });
    auto header = std::make_unique<http::response_parser<http::empty_body>>();
    header->header_limit(kMaxHeaderBytes);
    if (!ec) {
      ec = connection->run([&](auto handler) {
        connection->withStream([&](auto& stream) {
          http::async_read_header(stream, connection->buffer(), *header, handler);
        });
      });
    }
    if (ec) {
      observe(call, 0, start);
      return Error(ErrorKind::kTransient,
                   describe(call) + ": " +
                       (isTimeout(ec) ? "timed out after " + seconds(options.requestTimeout)
                                      : ec.message()));
    }
    const int status = static_cast<int>(header->get().result_int());
    observe(call, status, start);
    if (status != 200) {
      // Read the (small) Status body for the error.
      http::response_parser<http::string_body> body(std::move(*header));
      body.body_limit(1024 * 1024);
      connection->run([&](auto handler) {
        connection->withStream(
            [&](auto& stream) { http::async_read(stream, connection->buffer(), body, handler); });
      });
      if (status == 401 && attempt == 0 && credentials) {
        credentials->invalidate(*creds);
        Result<Credentials> fresh = credentials->current();
        if (fresh.ok() && !(*fresh == *creds)) continue;
      }
      std::optional<std::string> retryAfter;
      if (const auto it = body.get().find(http::field::retry_after); it != body.get().end()) {
        retryAfter = std::string(it->value());
      }
      return errorFromResponse(status, body.get().body(), retryAfter).context(describe(call));
    }
    // From here only the server's timeoutSeconds ends the stream; a guard
    // past it catches a silently dead connection.
    if (timeoutSeconds > 0) {
      connection->tcp().expires_after(std::chrono::seconds(timeoutSeconds) +
                                      options.requestTimeout);
    } else {
      connection->tcp().expires_never();
    }
    auto parser = std::make_unique<http::response_parser<http::buffer_body>>(std::move(*header));
    parser->body_limit(boost::none);  // a watch body is unbounded by design
    return std::unique_ptr<WatchStream>(
        std::make_unique<HttpWatchStream>(std::move(connection), std::move(parser)));
  }
}

Result<std::unique_ptr<HttpClient>> HttpClient::create(const ClientConfig& config,
                                                       HttpClientOptions options) {
  Result<ServerUrl> url = parseServerUrl(config.server);
  if (!url.ok()) return Error(url.error()).context(config.source);
  std::shared_ptr<const base::Clock> clock =
      options.clock ? options.clock : std::make_shared<base::SystemClock>();
  std::shared_ptr<CredentialSource> credentials = options.credentials;
  if (!credentials) {
    credentials =
        makeCredentialSource(config, CredentialOptions{
                                         .clock = clock,
                                         .tokenFileReloadPeriod = options.tokenFileReloadPeriod,
                                         .execRunner = options.execRunner,
                                         .execTimeout = options.execTimeout,
                                     });
  }
  auto impl = std::make_unique<Impl>(config, std::move(url).value(), std::move(options), clock,
                                     std::move(credentials));
  if (impl->url.tls) {
    // Build the TLS context now so a bad CA or key fails here, at startup.
    Result<std::shared_ptr<ssl::context>> context = impl->contextFor(Credentials{});
    if (!context.ok()) return std::move(context).error();
  }
  return std::unique_ptr<HttpClient>(new HttpClient(std::move(impl)));
}

HttpClient::HttpClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpClient::~HttpClient() = default;

const ClientConfig& HttpClient::config() const { return impl_->config; }

HttpClientStats HttpClient::stats() const {
  HttpClientStats stats;
  stats.connectionsOpened = impl_->connectionsOpened.load();
  std::lock_guard lock(impl_->poolMutex);
  stats.idleConnections = impl_->idle.size();
  return stats;
}

void HttpClient::setObserver(std::shared_ptr<RequestObserver> observer) {
  std::lock_guard lock(impl_->observerMutex);
  impl_->observer = std::move(observer);
}

Result<Json> HttpClient::get(const ResourceRef& resource, const ObjectKey& key) {
  return impl_->sendJson(
      Call{http::verb::get, resourcePath(resource, key.namespace_, key.name), {}, {}});
}

Result<ListPage> HttpClient::list(const ResourceRef& resource, const std::string& namespace_,
                                  const ListOptions& options) {
  Result<Json> document = impl_->sendJson(
      Call{http::verb::get, resourcePath(resource, namespace_) + listQuery(options).str(), {}, {}});
  if (!document.ok()) return std::move(document).error();
  ListPage page;
  const Json& metadata = document->contains("metadata") ? (*document)["metadata"] : Json::object();
  page.resourceVersion = metadata.value("resourceVersion", "");
  page.continueToken = metadata.value("continue", "");
  // The server leaves apiVersion and kind out of list items.
  std::string kind = resource.kind;
  if (kind.empty()) {
    kind = document->value("kind", "");
    if (kind.size() > 4 && kind.ends_with("List")) kind.resize(kind.size() - 4);
  }
  const std::string apiVersion = resource.apiVersion();
  if (auto items = document->find("items"); items != document->end() && items->is_array()) {
    page.items.reserve(items->size());
    for (Json& item : *items) {
      if (item.is_object()) {
        if (!item.contains("apiVersion")) item["apiVersion"] = apiVersion;
        if (!item.contains("kind") && !kind.empty()) item["kind"] = kind;
      }
      page.items.push_back(std::move(item));
    }
  }
  return page;
}

namespace {

Result<ObjectKey> keyOf(const ResourceRef& resource, const Json& object, std::string_view verb) {
  const auto fail = [&](const std::string& problem) {
    return Error(ErrorKind::kBadRequest,
                 std::string(verb) + " " + resource.resource + ": " + problem);
  };
  if (!object.is_object()) return fail("the object is not a JSON object");
  const auto metadata = object.find("metadata");
  if (metadata == object.end() || !metadata->is_object()) return fail("metadata is missing");
  ObjectKey key{metadata->value("namespace", ""), metadata->value("name", "")};
  if (resource.namespaced && key.namespace_.empty()) {
    return fail("metadata.namespace is required for a namespaced resource");
  }
  if (!resource.namespaced) key.namespace_.clear();
  return key;
}

}  // namespace

Result<Json> HttpClient::create(const ResourceRef& resource, const Json& object,
                                const WriteOptions& options) {
  Result<ObjectKey> key = keyOf(resource, object, "create");
  if (!key.ok()) return std::move(key).error();
  // A subresource POST (serviceaccounts/x/token) names its parent.
  const std::string path =
      options.subresource.empty()
          ? resourcePath(resource, key->namespace_)
          : resourcePath(resource, key->namespace_, key->name, options.subresource);
  return impl_->sendJson(
      Call{http::verb::post, path + writeQuery(options).str(), object.dump(), "application/json"});
}

Result<Json> HttpClient::update(const ResourceRef& resource, const Json& object,
                                const WriteOptions& options) {
  Result<ObjectKey> key = keyOf(resource, object, "update");
  if (!key.ok()) return std::move(key).error();
  if (key->name.empty()) {
    return Error(ErrorKind::kBadRequest,
                 "update " + resource.resource + ": metadata.name is missing");
  }
  return impl_->sendJson(
      Call{http::verb::put,
           resourcePath(resource, key->namespace_, key->name, options.subresource) +
               writeQuery(options).str(),
           object.dump(), "application/json"});
}

Result<Json> HttpClient::patch(const ResourceRef& resource, const ObjectKey& key, PatchType type,
                               const std::string& body, const WriteOptions& options) {
  WriteOptions effective = options;
  // Server-side apply requires a field manager.
  if (type == PatchType::kApply && effective.fieldManager.empty()) {
    effective.fieldManager = kFieldManager;
  }
  return impl_->sendJson(
      Call{http::verb::patch,
           resourcePath(resource, key.namespace_, key.name, options.subresource) +
               writeQuery(effective, type == PatchType::kApply).str(),
           body, std::string(contentType(type))});
}

Result<void> HttpClient::remove(const ResourceRef& resource, const ObjectKey& key,
                                const DeleteOptions& options) {
  Json body{{"apiVersion", "v1"}, {"kind", "DeleteOptions"}};
  if (!options.propagationPolicy.empty()) body["propagationPolicy"] = options.propagationPolicy;
  if (options.preconditionUid || options.preconditionResourceVersion) {
    Json preconditions = Json::object();
    if (options.preconditionUid) preconditions["uid"] = *options.preconditionUid;
    if (options.preconditionResourceVersion) {
      preconditions["resourceVersion"] = *options.preconditionResourceVersion;
    }
    body["preconditions"] = std::move(preconditions);
  }
  Result<Json> result =
      impl_->sendJson(Call{http::verb::delete_, resourcePath(resource, key.namespace_, key.name),
                           body.dump(), "application/json"});
  if (!result.ok()) return std::move(result).error();
  return {};
}

Result<std::unique_ptr<WatchStream>> HttpClient::watch(const ResourceRef& resource,
                                                       const std::string& namespace_,
                                                       const WatchOptions& options) {
  return impl_->openWatch(
      Call{http::verb::get, resourcePath(resource, namespace_) + watchQuery(options).str(), {}, {}},
      options.timeoutSeconds);
}

Result<Json> HttpClient::getRaw(const std::string& path) {
  return impl_->sendJson(Call{http::verb::get, path, {}, {}});
}

Result<Json> HttpClient::request(std::string_view method, const std::string& pathAndQuery,
                                 const std::string& body, std::string_view contentType) {
  const http::verb verb = http::string_to_verb(method);
  if (verb == http::verb::unknown) {
    return Error(ErrorKind::kBadRequest, "unknown HTTP method " + std::string(method));
  }
  return impl_->sendJson(Call{verb, pathAndQuery, body, std::string(contentType)});
}

}  // namespace relops::kube
