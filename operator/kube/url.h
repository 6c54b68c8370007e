// REST paths and query strings of the Kubernetes API, built the way
// client-go's rest.Request does: /api/v1 for the core group,
// /apis/<group>/<version> otherwise, namespaces/<ns>/ for namespaced
// resources, and percent-encoding on every piece that comes from data.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "operator/base/result.h"
#include "operator/kube/client.h"
#include "operator/kube/resource.h"

namespace relops::kube {

// The parts of a kubeconfig `server` URL a connection needs.
struct ServerUrl {
  bool tls = true;
  std::string host;        // without IPv6 brackets
  std::string port;        // always set: 443 / 80 when the URL has none
  std::string pathPrefix;  // "" or "/k8s/clusters/c-1" (no trailing slash)

  // host:port as the Host header and the rest_client_requests_total label
  // show it, with IPv6 brackets and without a default port.
  std::string authority() const;
};

Result<ServerUrl> parseServerUrl(std::string_view url);

// RFC 3986 unreserved characters stay, everything else is %XX.
std::string escapePathSegment(std::string_view segment);
// As Go's url.QueryEscape: unreserved stay, space is '+', the rest %XX.
std::string escapeQueryValue(std::string_view value);

// key=value pairs in insertion order.
class Query {
 public:
  Query& add(std::string key, std::string value);
  // Adds only when value is not empty.
  Query& addIfSet(std::string key, std::string value);
  bool empty() const { return params_.empty(); }
  // "" or "?k=v&k2=v2".
  std::string str() const;

 private:
  std::vector<std::pair<std::string, std::string>> params_;
};

// /api/v1[/namespaces/<ns>]/<resource>[/<name>[/<subresource>]]
// or /apis/<group>/<version>/... . The namespace is left out for
// cluster-scoped resources and when empty (a list across all namespaces).
std::string resourcePath(const ResourceRef& resource, std::string_view namespace_,
                         std::string_view name = {}, std::string_view subresource = {});

Query listQuery(const ListOptions& options);
Query watchQuery(const WatchOptions& options);
// fieldManager, dryRun=All and, for server-side apply only, force=true (the
// API server rejects force on other patch types).
Query writeQuery(const WriteOptions& options, bool serverSideApply = false);

std::string_view contentType(PatchType type);

}  // namespace relops::kube
