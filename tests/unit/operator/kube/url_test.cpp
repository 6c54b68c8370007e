#include "operator/kube/url.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "operator/kube/base64.h"

namespace relops::kube {
namespace {

const ResourceRef kWidgets{"relops.dev", "v1alpha1", "widgets", "Widget", true};

TEST(ResourcePathTest, CoreAndGroupedNamespacedAndClusterScoped) {
  EXPECT_EQ(resourcePath(resources::kConfigMaps, "ns"), "/api/v1/namespaces/ns/configmaps");
  EXPECT_EQ(resourcePath(resources::kConfigMaps, ""), "/api/v1/configmaps");
  EXPECT_EQ(resourcePath(resources::kConfigMaps, "ns", "a"), "/api/v1/namespaces/ns/configmaps/a");
  EXPECT_EQ(resourcePath(resources::kDeployments, "ns", "web", "status"),
            "/apis/apps/v1/namespaces/ns/deployments/web/status");
  EXPECT_EQ(resourcePath(kWidgets, "team-a", "w"),
            "/apis/relops.dev/v1alpha1/namespaces/team-a/widgets/w");
  EXPECT_EQ(resourcePath(resources::kNamespaces, "ignored", "kube-system"),
            "/api/v1/namespaces/kube-system");
  EXPECT_EQ(resourcePath(resources::kCustomResourceDefinitions, "", "widgets.relops.dev"),
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.relops.dev");
  // A subresource needs a name.
  EXPECT_EQ(resourcePath(resources::kConfigMaps, "ns", "", "status"),
            "/api/v1/namespaces/ns/configmaps");
}

TEST(ResourcePathTest, EscapesSegments) {
  EXPECT_EQ(resourcePath(resources::kConfigMaps, "n s", "a/b?c#d%"),
            "/api/v1/namespaces/n%20s/configmaps/a%2Fb%3Fc%23d%25");
  EXPECT_EQ(escapePathSegment("system:node:a@b"), "system:node:a@b");
}

TEST(QueryTest, EncodesLikeGo) {
  EXPECT_EQ(escapeQueryValue("app in (a, b),tier!=db"), "app+in+%28a%2C+b%29%2Ctier%21%3Ddb");
  EXPECT_EQ(escapeQueryValue("a=b&c"), "a%3Db%26c");
  EXPECT_EQ(escapeQueryValue("~-._09AZaz"), "~-._09AZaz");
  EXPECT_EQ(Query().str(), "");
  EXPECT_EQ(Query().add("a", "1").addIfSet("b", "").add("c", "x y").str(), "?a=1&c=x+y");
}

TEST(QueryTest, ListOptions) {
  EXPECT_EQ(listQuery({}).str(), "?limit=500");
  EXPECT_EQ(listQuery({.labelSelector = "app=web,tier in (fe)",
                       .fieldSelector = "metadata.name=a",
                       .limit = 2,
                       .continueToken = "eyJ2IjoibWV0YS5rOHMuaW8vdjEi+/=",
                       .resourceVersion = "0",
                       .resourceVersionMatch = "NotOlderThan"})
                .str(),
            "?labelSelector=app%3Dweb%2Ctier+in+%28fe%29&fieldSelector=metadata.name%3Da"
            "&limit=2&continue=eyJ2IjoibWV0YS5rOHMuaW8vdjEi%2B%2F%3D&resourceVersion=0"
            "&resourceVersionMatch=NotOlderThan");
  EXPECT_EQ(listQuery({.limit = 0}).str(), "");
}

TEST(QueryTest, WatchOptions) {
  EXPECT_EQ(watchQuery({.resourceVersion = "42", .timeoutSeconds = 337}).str(),
            "?watch=true&resourceVersion=42&allowWatchBookmarks=true&timeoutSeconds=337");
  EXPECT_EQ(
      watchQuery({.labelSelector = "a=b", .allowWatchBookmarks = false, .timeoutSeconds = 0}).str(),
      "?watch=true&labelSelector=a%3Db");
}

TEST(QueryTest, WriteOptions) {
  EXPECT_EQ(writeQuery({}).str(), "?fieldManager=relops");
  EXPECT_EQ(writeQuery({.force = true}).str(), "?fieldManager=relops");  // force is apply-only
  EXPECT_EQ(writeQuery({.force = true, .dryRun = true}, true).str(),
            "?fieldManager=relops&force=true&dryRun=All");
  EXPECT_EQ(writeQuery({.fieldManager = ""}).str(), "");
}

TEST(QueryTest, PatchContentTypes) {
  EXPECT_EQ(contentType(PatchType::kMerge), "application/merge-patch+json");
  EXPECT_EQ(contentType(PatchType::kJson), "application/json-patch+json");
  EXPECT_EQ(contentType(PatchType::kApply), "application/apply-patch+yaml");
}

TEST(ServerUrlTest, Parses) {
  Result<ServerUrl> url = parseServerUrl("https://127.0.0.1:6443");
  ASSERT_TRUE(url.ok());
  EXPECT_TRUE(url->tls);
  EXPECT_EQ(url->host, "127.0.0.1");
  EXPECT_EQ(url->port, "6443");
  EXPECT_EQ(url->pathPrefix, "");
  EXPECT_EQ(url->authority(), "127.0.0.1:6443");

  url = parseServerUrl("https://rancher.example.com/k8s/clusters/c-1/");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url->port, "443");
  EXPECT_EQ(url->pathPrefix, "/k8s/clusters/c-1");
  EXPECT_EQ(url->authority(), "rancher.example.com");

  url = parseServerUrl("http://[::1]:8001");
  ASSERT_TRUE(url.ok());
  EXPECT_FALSE(url->tls);
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->authority(), "[::1]:8001");

  url = parseServerUrl("http://localhost");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url->port, "80");
}

TEST(ServerUrlTest, Rejects) {
  for (const char* bad : {"ftp://x", "https://", "https://h:port", "https://h:99999",
                          "https://user@h", "https://[::1", "https://h/?q=1"}) {
    const Result<ServerUrl> url = parseServerUrl(bad);
    ASSERT_FALSE(url.ok()) << bad;
    EXPECT_EQ(url.error().kind(), base::ErrorKind::kConfig);
    EXPECT_THAT(url.error().message(), ::testing::HasSubstr(bad));
  }
}

TEST(Base64Test, RoundTripsAndRejects) {
  for (const std::string text : {"", "a", "ab", "abc", "abcd", "\x00\xff binary"}) {
    EXPECT_EQ(base64Decode(base64Encode(text)), text);
  }
  EXPECT_EQ(base64Encode("hello"), "aGVsbG8=");
  EXPECT_EQ(base64Decode("aGVs\nbG8="), "hello");
  EXPECT_EQ(base64Decode("aGVsbG8"), "hello");  // padding optional
  EXPECT_FALSE(base64Decode("aGV$bG8=").has_value());
  EXPECT_FALSE(base64Decode("aGVsbG8=x").has_value());
  EXPECT_FALSE(base64Decode("a").has_value());
}

}  // namespace
}  // namespace relops::kube
