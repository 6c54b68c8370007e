#include "operator/server/http_server.h"

#include <algorithm>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <cctype>
#include <charconv>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <unordered_map>

namespace relops::server {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct Route {
  std::string method;  // "" = any
  std::string prefix;
  Handler handler;
};

// "/healthz" matches "/healthz" and "/healthz/x" but not "/healthzx"; a
// prefix ending in '/' matches its whole subtree.
bool prefixMatches(const std::string& prefix, std::string_view path) {
  if (!path.starts_with(prefix)) return false;
  if (prefix.empty() || prefix.back() == '/') return true;
  return path.size() == prefix.size() || path[prefix.size()] == '/';
}

std::string lowerCase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

base::Error configError(std::string message) {
  return base::Error(base::ErrorKind::kConfig, std::move(message));
}

class SessionBase {
 public:
  virtual ~SessionBase() = default;
  virtual void close() = 0;
};

// Everything the connections share. Member order matters for destruction:
// the session registry outlives the io_context, because sessions still
// queued in the io_context unregister themselves while it is destroyed.
class ServerCore {
 public:
  ServerCore(ServerOptions serverOptions, runtime::Logger logger)
      : options(std::move(serverOptions)),
        log(std::move(logger)),
        ioc(std::max(1, options.threads)) {}

  Response dispatch(const Request& request) const;
  base::Result<void> listen(const BindAddress& bind);
  base::Result<void> setUpTls();
  void accept();
  void startSession(tcp::socket socket);
  void closeAll();
  size_t sessionCount() {
    std::lock_guard lock(sessionsMutex);
    return sessions.size();
  }

  const ServerOptions options;
  const runtime::Logger log;

  mutable std::shared_mutex routesMutex;
  std::vector<Route> routes;

  std::mutex sessionsMutex;
  std::unordered_map<SessionBase*, std::weak_ptr<SessionBase>> sessions;

  std::atomic<bool> stopping{false};

  // Set when the server speaks TLS; replaced whole by a certificate reload.
  std::mutex sslMutex;
  std::shared_ptr<asio::ssl::context> ssl;

  asio::io_context ioc;
  tcp::acceptor acceptor{asio::make_strand(ioc)};
};

// One connection: (TLS handshake,) read a request, answer it, repeat while
// the client keeps the connection alive. All of a session's work runs on its
// own strand. Stream is beast::tcp_stream or an ssl_stream over one.
template <typename Stream>
class Session final : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
 public:
  // `context` keeps the TLS context of this connection alive (a reloaded
  // certificate replaces the server's context, not this one's).
  Session(Stream stream, ServerCore& core, std::shared_ptr<void> context = nullptr)
      : context_(std::move(context)), stream_(std::move(stream)), core_(core) {}
  ~Session() override {
    std::lock_guard lock(core_.sessionsMutex);
    core_.sessions.erase(this);
  }

  void start() {
    {
      std::lock_guard lock(core_.sessionsMutex);
      core_.sessions.emplace(this, std::weak_ptr<SessionBase>(this->weak_from_this()));
    }
    // Registered first, then the stopping check: stop() either sees this
    // session in the registry or this sees the flag.
    if constexpr (kTls) {
      asio::dispatch(stream_.get_executor(),
                     beast::bind_front_handler(&Session::handshake, this->shared_from_this()));
    } else {
      asio::dispatch(stream_.get_executor(),
                     beast::bind_front_handler(&Session::readRequest, this->shared_from_this()));
    }
  }

  // From any thread, for stop(): a connection waiting for a request closes at
  // once; one whose request is being answered closes after the answer is sent
  // (onWrite sees the stopping flag), bounded by the write timeout.
  void close() override {
    asio::post(stream_.get_executor(), [self = this->shared_from_this()] {
      if (self->reading_) self->closeSocket();
    });
  }

 private:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

  // A client that never completes the handshake is cut off like a silent one.
  void handshake() {
    if (core_.stopping) return closeSocket();
    beast::get_lowest_layer(stream_).expires_after(core_.options.readTimeout);
    reading_ = true;
    if constexpr (kTls) {
      stream_.async_handshake(
          asio::ssl::stream_base::server,
          beast::bind_front_handler(&Session::onHandshake, this->shared_from_this()));
    }
  }

  void onHandshake(beast::error_code ec) {
    reading_ = false;
    if (ec) {
      core_.log.debug("TLS handshake failed", {{"error", ec.message()}});
      return closeSocket();
    }
    readRequest();
  }

  void readRequest() {
    if (core_.stopping) return closeSocket();
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(core_.options.maxHeaderBytes));
    parser_->body_limit(core_.options.maxBodyBytes);
    // Beast's stream timeout covers the whole read, so a client trickling
    // bytes (slowloris) is cut off as surely as a silent one.
    beast::get_lowest_layer(stream_).expires_after(core_.options.readTimeout);
    reading_ = true;
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::onRead, this->shared_from_this()));
  }

  void onRead(beast::error_code ec, std::size_t /*bytes*/) {
    reading_ = false;
    if (ec) {
      if (ec == http::error::header_limit) {
        return sendError(431, "request header fields too large\n");
      }
      if (ec == http::error::body_limit) return sendError(413, "request body too large\n");
      if (ec.category() == http::make_error_code(http::error::bad_target).category() &&
          ec != http::error::end_of_stream && ec != http::error::partial_message) {
        return sendError(400, "bad request\n");
      }
      // End of stream, timeout, reset, or aborted by stop(): nothing to answer.
      return closeSocket();
    }

    const auto& message = parser_->get();
    std::optional<Request> request = toRequest(message);
    if (!request) return sendError(400, "bad request\n");

    const bool head = message.method() == http::verb::head;
    Response response = core_.dispatch(*request);
    send(std::move(response), message.version(), message.keep_alive() && !core_.stopping, head);
  }

  static std::optional<Request> toRequest(const http::request<http::string_body>& message) {
    const std::string_view target(message.target().data(), message.target().size());
    if (target.empty() || target.front() != '/') return std::nullopt;
    Request request;
    request.method = std::string(message.method_string());
    const size_t question = target.find('?');
    std::optional<std::string> path = percentDecode(target.substr(0, question));
    if (!path || path->find('\0') != std::string::npos) return std::nullopt;
    request.path = std::move(*path);
    if (question != std::string_view::npos)
      request.query = std::string(target.substr(question + 1));
    for (const auto& field : message) {
      std::string name =
          lowerCase(std::string_view(field.name_string().data(), field.name_string().size()));
      std::string value(field.value());
      auto [it, inserted] = request.headers.emplace(std::move(name), value);
      if (!inserted) it->second += ", " + value;
    }
    request.body = message.body();
    return request;
  }

  void sendError(int status, std::string body) {
    send(Response::text(status, std::move(body)), 11, false, false);
  }

  void send(Response response, unsigned version, bool keepAlive, bool head) {
    response_ = {};
    response_.version(version);
    response_.result(static_cast<unsigned>(response.status));
    response_.set(http::field::content_type, response.contentType);
    for (const auto& [name, value] : response.headers) response_.set(name, value);
    response_.keep_alive(keepAlive);
    if (head) {
      // HEAD: the headers a GET would send, no body (RFC 9110 9.3.2).
      response_.content_length(response.body.size());
    } else {
      response_.body() = std::move(response.body);
      response_.prepare_payload();
    }
    beast::get_lowest_layer(stream_).expires_after(core_.options.writeTimeout);
    http::async_write(
        stream_, response_,
        beast::bind_front_handler(&Session::onWrite, this->shared_from_this(), keepAlive));
  }

  void onWrite(bool keepAlive, beast::error_code ec, std::size_t /*bytes*/) {
    if (ec || !keepAlive || core_.stopping) return closeSocket();
    readRequest();
  }

  void closeSocket() {
    beast::error_code ignored;
    // No TLS close_notify: the client learns of the end from the TCP close,
    // as Go's http.Server does on an idle timeout.
    beast::get_lowest_layer(stream_).socket().shutdown(tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(stream_).close();
  }

  std::shared_ptr<void> context_;  // declared before stream_: outlives it
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
  bool reading_ = false;  // touched only on the strand
  ServerCore& core_;
};

Response ServerCore::dispatch(const Request& request) const {
  const bool head = request.method == "HEAD";
  Handler handler;
  bool pathMatched = false;
  std::vector<std::string> allowed;
  {
    std::shared_lock lock(routesMutex);
    size_t bestLength = 0;
    for (const Route& route : routes) {
      if (prefixMatches(route.prefix, request.path)) {
        bestLength = std::max(bestLength, route.prefix.size() + 1);
      }
    }
    // The longest matching prefix decides; among its routes, the method.
    for (const Route& route : routes) {
      if (bestLength == 0 || route.prefix.size() + 1 != bestLength ||
          !prefixMatches(route.prefix, request.path)) {
        continue;
      }
      pathMatched = true;
      const bool methodMatches =
          route.method.empty() || route.method == request.method || (head && route.method == "GET");
      if (methodMatches && (!handler || route.method == request.method)) handler = route.handler;
      if (!route.method.empty()) allowed.push_back(route.method);
    }
  }
  if (!handler) {
    if (!pathMatched) return Response::text(404, "404 page not found\n");
    std::sort(allowed.begin(), allowed.end());
    allowed.erase(std::unique(allowed.begin(), allowed.end()), allowed.end());
    std::string allow;
    for (const std::string& method : allowed) allow += (allow.empty() ? "" : ", ") + method;
    Response response = Response::text(405, "method not allowed\n");
    response.headers.emplace_back("Allow", allow);
    return response;
  }
  try {
    Response response = handler(request);
    if (response.status < 100 || response.status > 599) {
      log.error("handler returned an invalid status",
                {{"path", request.path}, {"status", int64_t{response.status}}});
      return Response::text(500, "internal server error\n");
    }
    return response;
  } catch (const std::exception& e) {
    log.error("handler failed", {{"path", request.path}, {"error", std::string(e.what())}});
  } catch (...) {
    log.error("handler failed", {{"path", request.path}});
  }
  return Response::text(500, "internal server error\n");
}

base::Result<void> ServerCore::listen(const BindAddress& bind) {
  beast::error_code ec;
  std::vector<tcp::endpoint> endpoints;
  if (bind.host.empty()) {
    // All interfaces: an IPv6 socket that also takes IPv4 (as Go's ":8080"),
    // or plain IPv4 where the host has no IPv6.
    endpoints = {tcp::endpoint(tcp::v6(), bind.port), tcp::endpoint(tcp::v4(), bind.port)};
  } else {
    const asio::ip::address address = asio::ip::make_address(bind.host, ec);
    if (!ec) {
      endpoints.emplace_back(address, bind.port);
    } else {
      tcp::resolver resolver(ioc);
      const auto results =
          resolver.resolve(bind.host, std::to_string(bind.port), tcp::resolver::passive, ec);
      if (ec) {
        return configError("cannot resolve bind address host \"" + bind.host +
                           "\": " + ec.message());
      }
      for (const auto& entry : results) endpoints.push_back(entry.endpoint());
    }
  }
  std::string firstError;
  for (const tcp::endpoint& endpoint : endpoints) {
    ec = {};
    beast::error_code ignored;
    acceptor.close(ignored);
    acceptor.open(endpoint.protocol(), ec);
    if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec && bind.host.empty() && endpoint.protocol() == tcp::v6()) {
      acceptor.set_option(asio::ip::v6_only(false), ec);
    }
    if (!ec) acceptor.bind(endpoint, ec);
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (!ec) return base::Ok{};
    if (firstError.empty()) firstError = ec.message();
  }
  acceptor.close(ec);
  const std::string shown =
      bind.host.find(':') != std::string::npos ? "[" + bind.host + "]" : bind.host;
  return configError("cannot listen on " + shown + ":" + std::to_string(bind.port) + ": " +
                     firstError);
}

void ServerCore::accept() {
  acceptor.async_accept(asio::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || stopping || !acceptor.is_open()) return;
    if (!ec) {
      if (sessionCount() >= options.maxConnections) {
        // Shedding load beats queueing it: the client retries, a probe fails fast.
        beast::error_code ignored;
        socket.close(ignored);
      } else {
        startSession(std::move(socket));
      }
    } else {
      log.debug("accept failed", {{"error", ec.message()}});
    }
    accept();
  });
}

void ServerCore::startSession(tcp::socket socket) {
  std::shared_ptr<asio::ssl::context> context;
  {
    std::lock_guard lock(sslMutex);
    context = ssl;
  }
  if (context) {
    using TlsStream = beast::ssl_stream<beast::tcp_stream>;
    std::make_shared<Session<TlsStream>>(TlsStream(std::move(socket), *context), *this, context)
        ->start();
  } else {
    std::make_shared<Session<beast::tcp_stream>>(beast::tcp_stream(std::move(socket)), *this)
        ->start();
  }
}

base::Result<std::shared_ptr<asio::ssl::context>> makeTlsContext(const std::string& server,
                                                                 const TlsCertificate& tls) {
  // Mozilla's "intermediate" profile: TLS 1.2 and later, as controller-runtime's
  // servers default to.
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  beast::error_code ec;
  context->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                           asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                           asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use,
                       ec);
  if (!ec) context->use_certificate_chain(asio::buffer(tls.certificatePem), ec);
  if (ec) return configError("server " + server + ": invalid TLS certificate: " + ec.message());
  context->use_private_key(asio::buffer(tls.privateKeyPem), asio::ssl::context::pem, ec);
  if (ec) return configError("server " + server + ": invalid TLS private key: " + ec.message());
  return context;
}

base::Result<void> ServerCore::setUpTls() {
  if (!options.tls) return base::Ok{};
  auto context = makeTlsContext(options.name, *options.tls);
  if (!context.ok()) return std::move(context).error();
  std::lock_guard lock(sslMutex);
  ssl = std::move(*context);
  return base::Ok{};
}

void ServerCore::closeAll() {
  asio::post(acceptor.get_executor(), [this] {
    beast::error_code ignored;
    acceptor.close(ignored);
  });
  std::vector<std::shared_ptr<SessionBase>> open;
  {
    std::lock_guard lock(sessionsMutex);
    for (const auto& [raw, weak] : sessions) {
      if (auto session = weak.lock()) open.push_back(std::move(session));
    }
  }
  for (const auto& session : open) session->close();
}

}  // namespace

std::string Request::header(std::string_view name) const {
  const auto it = headers.find(lowerCase(name));
  return it == headers.end() ? "" : it->second;
}

std::vector<std::pair<std::string, std::string>> Request::queryParams() const {
  std::vector<std::pair<std::string, std::string>> params;
  std::string_view rest = query;
  while (!rest.empty()) {
    const size_t amp = rest.find('&');
    const std::string_view part = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (part.empty()) continue;
    const size_t eq = part.find('=');
    std::optional<std::string> key = percentDecode(part.substr(0, eq), true);
    std::optional<std::string> value =
        eq == std::string_view::npos ? std::string() : percentDecode(part.substr(eq + 1), true);
    if (key && value) params.emplace_back(std::move(*key), std::move(*value));
  }
  return params;
}

bool Request::hasQueryParam(std::string_view name) const { return queryParam(name).has_value(); }

std::optional<std::string> Request::queryParam(std::string_view name) const {
  for (auto& [key, value] : queryParams()) {
    if (key == name) return value;
  }
  return std::nullopt;
}

Response Response::text(int status, std::string body) {
  Response response;
  response.status = status;
  response.body = std::move(body);
  return response;
}

std::optional<std::string> percentDecode(std::string_view text, bool plusIsSpace) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      const int high = hexValue(text[i + 1]);
      const int low = hexValue(text[i + 2]);
      if (high < 0 || low < 0) return std::nullopt;
      out.push_back(static_cast<char>(high * 16 + low));
      i += 2;
    } else if (c == '+' && plusIsSpace) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

base::Result<std::optional<BindAddress>> parseBindAddress(std::string_view address) {
  // kubebuilder: "0" turns the endpoint off.
  if (address == "0") return std::optional<BindAddress>();
  const size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) {
    return configError("bind address \"" + std::string(address) +
                       "\" has no port: use host:port, \":8080\" for all interfaces, or "
                       "\"0\" to disable");
  }
  std::string_view host = address.substr(0, colon);
  const std::string_view portText = address.substr(colon + 1);
  if (host.starts_with('[') && host.ends_with(']')) {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return configError("bind address \"" + std::string(address) +
                       "\": write an IPv6 host in brackets, as \"[::1]:8080\"");
  }
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(portText.data(), portText.data() + portText.size(), port);
  if (portText.empty() || ec != std::errc() || end != portText.data() + portText.size() ||
      port > 65535) {
    return configError("bind address \"" + std::string(address) + "\" has an invalid port");
  }
  return std::optional<BindAddress>(BindAddress{std::string(host), static_cast<uint16_t>(port)});
}

struct HttpServer::Impl {
  Impl(ServerOptions options, runtime::Logger log) : core(std::move(options), std::move(log)) {}
  ServerCore core;
  std::optional<BindAddress> bind;
  bool parsed = false;
  std::atomic<bool> started{false};
  std::atomic<bool> stopped{false};
  std::atomic<bool> serving{false};
  std::atomic<uint16_t> port{0};
  std::vector<std::thread> threads;
  std::mutex doneMutex;
  std::condition_variable doneCv;
  int runningThreads = 0;
};

HttpServer::HttpServer(ServerOptions options, runtime::Logger log)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(log))) {
  base::Result<std::optional<BindAddress>> bind = parseBindAddress(impl_->core.options.bindAddress);
  if (bind.ok()) {
    impl_->bind = *bind;
    impl_->parsed = true;
  }
}

HttpServer::~HttpServer() { stop(); }

void HttpServer::handle(std::string method, std::string pathPrefix, Handler handler) {
  std::unique_lock lock(impl_->core.routesMutex);
  impl_->core.routes.push_back({std::move(method), std::move(pathPrefix), std::move(handler)});
}

base::Result<void> HttpServer::start() {
  ServerCore& core = impl_->core;
  if (impl_->started.exchange(true)) {
    return base::Error(base::ErrorKind::kInternal,
                       "server " + core.options.name + " started twice");
  }
  if (!impl_->parsed) {
    base::Result<std::optional<BindAddress>> bind = parseBindAddress(core.options.bindAddress);
    return std::move(bind).error();
  }
  if (!impl_->bind) {
    core.log.info("server disabled", {{"server", core.options.name}});
    return base::Ok{};
  }
  if (base::Result<void> tls = core.setUpTls(); !tls.ok()) return tls;
  base::Result<void> listening = core.listen(*impl_->bind);
  if (!listening.ok()) return listening;
  impl_->port = core.acceptor.local_endpoint().port();
  core.accept();
  const int threads = std::max(1, core.options.threads);
  impl_->runningThreads = threads;
  for (int i = 0; i < threads; ++i) {
    impl_->threads.emplace_back([this] {
      Impl& impl = *impl_;
      while (true) {
        try {
          impl.core.ioc.run();
          break;
        } catch (const std::exception& e) {
          impl.core.log.error("server loop failed", {{"error", std::string(e.what())}});
        }
      }
      std::lock_guard lock(impl.doneMutex);
      --impl.runningThreads;
      impl.doneCv.notify_all();
    });
  }
  impl_->serving = true;
  core.log.info("serving", {{"server", core.options.name},
                            {"address", core.options.bindAddress},
                            {"tls", core.options.tls.has_value()},
                            {"port", int64_t{impl_->port}}});
  return base::Ok{};
}

void HttpServer::stop() {
  if (!impl_->started || impl_->threads.empty() || impl_->stopped.exchange(true)) return;
  ServerCore& core = impl_->core;
  impl_->serving = false;
  core.stopping = true;
  core.closeAll();
  {
    // Once the listener and every connection are closed the loop runs out
    // of work and the threads return by themselves; a handler that does not
    // finish in time is abandoned to ioc.stop().
    std::unique_lock lock(impl_->doneMutex);
    if (!impl_->doneCv.wait_for(lock, core.options.shutdownTimeout,
                                [&] { return impl_->runningThreads == 0; })) {
      core.log.warn("server did not drain in time", {{"server", core.options.name}});
    }
  }
  core.ioc.stop();
  for (std::thread& thread : impl_->threads) thread.join();
  impl_->threads.clear();
}

base::Result<void> HttpServer::reloadCertificate(const TlsCertificate& certificate) {
  ServerCore& core = impl_->core;
  if (!core.options.tls) {
    return configError("server " + core.options.name + " does not serve TLS");
  }
  auto context = makeTlsContext(core.options.name, certificate);
  if (!context.ok()) return std::move(context).error();
  std::lock_guard lock(core.sslMutex);
  core.ssl = std::move(*context);
  return base::Ok{};
}

bool HttpServer::enabled() const { return impl_->parsed && impl_->bind.has_value(); }

bool HttpServer::running() const { return impl_->serving; }

uint16_t HttpServer::port() const { return impl_->port; }

Response HttpServer::dispatch(const Request& request) const {
  return impl_->core.dispatch(request);
}

}  // namespace relops::server
