// A hook for request metrics, so the client does not depend on the metrics
// registry: main adapts it to rest_client_requests_total{code,method,host}
// (and a latency histogram) the way client-go's metrics adapter does.
#pragma once

#include <chrono>
#include <string_view>

namespace relops::kube {

class RequestObserver {
 public:
  virtual ~RequestObserver() = default;
  // Called once per HTTP exchange (a retried request counts twice), from the
  // thread that made it; implementations must be thread-safe.
  //   method:  the HTTP verb, "GET", "POST", ... (a watch is a GET)
  //   host:    the server's host[:port]
  //   code:    the HTTP status, or 0 when no response arrived (client-go's
  //            "<error>" label): connection refused, TLS failure, timeout
  //   latency: from sending to the full response (to the header, for a watch)
  virtual void onRequest(std::string_view method, std::string_view host, int code,
                         std::chrono::duration<double> latency) = 0;
};

}  // namespace relops::kube
