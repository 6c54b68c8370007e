// The informer's thread-safe cache of one resource's objects, with a
// namespace index and a label index (client-go's ThreadSafeStore with
// cache.NamespaceIndex). Objects are immutable once stored: readers hold a
// shared_ptr and never see a half-updated object.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <vector>

namespace relops::runtime {

using ObjectPtr = std::shared_ptr<const nlohmann::json>;

// The store key of an object: "namespace/name", or "name" if cluster-scoped.
std::string objectKey(const nlohmann::json& object);

// A label selector in the subset the controllers need: equality terms
// ("a=b,c=d"), "a!=b", and existence ("a", "!a"). Parsed once.
class LabelSelector {
 public:
  static std::optional<LabelSelector> parse(const std::string& text);
  bool matches(const nlohmann::json& labels) const;
  bool empty() const { return terms_.empty(); }

 private:
  enum class Op { kEquals, kNotEquals, kExists, kNotExists };
  struct Term {
    std::string key;
    Op op;
    std::string value;
  };
  std::vector<Term> terms_;
};

class ObjectCache {
 public:
  struct Delta {
    ObjectPtr oldObject;  // null for an add
    ObjectPtr newObject;  // null for a delete
  };

  // Stores the object (add or update); returns the previous version, if any.
  ObjectPtr upsert(nlohmann::json object);
  // Removes by key; returns what was stored, if anything.
  ObjectPtr erase(const std::string& key);
  // Replaces the whole contents with a fresh list and returns what changed:
  // adds, updates (resourceVersion differs), and deletes of objects that
  // vanished between the lists (client-go's DeltaFIFO Replace).
  std::vector<Delta> replace(std::vector<nlohmann::json> objects);

  ObjectPtr get(const std::string& key) const;
  std::vector<ObjectPtr> list() const;
  std::vector<ObjectPtr> listNamespace(const std::string& namespace_) const;
  // Objects in `namespace_` ("" for all) whose labels have key=value.
  std::vector<ObjectPtr> listByLabel(const std::string& namespace_, const std::string& key,
                                     const std::string& value) const;
  std::vector<ObjectPtr> select(const std::string& namespace_, const LabelSelector& selector) const;
  std::vector<std::string> keys() const;
  size_t size() const;

 private:
  void indexLocked(const std::string& key, const nlohmann::json& object);
  void unindexLocked(const std::string& key, const nlohmann::json& object);

  mutable std::shared_mutex mutex_;
  std::map<std::string, ObjectPtr> objects_;
  std::map<std::string, std::set<std::string>> byNamespace_;
  std::map<std::string, std::set<std::string>> byLabel_;  // "key=value" -> object keys
};

}  // namespace relops::runtime
