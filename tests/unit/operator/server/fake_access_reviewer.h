// The test double of server::AccessReviewer: tokens and grants set by the
// test, calls counted, failures injectable.
#pragma once

#include <map>
#include <mutex>
#include <set>
#include <string>

#include "operator/server/access_review.h"

namespace relops::testing {

class FakeAccessReviewer final : public server::AccessReviewer {
 public:
  void addToken(const std::string& token, server::UserInfo user) { tokens_[token] = user; }
  void allow(const std::string& username, const server::AccessAttributes& attributes) {
    allowed_.insert(username + '\x1e' + attributes.key());
  }
  void failAuthentication(bool fail) { failAuthentication_ = fail; }
  void failAuthorization(bool fail) { failAuthorization_ = fail; }

  base::Result<std::optional<server::UserInfo>> authenticate(const std::string& token) override {
    std::lock_guard lock(mutex_);
    ++authentications;
    if (failAuthentication_) return base::Error(base::ErrorKind::kTransient, "API down");
    const auto it = tokens_.find(token);
    if (it == tokens_.end()) return std::optional<server::UserInfo>();
    return std::optional<server::UserInfo>(it->second);
  }
  base::Result<bool> authorize(const server::UserInfo& user,
                               const server::AccessAttributes& attributes) override {
    std::lock_guard lock(mutex_);
    ++authorizations;
    if (failAuthorization_) return base::Error(base::ErrorKind::kTransient, "API down");
    return allowed_.contains(user.username + '\x1e' + attributes.key());
  }

  int authentications = 0;
  int authorizations = 0;

 private:
  std::mutex mutex_;
  std::map<std::string, server::UserInfo> tokens_;
  std::set<std::string> allowed_;
  bool failAuthentication_ = false;
  bool failAuthorization_ = false;
};

}  // namespace relops::testing
