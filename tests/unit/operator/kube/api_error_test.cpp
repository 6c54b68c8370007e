#include "operator/kube/api_error.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace relops::kube {
namespace {

using base::ErrorKind;
using ::testing::HasSubstr;

std::string status(int code, const std::string& reason, const std::string& message,
                   const std::string& details = "") {
  return R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":")" +
         message + R"(","reason":")" + reason + R"(",)" +
         (details.empty() ? "" : R"("details":)" + details + ",") + R"("code":)" +
         std::to_string(code) + "}";
}

struct StatusCase {
  std::string name;
  int code;
  std::string reason;
  ErrorKind kind;
};

class StatusMappingTest : public ::testing::TestWithParam<StatusCase> {};

TEST_P(StatusMappingTest, MapsCodeAndReasonToKind) {
  const StatusCase& c = GetParam();
  const base::Error error =
      errorFromResponse(c.code, status(c.code, c.reason, "the message from the server"));
  EXPECT_EQ(error.kind(), c.kind);
  EXPECT_EQ(error.httpStatus(), c.code);
  EXPECT_EQ(error.reason(), c.reason);
  EXPECT_EQ(error.message(), "the message from the server");
}

INSTANTIATE_TEST_SUITE_P(
    Cases, StatusMappingTest,
    ::testing::Values(
        StatusCase{"NotFound", 404, "NotFound", ErrorKind::kNotFound},
        StatusCase{"AlreadyExists", 409, "AlreadyExists", ErrorKind::kAlreadyExists},
        StatusCase{"Conflict", 409, "Conflict", ErrorKind::kConflict},
        StatusCase{"Gone", 410, "Gone", ErrorKind::kGone},
        StatusCase{"Expired", 410, "Expired", ErrorKind::kGone},
        StatusCase{"TooManyRequests", 429, "TooManyRequests", ErrorKind::kTooManyRequests},
        StatusCase{"Unauthorized", 401, "Unauthorized", ErrorKind::kUnauthorized},
        StatusCase{"Forbidden", 403, "Forbidden", ErrorKind::kForbidden},
        StatusCase{"Invalid", 422, "Invalid", ErrorKind::kInvalid},
        StatusCase{"BadRequest", 400, "BadRequest", ErrorKind::kBadRequest},
        StatusCase{"MethodNotAllowed", 405, "MethodNotAllowed", ErrorKind::kBadRequest},
        StatusCase{"UnsupportedMediaType", 415, "UnsupportedMediaType", ErrorKind::kBadRequest},
        StatusCase{"InternalError", 500, "InternalError", ErrorKind::kTransient},
        StatusCase{"ServiceUnavailable", 503, "ServiceUnavailable", ErrorKind::kTransient},
        StatusCase{"Timeout", 504, "Timeout", ErrorKind::kTransient}),
    [](const ::testing::TestParamInfo<StatusCase>& testInfo) { return testInfo.param.name; });

TEST(ApiErrorTest, InvalidCopiesCauses) {
  const base::Error error = errorFromResponse(
      422,
      status(
          422, "Invalid", "ConfigMap Bad_Name is invalid",
          R"({"name":"Bad_Name","kind":"ConfigMap","causes":[)"
          R"({"reason":"FieldValueInvalid","message":"Invalid value: \"Bad_Name\"","field":"metadata.name"},)"
          R"({"reason":"FieldValueRequired","message":"Required value","field":"data"}]})"));
  EXPECT_EQ(error.kind(), ErrorKind::kInvalid);
  ASSERT_EQ(error.causes().size(), 2u);
  EXPECT_EQ(error.causes()[0].field, "metadata.name");
  EXPECT_EQ(error.causes()[0].reason, "FieldValueInvalid");
  EXPECT_EQ(error.causes()[0].message, "Invalid value: \"Bad_Name\"");
  EXPECT_EQ(error.causes()[1].field, "data");
  EXPECT_THAT(error.describe(), HasSubstr("metadata.name: Invalid value"));
}

// The body kube-apiserver sends when a namespace is being deleted
// (k8s.io/apiserver's NamespaceLifecycle admission plugin).
TEST(ApiErrorTest, NamespaceTerminatingIsRecognisedByItsCause) {
  const base::Error terminating = errorFromResponse(
      403, status(403, "Forbidden",
                  "configmaps x is forbidden: unable to create new content in namespace team "
                  "because it is being terminated",
                  R"({"name":"x","kind":"configmaps","causes":[)"
                  R"({"reason":"NamespaceTerminating","message":"namespace team is being )"
                  R"(terminated","field":"metadata.namespace"}]})"));
  EXPECT_TRUE(isNamespaceTerminating(terminating));

  const base::Error rbac =
      errorFromResponse(403, status(403, "Forbidden", "configmaps is forbidden: User cannot create",
                                    R"({"kind":"configmaps"})"));
  EXPECT_FALSE(isNamespaceTerminating(rbac));
  const base::Error invalid = errorFromResponse(
      422, status(422, "Invalid", "bad",
                  R"({"causes":[{"reason":"NamespaceTerminating","field":"x"}]})"));
  EXPECT_FALSE(isNamespaceTerminating(invalid));
}

TEST(ApiErrorTest, RetryAfterFromHeaderWinsOverDetails) {
  const std::string body =
      status(429, "TooManyRequests", "slow down", R"({"retryAfterSeconds":7})");
  base::Error error = errorFromResponse(429, body);
  EXPECT_EQ(error.retryAfter(), std::chrono::seconds(7));
  error = errorFromResponse(429, body, "3");
  EXPECT_EQ(error.retryAfter(), std::chrono::seconds(3));
  // An HTTP date is not parsed; the details value stays.
  error = errorFromResponse(429, body, "Wed, 21 Oct 2015 07:28:00 GMT");
  EXPECT_EQ(error.retryAfter(), std::chrono::seconds(7));
}

TEST(ApiErrorTest, RetryAfterOnServiceUnavailable) {
  const base::Error error = errorFromResponse(503, "", " 2 ");
  EXPECT_EQ(error.kind(), ErrorKind::kTransient);
  EXPECT_EQ(error.retryAfter(), std::chrono::seconds(2));
}

TEST(ApiErrorTest, BodyThatIsNotAStatus) {
  const base::Error error =
      errorFromResponse(502, "<html><body>" + std::string(1000, 'x') + "</body></html>");
  EXPECT_EQ(error.kind(), ErrorKind::kTransient);
  EXPECT_EQ(error.httpStatus(), 502);
  EXPECT_THAT(error.message(), HasSubstr("HTTP 502: <html>"));
  EXPECT_LT(error.message().size(), 300u);
  EXPECT_EQ(errorFromResponse(404, "").kind(), ErrorKind::kNotFound);
  EXPECT_EQ(errorFromResponse(418, "{}").kind(), ErrorKind::kBadRequest);
}

TEST(ApiErrorTest, StatusWithoutHttpCodeUsesItsOwnCode) {
  // A watch ERROR event carries the Status alone.
  const nlohmann::json event = nlohmann::json::parse(status(410, "Expired", "too old"));
  const base::Error error = errorFromStatus(event);
  EXPECT_EQ(error.kind(), ErrorKind::kGone);
  EXPECT_EQ(error.httpStatus(), 410);
  const base::Error bare = errorFromStatus(nlohmann::json{{"reason", "NotFound"}});
  EXPECT_EQ(bare.kind(), ErrorKind::kNotFound);
  EXPECT_THAT(bare.message(), HasSubstr("NotFound"));
}

}  // namespace
}  // namespace relops::kube
