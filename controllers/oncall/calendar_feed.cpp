#include "controllers/oncall/calendar_feed.h"

#include <openssl/crypto.h>

#include <fstream>
#include <sstream>
#include <vector>

#include "controllers/oncall/oncall_reconciler.h"
#include "operator/base/digest.h"
#include "operator/runtime/manager.h"
#include "operator/server/tls.h"

namespace relops::oncall {
namespace {

bool isNameSegment(std::string_view segment) {
  // DNS-1123 subdomain characters: what a namespace or object name may hold.
  // (lowercase alphanumerics, '-' and '.', alphanumeric at both ends).
  const auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (segment.empty() || segment.size() > 253) return false;
  if (!alnum(segment.front()) || !alnum(segment.back())) return false;
  for (char c : segment) {
    if (!alnum(c) && c != '-' && c != '.') return false;
  }
  return true;
}

bool isToken(std::string_view token) {
  if (token.size() != 64) return false;
  for (char c : token) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

server::Response notFound() {
  // The same answer for a missing rotation, a wrong token and a refused bearer:
  // nothing tells a prober whether the rotation exists.
  return server::Response::text(404, "404 page not found\n");
}

}  // namespace

base::Result<FeedKey> FeedKey::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return base::Error(base::ErrorKind::kConfig, "cannot read the calendar key file " + path);
  }
  std::ostringstream text;
  text << in.rdbuf();
  auto key = fromSecret(text.str());
  if (!key.ok()) return std::move(key).error().context(path);
  return key;
}

base::Result<FeedKey> FeedKey::fromSecret(std::string secret) {
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r' ||
                             secret.back() == ' ' || secret.back() == '\t')) {
    secret.pop_back();
  }
  if (secret.size() < kMinFeedKeyBytes) {
    return base::Error(base::ErrorKind::kConfig, "the calendar key must be at least " +
                                                     std::to_string(kMinFeedKeyBytes) +
                                                     " bytes (e.g. openssl rand -hex 32)");
  }
  return FeedKey(std::move(secret));
}

std::string FeedKey::token(const kube::ObjectKey& rotation, std::string_view uid) const {
  // '/' occurs in none of the three, so the message is unambiguous.
  return base::hmacSha256Hex(secret_,
                             rotation.namespace_ + "/" + rotation.name + "/" + std::string(uid));
}

std::string feedPath(const kube::ObjectKey& rotation, std::string_view token) {
  return std::string(kCalendarPrefix) + rotation.namespace_ + "/" + rotation.name + "/" +
         std::string(token) + ".ics";
}

std::optional<FeedRequest> parseFeedPath(std::string_view path) {
  if (!path.starts_with(kCalendarPrefix) || !path.ends_with(".ics")) return std::nullopt;
  path.remove_prefix(kCalendarPrefix.size());
  path.remove_suffix(4);
  std::vector<std::string_view> parts;
  while (true) {
    const size_t slash = path.find('/');
    parts.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  if (parts.size() != 2 && parts.size() != 3) return std::nullopt;
  if (!isNameSegment(parts[0]) || !isNameSegment(parts[1])) return std::nullopt;
  FeedRequest request{{std::string(parts[0]), std::string(parts[1])}, ""};
  if (parts.size() == 3) {
    if (!isToken(parts[2])) return std::nullopt;
    request.token = std::string(parts[2]);
  }
  return request;
}

bool tokensEqual(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

CalendarFeeds::CalendarFeeds(runtime::Manager& manager, FeedKey key,
                             server::AccessReviewer* reviewer, runtime::Logger log)
    : manager_(manager), key_(std::move(key)), reviewer_(reviewer), log_(std::move(log)) {}

server::Response CalendarFeeds::serve(const server::Request& request) const {
  std::optional<FeedRequest> feed = parseFeedPath(request.path);
  if (!feed) return notFound();
  if (feed->token.empty()) {
    // The bearer form: the requester must be allowed to read the rotation itself.
    if (reviewer_ == nullptr) return notFound();
    server::AccessAttributes attributes;
    attributes.verb = "get";
    attributes.group = kOnCallRotations.group;
    attributes.resource = kOnCallRotations.resource;
    attributes.namespace_ = feed->rotation.namespace_;
    attributes.name = feed->rotation.name;
    if (server::reviewRequest(request, *reviewer_, attributes, log_) !=
        server::AccessDecision::kAllowed) {
      return notFound();
    }
  } else {
    const runtime::ObjectPtr object = manager_.cached(kOnCallRotations, feed->rotation);
    if (!object) return notFound();
    const std::string uid = object->at("metadata").value("uid", "");
    if (uid.empty() || !tokensEqual(feed->token, key_.token(feed->rotation, uid))) {
      return notFound();
    }
  }
  std::optional<std::string> body = calendarFeed(manager_, feed->rotation);
  if (!body) return notFound();
  server::Response response;
  response.contentType = "text/calendar; charset=utf-8";
  response.body = std::move(*body);
  // The URL is the credential: keep it out of shared caches and Referer headers.
  response.headers.emplace_back("Cache-Control", "private, max-age=60");
  response.headers.emplace_back("Referrer-Policy", "no-referrer");
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  return response;
}

void CalendarFeeds::addRoutes(server::HttpServer& server) const {
  server.handle("GET", std::string(kCalendarPrefix),
                [this](const server::Request& request) { return serve(request); });
}

}  // namespace relops::oncall
