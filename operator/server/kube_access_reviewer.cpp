#include "operator/server/kube_access_reviewer.h"

namespace relops::server {

using nlohmann::json;

json tokenReview(const std::string& token) {
  return {{"apiVersion", "authentication.k8s.io/v1"},
          {"kind", "TokenReview"},
          {"metadata", json::object()},  // the client requires one; reviews have no name
          {"spec", {{"token", token}}}};
}

json subjectAccessReview(const UserInfo& user, const AccessAttributes& attributes) {
  json spec = {{"user", user.username}, {"groups", user.groups}};
  if (!user.uid.empty()) spec["uid"] = user.uid;
  if (!user.extra.empty()) spec["extra"] = user.extra;
  if (!attributes.nonResourcePath.empty()) {
    spec["nonResourceAttributes"] = {{"path", attributes.nonResourcePath},
                                     {"verb", attributes.verb}};
  } else {
    json resource = {
        {"verb", attributes.verb}, {"group", attributes.group}, {"resource", attributes.resource}};
    if (!attributes.namespace_.empty()) resource["namespace"] = attributes.namespace_;
    if (!attributes.name.empty()) resource["name"] = attributes.name;
    spec["resourceAttributes"] = resource;
  }
  return {{"apiVersion", "authorization.k8s.io/v1"},
          {"kind", "SubjectAccessReview"},
          {"metadata", json::object()},
          {"spec", spec}};
}

base::Result<std::optional<UserInfo>> KubeAccessReviewer::authenticate(const std::string& token) {
  base::Result<json> review = client_.create(kTokenReviews, tokenReview(token));
  if (!review.ok()) return std::move(review).error().context("create TokenReview");
  const json status = review->value("status", json::object());
  if (!status.value("authenticated", false)) return std::optional<UserInfo>();
  const json user = status.value("user", json::object());
  UserInfo info;
  info.username = user.value("username", "");
  info.uid = user.value("uid", "");
  info.groups = user.value("groups", std::vector<std::string>());
  info.extra = user.value("extra", std::map<std::string, std::vector<std::string>>());
  if (info.username.empty()) return std::optional<UserInfo>();
  return std::optional<UserInfo>(std::move(info));
}

base::Result<bool> KubeAccessReviewer::authorize(const UserInfo& user,
                                                 const AccessAttributes& attributes) {
  base::Result<json> review =
      client_.create(kSubjectAccessReviews, subjectAccessReview(user, attributes));
  if (!review.ok()) return std::move(review).error().context("create SubjectAccessReview");
  const json status = review->value("status", json::object());
  return status.value("allowed", false) && !status.value("denied", false);
}

}  // namespace relops::server
