#include "operator/runtime/object_cache.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace relops::runtime {
namespace {

using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

json object(const std::string& ns, const std::string& name, const std::string& version,
            json labels = json::object()) {
  json metadata = {{"name", name}, {"resourceVersion", version}, {"labels", std::move(labels)}};
  if (!ns.empty()) metadata["namespace"] = ns;
  return {{"metadata", metadata}};
}

std::vector<std::string> keysOf(const std::vector<ObjectPtr>& objects) {
  std::vector<std::string> keys;
  for (const ObjectPtr& o : objects) keys.push_back(objectKey(*o));
  return keys;
}

TEST(ObjectKey, NamespacedAndClusterScoped) {
  EXPECT_EQ(objectKey(object("team-a", "web", "1")), "team-a/web");
  EXPECT_EQ(objectKey(object("", "node-1", "1")), "node-1");
}

TEST(ObjectCache, NamespaceIndexFollowsUpdatesAndDeletes) {
  ObjectCache cache;
  cache.upsert(object("a", "x", "1"));
  cache.upsert(object("a", "y", "1"));
  cache.upsert(object("b", "x", "1"));
  EXPECT_THAT(keysOf(cache.listNamespace("a")), ElementsAre("a/x", "a/y"));
  EXPECT_THAT(keysOf(cache.listNamespace("")), ElementsAre("a/x", "a/y", "b/x"));
  cache.erase("a/x");
  EXPECT_THAT(keysOf(cache.listNamespace("a")), ElementsAre("a/y"));
  cache.erase("a/y");
  EXPECT_THAT(cache.listNamespace("a"), IsEmpty());
  EXPECT_EQ(cache.erase("a/missing"), nullptr);
}

TEST(ObjectCache, LabelIndexFollowsLabelChanges) {
  ObjectCache cache;
  cache.upsert(object("a", "x", "1", {{"tier", "1"}}));
  cache.upsert(object("b", "y", "1", {{"tier", "1"}}));
  EXPECT_THAT(keysOf(cache.listByLabel("", "tier", "1")), ElementsAre("a/x", "b/y"));
  EXPECT_THAT(keysOf(cache.listByLabel("b", "tier", "1")), ElementsAre("b/y"));
  ObjectPtr previous = cache.upsert(object("a", "x", "2", {{"tier", "2"}})).oldObject;
  ASSERT_NE(previous, nullptr);
  EXPECT_EQ(previous->at("metadata").at("resourceVersion"), "1");
  EXPECT_THAT(keysOf(cache.listByLabel("", "tier", "1")), ElementsAre("b/y"));
  EXPECT_THAT(keysOf(cache.listByLabel("", "tier", "2")), ElementsAre("a/x"));
}

TEST(ObjectCache, ReplaceReportsAddsUpdatesAndVanishedObjects) {
  ObjectCache cache;
  cache.upsert(object("a", "kept", "1"));
  cache.upsert(object("a", "changed", "1"));
  cache.upsert(object("a", "vanished", "1", {{"x", "y"}}));
  const auto deltas = cache.replace(
      {object("a", "kept", "1"), object("a", "changed", "2"), object("a", "new", "3")});
  std::vector<std::string> described;
  for (const auto& delta : deltas) {
    if (!delta.oldObject)
      described.push_back("add " + objectKey(*delta.newObject));
    else if (!delta.newObject)
      described.push_back("delete " + objectKey(*delta.oldObject));
    else
      described.push_back("update " + objectKey(*delta.newObject));
  }
  EXPECT_THAT(described,
              UnorderedElementsAre("delete a/vanished", "update a/changed", "add a/new"));
  EXPECT_THAT(cache.keys(), ElementsAre("a/changed", "a/kept", "a/new"));
  EXPECT_THAT(cache.listByLabel("", "x", "y"), IsEmpty());
}

TEST(ObjectCache, ReadersKeepTheVersionTheyHold) {
  ObjectCache cache;
  cache.upsert(object("a", "x", "1"));
  ObjectPtr held = cache.get("a/x");
  cache.upsert(object("a", "x", "2"));
  EXPECT_EQ(held->at("metadata").at("resourceVersion"), "1");
  EXPECT_EQ(cache.get("a/x")->at("metadata").at("resourceVersion"), "2");
}

// The cache keeps objects compact; what a reader gets back is the object as stored, every
// field of it: a foreign kind's fields relops knows nothing of, numbers of every type,
// nulls, Unicode, empty containers.
TEST(ObjectCache, EveryFieldSurvivesTheCompactForm) {
  const json stored = {
      {"apiVersion", "example.com/v1"},
      {"kind", "Widget"},
      {"metadata",
       {{"name", "w"},
        {"namespace", "a"},
        {"resourceVersion", "42"},
        {"generation", 7},
        {"labels", {{"app", "shop"}}},
        {"ownerReferences", json::array({{{"uid", "u-1"}, {"controller", true}}})}}},
      {"spec",
       {{"unknownField", {{"deep", json::array({1, -2, 3.25, 1e300, nullptr, true})}}},
        {"text", "Grüße, 世界 \u00e9"},
        {"big", 18446744073709551615ULL},
        {"negative", -9223372036854775807LL},
        {"empty", json::object()},
        {"none", json::array()}}},
      {"status", {{"conditions", json::array({{{"type", "Ready"}, {"status", "True"}}})}}}};
  ObjectCache cache;
  const ObjectCache::Delta added = cache.upsert(stored);
  EXPECT_EQ(added.oldObject, nullptr);
  EXPECT_EQ(*added.newObject, stored);

  EXPECT_EQ(*cache.get("a/w"), stored);
  EXPECT_EQ(*cache.listNamespace("a").at(0), stored);
  EXPECT_THAT(cache.replace({stored}), IsEmpty());  // the same resourceVersion: no change
  EXPECT_EQ(*cache.get("a/w"), stored);
  EXPECT_EQ(*cache.erase("a/w"), stored);
}

// One namespace is one range of keys: names that share a prefix stay out of it.
TEST(ObjectCache, ANamespaceListsOnlyItsOwnObjects) {
  ObjectCache cache;
  for (const char* ns : {"a", "a-b", "a.b", "ab", "a0", "b"}) cache.upsert(object(ns, "x", "1"));
  cache.upsert(object("", "cluster-wide", "1"));

  EXPECT_THAT(keysOf(cache.listNamespace("a")), ElementsAre("a/x"));
  EXPECT_THAT(keysOf(cache.listNamespace("a-b")), ElementsAre("a-b/x"));
  EXPECT_THAT(keysOf(cache.listNamespace("ab")), ElementsAre("ab/x"));
  EXPECT_THAT(cache.listNamespace("c"), IsEmpty());
  EXPECT_EQ(cache.list().size(), 7u);
}

// A relist is built page by page, then swapped in; its deltas are delivered outside the
// lock, so a handler may read the cache, and it reads the new contents.
TEST(ObjectCache, AReplacementIsSwappedInBeforeItsDeltasAreDelivered) {
  ObjectCache cache;
  cache.upsert(object("a", "old", "1"));
  ObjectCache::Replacement fresh = cache.replacement();
  fresh.add(object("a", "x", "1"));
  fresh.add(object("a", "y", "1"));
  std::vector<std::string> seen;

  cache.replace(std::move(fresh), [&](const ObjectCache::Delta& delta) {
    const ObjectPtr object = delta.newObject ? delta.newObject : delta.oldObject;
    const bool cached = cache.get(objectKey(*object)) != nullptr;
    seen.push_back(objectKey(*object) + (cached ? " cached" : " gone"));
  });

  EXPECT_THAT(seen, UnorderedElementsAre("a/old gone", "a/x cached", "a/y cached"));
  EXPECT_EQ(cache.size(), 2u);
}

// An index files each object under the values its function gives, and follows updates,
// deletes and relists.
TEST(ObjectCache, AnIndexFollowsUpdatesDeletesAndRelists) {
  ObjectCache cache;
  cache.addIndex("tier", [](const json& object) -> std::vector<std::string> {
    const json labels = object["metadata"].value("labels", json::object());
    if (!labels.contains("tier")) return {};
    return {labels["tier"].get<std::string>(), "any"};
  });
  cache.upsert(object("a", "x", "1", {{"tier", "1"}}));
  cache.upsert(object("b", "y", "1", {{"tier", "1"}}));
  cache.upsert(object("b", "z", "1"));
  EXPECT_THAT(keysOf(cache.byIndex("tier", "1")), ElementsAre("a/x", "b/y"));
  EXPECT_THAT(keysOf(cache.byIndex("tier", "any")), ElementsAre("a/x", "b/y"));
  EXPECT_THAT(cache.byIndex("other", "1"), IsEmpty());

  cache.upsert(object("a", "x", "2", {{"tier", "2"}}));
  EXPECT_THAT(keysOf(cache.byIndex("tier", "1")), ElementsAre("b/y"));
  EXPECT_THAT(keysOf(cache.byIndex("tier", "2")), ElementsAre("a/x"));
  cache.erase("b/y");
  EXPECT_THAT(cache.byIndex("tier", "1"), IsEmpty());
  EXPECT_THAT(keysOf(cache.byIndex("tier", "any")), ElementsAre("a/x"));

  cache.replace({object("b", "z", "2", {{"tier", "3"}})});
  EXPECT_THAT(cache.byIndex("tier", "2"), IsEmpty());
  EXPECT_THAT(keysOf(cache.byIndex("tier", "3")), ElementsAre("b/z"));
  EXPECT_THAT(keysOf(cache.byIndex("tier", "any")), ElementsAre("b/z"));
}

struct SelectorCase {
  const char* name;
  const char* selector;
  json labels;
  bool matches;
};

void PrintTo(const SelectorCase& c, std::ostream* os) { *os << c.name; }

class LabelSelectorTest : public ::testing::TestWithParam<SelectorCase> {};

TEST_P(LabelSelectorTest, Matches) {
  const auto selector = LabelSelector::parse(GetParam().selector);
  ASSERT_TRUE(selector.has_value());
  EXPECT_EQ(selector->matches(GetParam().labels), GetParam().matches);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, LabelSelectorTest,
    ::testing::Values(SelectorCase{"EmptyMatchesAll", "", json::object(), true},
                      SelectorCase{"Equals", "tier=1", {{"tier", "1"}}, true},
                      SelectorCase{"DoubleEquals", "tier==1", {{"tier", "1"}}, true},
                      SelectorCase{"EqualsOtherValue", "tier=1", {{"tier", "2"}}, false},
                      SelectorCase{"EqualsMissing", "tier=1", json::object(), false},
                      SelectorCase{"NotEqualsMissing", "tier!=1", json::object(), true},
                      SelectorCase{"NotEqualsSame", "tier!=1", {{"tier", "1"}}, false},
                      SelectorCase{"Exists", "tier", {{"tier", ""}}, true},
                      SelectorCase{"NotExists", "!tier", {{"tier", "1"}}, false},
                      SelectorCase{"AllTermsMustHold", "a=1, b=2", {{"a", "1"}, {"b", "3"}}, false},
                      SelectorCase{"AllTermsHold", "a=1,b=2", {{"a", "1"}, {"b", "2"}}, true}),
    [](const auto& test) { return std::string(test.param.name); });

TEST(LabelSelector, RejectsMalformed) {
  EXPECT_FALSE(LabelSelector::parse("a=1,,b=2").has_value());
  EXPECT_FALSE(LabelSelector::parse("=1").has_value());
}

}  // namespace
}  // namespace relops::runtime
