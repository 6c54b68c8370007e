#include "operator/server/access_review.h"

#include <cctype>
#include <iterator>
#include <utility>

#include "operator/base/digest.h"
#include "operator/server/tls.h"

namespace relops::server {

std::string AccessAttributes::key() const {
  // A separator no Kubernetes name or path segment contains.
  const char kSep = '\x1f';
  return verb + kSep + nonResourcePath + kSep + namespace_ + kSep + group + kSep + resource + kSep +
         name;
}

namespace {

std::string userKey(const UserInfo& user) {
  const char kSep = '\x1f';
  std::string key = user.username + kSep + user.uid;
  for (const std::string& group : user.groups) key += kSep + group;
  for (const auto& [name, values] : user.extra) {
    key += std::string(1, kSep) + "=" + name;
    for (const std::string& value : values) key += kSep + value;
  }
  return key;
}

}  // namespace

template <typename Value>
std::optional<Value> CachingAccessReviewer::Cache<Value>::get(
    const std::string& key, std::chrono::steady_clock::time_point now) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  if (it->second.expires <= now) {
    order_.erase(it->second.order);
    entries_.erase(it);
    return std::nullopt;
  }
  return it->second.value;
}

template <typename Value>
void CachingAccessReviewer::Cache<Value>::put(const std::string& key, Value value,
                                              std::chrono::steady_clock::time_point expires,
                                              size_t maxEntries) {
  if (maxEntries == 0) return;
  if (auto it = entries_.find(key); it != entries_.end()) {
    order_.erase(it->second.order);
    entries_.erase(it);
  }
  while (entries_.size() >= maxEntries) {
    entries_.erase(order_.front());
    order_.pop_front();
  }
  order_.push_back(key);
  entries_.emplace(key, Entry{std::move(value), expires, std::prev(order_.end())});
}

CachingAccessReviewer::CachingAccessReviewer(AccessReviewer& inner, const base::Clock& clock,
                                             ReviewCacheOptions options)
    : inner_(inner), clock_(clock), options_(options) {}

base::Result<std::optional<UserInfo>> CachingAccessReviewer::authenticate(
    const std::string& token) {
  const std::string key = base::sha256Hex(token);
  {
    std::lock_guard lock(mutex_);
    if (auto cached = tokens_.get(key, clock_.steadyNow())) return *cached;
  }
  // The review runs unlocked: a slow API server must not serialize every request.
  base::Result<std::optional<UserInfo>> result = inner_.authenticate(token);
  if (!result.ok()) return result;
  std::lock_guard lock(mutex_);
  const auto ttl = result->has_value() ? options_.authenticatedTtl : options_.unauthenticatedTtl;
  tokens_.put(key, *result, clock_.steadyNow() + ttl, options_.maxEntries);
  return result;
}

base::Result<bool> CachingAccessReviewer::authorize(const UserInfo& user,
                                                    const AccessAttributes& attributes) {
  const std::string key = base::sha256Hex(userKey(user) + '\x1e' + attributes.key());
  {
    std::lock_guard lock(mutex_);
    if (auto cached = decisions_.get(key, clock_.steadyNow())) return *cached;
  }
  base::Result<bool> result = inner_.authorize(user, attributes);
  if (!result.ok()) return result;
  std::lock_guard lock(mutex_);
  const auto ttl = *result ? options_.allowedTtl : options_.deniedTtl;
  decisions_.put(key, *result, clock_.steadyNow() + ttl, options_.maxEntries);
  return result;
}

size_t CachingAccessReviewer::size() const {
  std::lock_guard lock(mutex_);
  return tokens_.size() + decisions_.size();
}

std::string bearerToken(const Request& request) {
  const std::string header = request.header("authorization");
  // RFC 6750 2.1: the scheme is case-insensitive, one space, then the token.
  if (header.size() <= 7) return "";
  std::string scheme = header.substr(0, 7);
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme != "bearer ") return "";
  std::string token = header.substr(7);
  while (!token.empty() && token.front() == ' ') token.erase(0, 1);
  while (!token.empty() && token.back() == ' ') token.pop_back();
  if (token.find_first_of(" ,") != std::string::npos) return "";
  return token;
}

AccessDecision reviewRequest(const Request& request, AccessReviewer& reviewer,
                             const AccessAttributes& attributes, const runtime::Logger& log) {
  const std::string token = bearerToken(request);
  if (token.empty()) return AccessDecision::kUnauthenticated;
  base::Result<std::optional<UserInfo>> user = reviewer.authenticate(token);
  if (!user.ok()) {
    // controller-runtime answers 401 when the authenticator fails.
    log.warn("token review failed", {{"error", user.error().describe()}});
    return AccessDecision::kUnauthenticated;
  }
  if (!user->has_value()) return AccessDecision::kUnauthenticated;
  base::Result<bool> allowed = reviewer.authorize(**user, attributes);
  if (!allowed.ok()) {
    log.warn("subject access review failed",
             {{"user", (*user)->username}, {"error", allowed.error().describe()}});
    return AccessDecision::kError;
  }
  if (!*allowed) {
    log.debug("access denied", {{"user", (*user)->username}, {"verb", attributes.verb}});
    return AccessDecision::kForbidden;
  }
  return AccessDecision::kAllowed;
}

Response accessRefusal(AccessDecision decision) {
  switch (decision) {
    case AccessDecision::kUnauthenticated: {
      Response response = Response::text(401, "Unauthorized\n");
      response.headers.emplace_back("WWW-Authenticate", "Bearer");
      return response;
    }
    case AccessDecision::kForbidden:
      return Response::text(403, "Forbidden\n");
    case AccessDecision::kAllowed:
    case AccessDecision::kError:
      break;
  }
  return Response::text(500, "Authorization failed\n");
}

Handler requireAccess(AccessReviewer& reviewer, AccessAttributes attributes, Handler handler,
                      runtime::Logger log) {
  return [&reviewer, attributes = std::move(attributes), handler = std::move(handler),
          log = std::move(log)](const Request& request) {
    const AccessDecision decision = reviewRequest(request, reviewer, attributes, log);
    return decision == AccessDecision::kAllowed ? handler(request) : accessRefusal(decision);
  };
}

}  // namespace relops::server
