// The real Client: HTTP/1.1 over Boost.Beast, TLS through OpenSSL. Beast,
// Asio and OpenSSL stay inside http_client.cpp; this header is what the
// runtime and main include.
//
// Behaviour follows client-go's rest client: TLS verified unless the
// kubeconfig says otherwise, keep-alive connections pooled for ordinary
// requests (safe to call from many threads), one connection per watch,
// client-side rate limiting on everything but watches, a 401 refreshes the
// credentials and retries once, and failures come back as typed Errors.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "operator/base/clock.h"
#include "operator/kube/client.h"
#include "operator/kube/config.h"
#include "operator/kube/credentials.h"
#include "operator/kube/request_observer.h"

namespace relops::kube {

class ExecRunner;

struct HttpClientOptions {
  // client-go's defaults (relops run sets 50 and 100; --kube-api-qps/--kube-api-burst).
  // qps <= 0 turns client-side limiting off.
  double qps = 5;
  int burst = 10;
  // Whole-request deadline: connect, TLS, send, read. A watch uses it up to
  // the response header only.
  std::chrono::nanoseconds requestTimeout = std::chrono::seconds(30);
  std::chrono::nanoseconds tokenFileReloadPeriod = TokenFileSource::kDefaultReloadPeriod;
  // Idle keep-alive connections kept for reuse, and how long one may idle
  // (below the API server's 90 s idle timeout, so relops closes first).
  size_t maxIdleConnections = 8;
  std::chrono::nanoseconds idleConnectionTimeout = std::chrono::seconds(45);
  std::string userAgent = "relops";
  // Rate limiting and credential expiry read this clock; network deadlines
  // are real time.
  std::shared_ptr<const base::Clock> clock;
  std::shared_ptr<RequestObserver> observer;
  // Replaces the credentials the config describes (tests, custom auth).
  std::shared_ptr<CredentialSource> credentials;
  std::shared_ptr<ExecRunner> execRunner;
  std::chrono::nanoseconds execTimeout = std::chrono::seconds(60);
};

// Counters for tests and debugging.
struct HttpClientStats {
  uint64_t connectionsOpened = 0;  // TCP (and TLS) connections made, watches included
  size_t idleConnections = 0;      // keep-alive connections waiting in the pool
};

class HttpClient final : public Client {
 public:
  // Fails (kConfig) when the server URL, CA or client certificate cannot be
  // used; it does not contact the server.
  static Result<std::unique_ptr<HttpClient>> create(const ClientConfig& config,
                                                    HttpClientOptions options = {});
  ~HttpClient() override;
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  Result<Json> get(const ResourceRef& resource, const ObjectKey& key) override;
  // Items get apiVersion and kind filled in when the server leaves them out,
  // as client-go's unstructured list decoding does.
  Result<ListPage> list(const ResourceRef& resource, const std::string& namespace_,
                        const ListOptions& options) override;
  // POST to the collection, or with options.subresource to
  // <name>/<subresource> (serviceaccounts/token, pods/eviction).
  Result<Json> create(const ResourceRef& resource, const Json& object,
                      const WriteOptions& options = {}) override;
  Result<Json> update(const ResourceRef& resource, const Json& object,
                      const WriteOptions& options = {}) override;
  Result<Json> patch(const ResourceRef& resource, const ObjectKey& key, PatchType type,
                     const std::string& body, const WriteOptions& options = {}) override;
  Result<void> remove(const ResourceRef& resource, const ObjectKey& key,
                      const DeleteOptions& options = {}) override;
  Result<std::unique_ptr<WatchStream>> watch(const ResourceRef& resource,
                                             const std::string& namespace_,
                                             const WatchOptions& options) override;
  Result<Json> getRaw(const std::string& path) override;

  // Any request, for what the typed verbs do not cover. `pathAndQuery` is
  // below the server URL ("/apis/authentication.k8s.io/v1/selfsubjectreviews").
  Result<Json> request(std::string_view method, const std::string& pathAndQuery,
                       const std::string& body = {},
                       std::string_view contentType = "application/json");

  // Set once at startup (main wires rest_client_requests_total); safe to
  // call while requests run.
  void setObserver(std::shared_ptr<RequestObserver> observer);

  const ClientConfig& config() const;
  HttpClientStats stats() const;

 private:
  struct Impl;
  explicit HttpClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace relops::kube
