// Who is asking, and may they: the bearer-token filter in front of /metrics
// and the calendar feeds. controller-runtime's
// filters.WithAuthenticationAndAuthorization (kubebuilder v4's
// --metrics-secure): the token is checked with a TokenReview, the request
// with a SubjectAccessReview; 401 without a valid token, 403 when the
// authorizer says no, 500 when a review cannot be made.
//
// The reviews go through AccessReviewer: KubeAccessReviewer asks the API
// server (kube_access_reviewer.h), tests use a double. CachingAccessReviewer
// keeps answers briefly, as the API server's webhook authenticator and
// authorizer do, so a Prometheus scraping every 15 s costs no review per scrape.
#pragma once

#include <chrono>
#include <cstddef>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "operator/base/clock.h"
#include "operator/base/result.h"
#include "operator/runtime/log.h"
#include "operator/server/http_server.h"

namespace relops::server {

// authentication.k8s.io/v1 UserInfo, as a TokenReview returns it.
struct UserInfo {
  std::string username;
  std::string uid;
  std::vector<std::string> groups;
  std::map<std::string, std::vector<std::string>> extra;
  bool operator==(const UserInfo&) const = default;
};

// What is asked for: a non-resource URL (nonResourcePath set) or a resource.
struct AccessAttributes {
  std::string verb;             // "get"
  std::string nonResourcePath;  // "/metrics"; empty for a resource
  std::string namespace_;
  std::string group;
  std::string resource;
  std::string name;
  // A key for caches; distinct attributes give distinct keys.
  std::string key() const;
};

class AccessReviewer {
 public:
  virtual ~AccessReviewer() = default;
  // The user a bearer token belongs to; nullopt when the token is not valid.
  // An Error only when the review could not be made.
  virtual base::Result<std::optional<UserInfo>> authenticate(const std::string& token) = 0;
  // Whether `user` may do `attributes`; an Error only when the review could not be made.
  virtual base::Result<bool> authorize(const UserInfo& user,
                                       const AccessAttributes& attributes) = 0;
};

struct ReviewCacheOptions {
  // kube-apiserver's webhook defaults: tokens 2 min, allowed 5 min, denied 30 s.
  std::chrono::seconds authenticatedTtl{120};
  std::chrono::seconds unauthenticatedTtl{10};
  std::chrono::seconds allowedTtl{300};
  std::chrono::seconds deniedTtl{30};
  size_t maxEntries = 1024;  // per cache; the oldest entry goes first
};

// Keeps the answers of another reviewer; errors are never cached. Tokens are
// kept only as their SHA-256. Thread-safe.
class CachingAccessReviewer final : public AccessReviewer {
 public:
  CachingAccessReviewer(AccessReviewer& inner, const base::Clock& clock,
                        ReviewCacheOptions options = {});
  base::Result<std::optional<UserInfo>> authenticate(const std::string& token) override;
  base::Result<bool> authorize(const UserInfo& user, const AccessAttributes& attributes) override;
  size_t size() const;

 private:
  template <typename Value>
  class Cache {
   public:
    std::optional<Value> get(const std::string& key, std::chrono::steady_clock::time_point now);
    void put(const std::string& key, Value value, std::chrono::steady_clock::time_point expires,
             size_t maxEntries);
    size_t size() const { return entries_.size(); }

   private:
    struct Entry {
      Value value;
      std::chrono::steady_clock::time_point expires;
      std::list<std::string>::iterator order;
    };
    std::unordered_map<std::string, Entry> entries_;
    std::list<std::string> order_;  // oldest first
  };

  AccessReviewer& inner_;
  const base::Clock& clock_;
  ReviewCacheOptions options_;
  mutable std::mutex mutex_;
  Cache<std::optional<UserInfo>> tokens_;
  Cache<bool> decisions_;
};

// The bearer token of an "Authorization: Bearer <token>" header, or "".
std::string bearerToken(const Request& request);

enum class AccessDecision { kAllowed, kUnauthenticated, kForbidden, kError };

// Authenticates the request's bearer token and authorizes `attributes` for its user.
AccessDecision reviewRequest(const Request& request, AccessReviewer& reviewer,
                             const AccessAttributes& attributes, const runtime::Logger& log);

// The answer to a request reviewRequest did not allow: 401 (with `WWW-Authenticate: Bearer`),
// 403, or 500 when the review could not be made — as controller-runtime's filter answers.
Response accessRefusal(AccessDecision decision);

// `handler` behind the filter: 401, 403 or 500 as controller-runtime answers.
Handler requireAccess(AccessReviewer& reviewer, AccessAttributes attributes, Handler handler,
                      runtime::Logger log = runtime::discardLogger());

}  // namespace relops::server
