#include "operator/runtime/object_cache.h"

#include <algorithm>
#include <sstream>

namespace relops::runtime {

using nlohmann::json;

namespace {

const json& metadataOf(const json& object) {
  static const json kEmpty = json::object();
  const auto it = object.find("metadata");
  return it != object.end() && it->is_object() ? *it : kEmpty;
}

std::string stringField(const json& object, const char* field) {
  const auto it = object.find(field);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string trim(const std::string& text) {
  const auto begin = text.find_first_not_of(" \t");
  if (begin == std::string::npos) return "";
  const auto end = text.find_last_not_of(" \t");
  return text.substr(begin, end - begin + 1);
}

}  // namespace

std::string objectKey(const json& object) {
  const json& metadata = metadataOf(object);
  const std::string ns = stringField(metadata, "namespace");
  const std::string name = stringField(metadata, "name");
  return ns.empty() ? name : ns + "/" + name;
}

std::optional<LabelSelector> LabelSelector::parse(const std::string& text) {
  LabelSelector selector;
  std::stringstream stream(text);
  std::string part;
  while (std::getline(stream, part, ',')) {
    part = trim(part);
    if (part.empty()) return std::nullopt;
    Term term;
    if (const auto ne = part.find("!="); ne != std::string::npos) {
      term = {trim(part.substr(0, ne)), Op::kNotEquals, trim(part.substr(ne + 2))};
    } else if (const auto eq = part.find('='); eq != std::string::npos) {
      // "a==b" is the same as "a=b".
      const size_t valueStart = part.compare(eq, 2, "==") == 0 ? eq + 2 : eq + 1;
      term = {trim(part.substr(0, eq)), Op::kEquals, trim(part.substr(valueStart))};
    } else if (part.front() == '!') {
      term = {trim(part.substr(1)), Op::kNotExists, ""};
    } else {
      term = {part, Op::kExists, ""};
    }
    if (term.key.empty()) return std::nullopt;
    selector.terms_.push_back(std::move(term));
  }
  return selector;
}

bool LabelSelector::matches(const json& labels) const {
  for (const Term& term : terms_) {
    const bool has =
        labels.is_object() && labels.contains(term.key) && labels.at(term.key).is_string();
    const std::string value = has ? labels.at(term.key).get<std::string>() : "";
    switch (term.op) {
      case Op::kEquals:
        if (!has || value != term.value) return false;
        break;
      case Op::kNotEquals:
        if (has && value == term.value) return false;
        break;
      case Op::kExists:
        if (!has) return false;
        break;
      case Op::kNotExists:
        if (has) return false;
        break;
    }
  }
  return true;
}

struct ObjectCache::Replacement::Entry {
  std::string resourceVersion;
  std::string body;                  // CBOR
  std::vector<std::string> indexed;  // "index\0value", for each value of each index
};

namespace {

using Entry = ObjectCache::Replacement::Entry;

std::string indexKey(std::string_view index, std::string_view value) {
  std::string key(index);
  key += '\0';
  key += value;
  return key;
}

std::shared_ptr<const Entry> compact(const json& object,
                                     const ObjectCache::IndexFunctions& indexes) {
  auto entry = std::make_shared<Entry>();
  for (const auto& [name, function] : indexes) {
    for (const std::string& value : function(object))
      entry->indexed.push_back(indexKey(name, value));
  }
  entry->resourceVersion = stringField(metadataOf(object), "resourceVersion");
  // Into a string of exactly the encoded size: a vector grown by to_cbor keeps up to twice
  // the capacity it needs.
  std::vector<std::uint8_t> encoded = json::to_cbor(object);
  entry->body.assign(encoded.begin(), encoded.end());
  return entry;
}

ObjectPtr decode(const std::shared_ptr<const Entry>& entry) {
  if (!entry) return nullptr;
  // The cache's own encoding of a parsed object: it decodes. Should it not, the object
  // reads as absent rather than throwing into a reconcile.
  json object = json::from_cbor(entry->body, /*strict=*/true, /*allow_exceptions=*/false);
  if (object.is_discarded()) return nullptr;
  return std::make_shared<const json>(std::move(object));
}

// The first key after every "namespace/..." key: '0' follows '/'.
std::string namespaceEnd(const std::string& namespace_) { return namespace_ + "0"; }

}  // namespace

void ObjectCache::Replacement::add(const json& object) {
  objects_[objectKey(object)] = compact(object, *indexes_);
}

ObjectCache::Replacement ObjectCache::replacement() const {
  std::shared_lock lock(mutex_);
  return Replacement(indexes_);
}

void ObjectCache::addIndex(std::string name, IndexFunction function) {
  std::unique_lock lock(mutex_);
  auto indexes = std::make_shared<IndexFunctions>(*indexes_);
  (*indexes)[std::move(name)] = std::move(function);
  indexes_ = std::move(indexes);
}

void ObjectCache::indexLocked(const std::string& key, const Entry& entry) {
  for (const std::string& filed : entry.indexed) index_[filed].insert(key);
}

void ObjectCache::unindexLocked(const std::string& key, const Entry& entry) {
  for (const std::string& filed : entry.indexed) {
    const auto it = index_.find(filed);
    if (it == index_.end()) continue;
    it->second.erase(key);
    if (it->second.empty()) index_.erase(it);
  }
}

std::vector<ObjectPtr> ObjectCache::byIndex(std::string_view index, std::string_view value) const {
  std::vector<std::shared_ptr<const Entry>> entries;
  {
    std::shared_lock lock(mutex_);
    const auto filed = index_.find(indexKey(index, value));
    if (filed == index_.end()) return {};
    for (const std::string& key : filed->second) entries.push_back(objects_.at(key));
  }
  std::vector<ObjectPtr> result;
  for (const auto& entry : entries) {
    if (ObjectPtr object = decode(entry)) result.push_back(std::move(object));
  }
  return result;
}

template <typename Visit>
void ObjectCache::forEachLocked(const std::string& namespace_, Visit visit) const {
  if (namespace_.empty()) {
    for (const auto& [key, entry] : objects_) visit(entry);
    return;
  }
  const auto end = objects_.lower_bound(namespaceEnd(namespace_));
  for (auto it = objects_.lower_bound(namespace_ + "/"); it != end; ++it) visit(it->second);
}

ObjectCache::Delta ObjectCache::upsert(json object) {
  const std::string key = objectKey(object);
  std::shared_ptr<const IndexFunctions> indexes;
  {
    std::shared_lock lock(mutex_);
    indexes = indexes_;
  }
  std::shared_ptr<const Entry> entry = compact(object, *indexes);
  std::shared_ptr<const Entry> previous;
  {
    std::unique_lock lock(mutex_);
    std::shared_ptr<const Entry>& slot = objects_[key];
    if (slot) unindexLocked(key, *slot);
    indexLocked(key, *entry);
    previous = std::move(slot);
    slot = std::move(entry);
  }
  return {decode(previous), std::make_shared<const json>(std::move(object))};
}

ObjectPtr ObjectCache::erase(const std::string& key) {
  std::shared_ptr<const Entry> previous;
  {
    std::unique_lock lock(mutex_);
    const auto it = objects_.find(key);
    if (it == objects_.end()) return nullptr;
    previous = std::move(it->second);
    unindexLocked(key, *previous);
    objects_.erase(it);
  }
  return decode(previous);
}

void ObjectCache::replace(Replacement fresh, const std::function<void(const Delta&)>& deliver) {
  // What changed, as entries: compact until each is delivered.
  struct Change {
    std::shared_ptr<const Entry> before;
    std::shared_ptr<const Entry> after;
  };
  std::vector<Change> changes;
  {
    std::unique_lock lock(mutex_);
    for (const auto& [key, old] : objects_) {
      if (!fresh.objects_.contains(key)) changes.push_back({old, nullptr});
    }
    for (const auto& [key, entry] : fresh.objects_) {
      const auto it = objects_.find(key);
      if (it == objects_.end()) {
        changes.push_back({nullptr, entry});
      } else if (it->second->resourceVersion != entry->resourceVersion) {
        changes.push_back({it->second, entry});
      }
    }
    objects_ = std::move(fresh.objects_);
    index_.clear();
    for (const auto& [key, entry] : objects_) indexLocked(key, *entry);
  }
  for (const Change& change : changes) deliver({decode(change.before), decode(change.after)});
}

std::vector<ObjectCache::Delta> ObjectCache::replace(std::vector<json> objects) {
  Replacement fresh = replacement();
  for (const json& object : objects) fresh.add(object);
  std::vector<Delta> deltas;
  replace(std::move(fresh), [&](const Delta& delta) { deltas.push_back(delta); });
  return deltas;
}

ObjectPtr ObjectCache::get(const std::string& key) const {
  std::shared_ptr<const Entry> entry;
  {
    std::shared_lock lock(mutex_);
    const auto it = objects_.find(key);
    if (it == objects_.end()) return nullptr;
    entry = it->second;
  }
  return decode(entry);
}

std::vector<ObjectPtr> ObjectCache::list() const { return listNamespace(""); }

std::vector<ObjectPtr> ObjectCache::listNamespace(const std::string& namespace_) const {
  std::vector<std::shared_ptr<const Entry>> entries;
  {
    std::shared_lock lock(mutex_);
    forEachLocked(namespace_,
                  [&](const std::shared_ptr<const Entry>& entry) { entries.push_back(entry); });
  }
  std::vector<ObjectPtr> result;
  result.reserve(entries.size());
  for (const auto& entry : entries) {
    if (ObjectPtr object = decode(entry)) result.push_back(std::move(object));
  }
  return result;
}

std::vector<ObjectPtr> ObjectCache::listByLabel(const std::string& namespace_,
                                                const std::string& key,
                                                const std::string& value) const {
  std::vector<ObjectPtr> result = listNamespace(namespace_);
  std::erase_if(result, [&](const ObjectPtr& object) {
    const json& labels = metadataOf(*object).value("labels", json::object());
    return !labels.is_object() || stringField(labels, key.c_str()) != value ||
           !labels.contains(key);
  });
  return result;
}

std::vector<ObjectPtr> ObjectCache::select(const std::string& namespace_,
                                           const LabelSelector& selector) const {
  std::vector<ObjectPtr> candidates = listNamespace(namespace_);
  std::erase_if(candidates, [&](const ObjectPtr& object) {
    const json& metadata = metadataOf(*object);
    const auto labels = metadata.find("labels");
    return !selector.matches(labels != metadata.end() ? *labels : json::object());
  });
  return candidates;
}

std::vector<std::string> ObjectCache::keys() const {
  std::shared_lock lock(mutex_);
  std::vector<std::string> result;
  result.reserve(objects_.size());
  for (const auto& [key, entry] : objects_) result.push_back(key);
  return result;
}

size_t ObjectCache::size() const {
  std::shared_lock lock(mutex_);
  return objects_.size();
}

}  // namespace relops::runtime
