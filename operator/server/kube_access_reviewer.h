// The AccessReviewer that asks the API server: a TokenReview
// (authentication.k8s.io/v1) per token, a SubjectAccessReview
// (authorization.k8s.io/v1) per user and request. relops's ServiceAccount
// needs `create` on both (the chart's ClusterRole grants it).
#pragma once

#include "operator/kube/client.h"
#include "operator/server/access_review.h"

namespace relops::server {

inline const kube::ResourceRef kTokenReviews{"authentication.k8s.io", "v1", "tokenreviews",
                                             "TokenReview", false};
inline const kube::ResourceRef kSubjectAccessReviews{
    "authorization.k8s.io", "v1", "subjectaccessreviews", "SubjectAccessReview", false};

class KubeAccessReviewer final : public AccessReviewer {
 public:
  explicit KubeAccessReviewer(kube::Client& client) : client_(client) {}
  base::Result<std::optional<UserInfo>> authenticate(const std::string& token) override;
  base::Result<bool> authorize(const UserInfo& user, const AccessAttributes& attributes) override;

 private:
  kube::Client& client_;
};

// The request bodies, for tests.
nlohmann::json tokenReview(const std::string& token);
nlohmann::json subjectAccessReview(const UserInfo& user, const AccessAttributes& attributes);

}  // namespace relops::server
