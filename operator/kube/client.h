// The Kubernetes API client the controllers and the runtime use. An interface
// at the I/O boundary with one real implementation (HttpClient, over
// Boost.Beast) and one test double (tests/support/fake_client.h). Objects are
// JSON documents exactly as the API server sends them; typed views live with
// the controllers.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "operator/base/result.h"
#include "operator/kube/resource.h"

namespace relops::kube {

using Json = nlohmann::json;
using base::Result;

// The field manager for every write relops makes (server-side apply, patches).
inline constexpr char kFieldManager[] = "relops";

struct ListOptions {
  std::string labelSelector;
  std::string fieldSelector;
  int limit = 500;                   // page size; 0 asks for everything in one response
  std::string continueToken;         // from the previous page
  std::string resourceVersion;       // "" = most recent (quorum read), "0" = any (watch cache)
  std::string resourceVersionMatch;  // "", "NotOlderThan", "Exact"
};

struct ListPage {
  std::vector<Json> items;
  std::string resourceVersion;  // of the list, to start a watch from
  std::string continueToken;    // empty on the last page
};

enum class PatchType {
  kMerge,  // application/merge-patch+json (RFC 7386)
  kJson,   // application/json-patch+json (RFC 6902)
  kApply,  // application/apply-patch+yaml: server-side apply
};

struct WriteOptions {
  std::string subresource;  // "" or "status"
  std::string fieldManager = kFieldManager;
  bool force = false;  // server-side apply: take ownership of conflicting fields
  bool dryRun = false;
};

struct DeleteOptions {
  std::string propagationPolicy = "Background";  // "Foreground", "Orphan"
  std::optional<std::string> preconditionUid;
  std::optional<std::string> preconditionResourceVersion;
};

enum class WatchEventType { kAdded, kModified, kDeleted, kBookmark, kError };

struct WatchEvent {
  WatchEventType type;
  Json object;  // the object; for kError, the metav1.Status
};

struct WatchOptions {
  std::string resourceVersion;
  std::string labelSelector;
  std::string fieldSelector;
  bool allowWatchBookmarks = true;
  int timeoutSeconds = 300;  // server-side end of the watch
};

// An open watch: one connection, read incrementally. next() blocks until an
// event arrives, the stream ends (std::nullopt: the server closed it, e.g. at
// timeoutSeconds, or stop() was called) or the connection fails (Error).
class WatchStream {
 public:
  virtual ~WatchStream() = default;
  virtual Result<std::optional<WatchEvent>> next() = 0;
  // Ends the stream from any thread; a blocked next() returns std::nullopt.
  virtual void stop() = 0;
};

class Client {
 public:
  virtual ~Client() = default;

  virtual Result<Json> get(const ResourceRef& resource, const ObjectKey& key) = 0;
  // One page of a list; the runtime's pager follows continueToken.
  virtual Result<ListPage> list(const ResourceRef& resource, const std::string& namespace_,
                                const ListOptions& options) = 0;
  virtual Result<Json> create(const ResourceRef& resource, const Json& object,
                              const WriteOptions& options = {}) = 0;
  // PUT of the whole object; metadata.resourceVersion guards against lost updates.
  virtual Result<Json> update(const ResourceRef& resource, const Json& object,
                              const WriteOptions& options = {}) = 0;
  virtual Result<Json> patch(const ResourceRef& resource, const ObjectKey& key, PatchType type,
                             const std::string& body, const WriteOptions& options = {}) = 0;
  virtual Result<void> remove(const ResourceRef& resource, const ObjectKey& key,
                              const DeleteOptions& options = {}) = 0;
  virtual Result<std::unique_ptr<WatchStream>> watch(const ResourceRef& resource,
                                                     const std::string& namespace_,
                                                     const WatchOptions& options) = 0;
  // A GET of a raw path such as "/apis" or "/version", for discovery.
  virtual Result<Json> getRaw(const std::string& path) = 0;
};

// WriteOptions with force = true, the default for apply(). A function, not
// `{.force = true}`: GCC 12 warns (-Wmissing-field-initializers) at every
// call site of a default argument that omits designated members.
inline WriteOptions forceApplyOptions() {
  WriteOptions options;
  options.force = true;
  return options;
}

// Server-side apply of `object` (which names its apiVersion, kind and
// metadata.name/namespace) with field manager relops.
Result<Json> apply(Client& client, const ResourceRef& resource, const Json& object,
                   const WriteOptions& options = forceApplyOptions());

// Every page of a list, following continue tokens (client-go's pager). A 410
// on a continue token restarts the list once from the beginning.
Result<ListPage> listAll(Client& client, const ResourceRef& resource, const std::string& namespace_,
                         ListOptions options = {});

// The same list handed over page by page as it arrives, so a caller that keeps less than the
// parsed objects never holds the whole list at once. `onRestart` runs when an expired
// continue token restarts the list: drop what earlier pages gave. Returns the list's
// resourceVersion.
Result<std::string> listPages(Client& client, const ResourceRef& resource,
                              const std::string& namespace_, ListOptions options,
                              const std::function<void(std::vector<Json>& items)>& onPage,
                              const std::function<void()>& onRestart);

}  // namespace relops::kube
