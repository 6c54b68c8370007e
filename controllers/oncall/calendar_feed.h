// Serving rotations as iCalendar feeds without handing out people's schedules
// and contacts to whoever can reach the port.
//
// Calendar apps cannot send a bearer token, so, as hosted calendars share a
// feed, each feed URL carries an unguessable token:
//   /calendars/<namespace>/<name>/<token>.ics
// token = hex(HMAC-SHA256(key, "<namespace>/<name>/<uid>")), the key a file
// the operator holds (--calendar-key-file, mounted from a Secret, so every
// replica and every restart derives the same URL). The reconciler writes the
// path into status.calendarPath, which only those who can read the rotation
// see. A recreated rotation (new UID) gets a new URL; rotating the key moves
// every URL. Alternatively a bearer token authorized by a SubjectAccessReview
// for `get` on that rotation reads /calendars/<namespace>/<name>.ics.
// Anything else is a 404, the same one a missing rotation gets.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "operator/base/result.h"
#include "operator/kube/resource.h"
#include "operator/runtime/log.h"
#include "operator/server/access_review.h"
#include "operator/server/http_server.h"

namespace relops::runtime {
class Manager;
}

namespace relops::oncall {

inline constexpr std::string_view kCalendarPrefix = "/calendars/";
// A key shorter than this is refused (HMAC-SHA256 wants 256 bits).
inline constexpr size_t kMinFeedKeyBytes = 32;

class FeedKey {
 public:
  // Reads the key file; trailing whitespace is not part of the key.
  static base::Result<FeedKey> load(const std::string& path);
  static base::Result<FeedKey> fromSecret(std::string secret);
  // The rotation's token: 64 lowercase hex digits.
  std::string token(const kube::ObjectKey& rotation, std::string_view uid) const;

 private:
  explicit FeedKey(std::string secret) : secret_(std::move(secret)) {}
  std::string secret_;
};

// "/calendars/<namespace>/<name>/<token>.ics"
std::string feedPath(const kube::ObjectKey& rotation, std::string_view token);

// A feed request's path, parsed; token is empty for the bearer-token form
// "/calendars/<namespace>/<name>.ics". nullopt when the path is neither.
struct FeedRequest {
  kube::ObjectKey rotation;
  std::string token;
  bool operator==(const FeedRequest&) const = default;
};
std::optional<FeedRequest> parseFeedPath(std::string_view path);

// Constant-time comparison, so response timing does not reveal a token's prefix.
bool tokensEqual(std::string_view a, std::string_view b);

// The feed route of the calendar listener.
class CalendarFeeds {
 public:
  // `reviewer` may be null: then only token URLs are served.
  CalendarFeeds(runtime::Manager& manager, FeedKey key, server::AccessReviewer* reviewer,
                runtime::Logger log);
  server::Response serve(const server::Request& request) const;
  void addRoutes(server::HttpServer& server) const;

 private:
  runtime::Manager& manager_;
  FeedKey key_;
  server::AccessReviewer* reviewer_;
  runtime::Logger log_;
};

}  // namespace relops::oncall
