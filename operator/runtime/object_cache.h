// The informer's thread-safe cache of one resource's objects (client-go's ThreadSafeStore).
//
// Compact: an object is kept as its resourceVersion and its CBOR encoding — every field,
// unknown ones included — about a tenth of the memory of the parsed form (nlohmann::json
// spends a node and a heap string per field). A read decodes a fresh immutable copy: the
// caller holds a shared_ptr and never sees a half-updated object, and what it holds is freed
// when it lets go. Keys are "namespace/name", ordered, so one namespace is one range of the
// map and needs no index of its own.
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
#include <string_view>
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
  // The values an object is filed under in an index (client-go's IndexFunc), computed once
  // as the object is stored, from its parsed form; a reader then finds the few objects it
  // needs without decoding the rest.
  using IndexFunction = std::function<std::vector<std::string>(const nlohmann::json& object)>;
  using IndexFunctions = std::map<std::string, IndexFunction, std::less<>>;

  // Adds an index named `name`. Call before the first object is stored.
  void addIndex(std::string name, IndexFunction function);
  // The objects `index` files under `value`, ordered by key.
  std::vector<ObjectPtr> byIndex(std::string_view index, std::string_view value) const;

  // Stores the object (add or update); returns the previous version (null if none) and
  // the object as stored.
  Delta upsert(nlohmann::json object);
  // Removes by key; returns what was stored, if anything.
  ObjectPtr erase(const std::string& key);

  // A fresh list, filled page by page as it arrives (compacted at once, so the whole list is
  // never held parsed), then swapped in by replace(). Made by replacement(), which gives it
  // the cache's indexes.
  class Replacement {
   public:
    void add(const nlohmann::json& object);
    size_t size() const { return objects_.size(); }
    struct Entry;  // an object's compact form (object_cache.cpp)

   private:
    friend class ObjectCache;
    explicit Replacement(std::shared_ptr<const IndexFunctions> indexes)
        : indexes_(std::move(indexes)) {}
    std::shared_ptr<const IndexFunctions> indexes_;
    std::map<std::string, std::shared_ptr<const Entry>, std::less<>> objects_;
  };
  Replacement replacement() const;
  // Replaces the whole contents with `fresh` and hands `deliver` what changed, one at a time
  // and outside the lock (so it may read the cache): adds, updates (resourceVersion
  // differs), and deletes of objects that vanished between the lists (client-go's DeltaFIFO
  // Replace). Each delta is decoded as it is delivered.
  void replace(Replacement fresh, const std::function<void(const Delta&)>& deliver);
  // The same for a list already parsed; returns every delta (tests).
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
  using Entry = Replacement::Entry;
  // Calls `visit` with the entry of each object of `namespace_` ("" for all), under the lock.
  template <typename Visit>
  void forEachLocked(const std::string& namespace_, Visit visit) const;

  void indexLocked(const std::string& key, const Entry& entry);
  void unindexLocked(const std::string& key, const Entry& entry);

  mutable std::shared_mutex mutex_;
  std::map<std::string, std::shared_ptr<const Entry>, std::less<>> objects_;
  std::shared_ptr<const IndexFunctions> indexes_ = std::make_shared<IndexFunctions>();
  // "index\0value" -> the keys of the objects filed there.
  std::map<std::string, std::set<std::string, std::less<>>, std::less<>> index_;
};

}  // namespace relops::runtime
