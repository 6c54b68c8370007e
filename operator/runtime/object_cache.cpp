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

void ObjectCache::indexLocked(const std::string& key, const json& object) {
  const json& metadata = metadataOf(object);
  byNamespace_[stringField(metadata, "namespace")].insert(key);
  if (const auto labels = metadata.find("labels");
      labels != metadata.end() && labels->is_object()) {
    for (const auto& [label, value] : labels->items()) {
      if (value.is_string()) byLabel_[label + "=" + value.get<std::string>()].insert(key);
    }
  }
}

void ObjectCache::unindexLocked(const std::string& key, const json& object) {
  auto eraseFrom = [&](std::map<std::string, std::set<std::string>>& index,
                       const std::string& indexKey) {
    const auto it = index.find(indexKey);
    if (it == index.end()) return;
    it->second.erase(key);
    if (it->second.empty()) index.erase(it);
  };
  const json& metadata = metadataOf(object);
  eraseFrom(byNamespace_, stringField(metadata, "namespace"));
  if (const auto labels = metadata.find("labels");
      labels != metadata.end() && labels->is_object()) {
    for (const auto& [label, value] : labels->items()) {
      if (value.is_string()) eraseFrom(byLabel_, label + "=" + value.get<std::string>());
    }
  }
}

ObjectPtr ObjectCache::upsert(json object) {
  const std::string key = objectKey(object);
  auto stored = std::make_shared<const json>(std::move(object));
  std::unique_lock lock(mutex_);
  ObjectPtr previous;
  if (const auto it = objects_.find(key); it != objects_.end()) {
    previous = it->second;
    unindexLocked(key, *previous);
  }
  indexLocked(key, *stored);
  objects_[key] = std::move(stored);
  return previous;
}

ObjectPtr ObjectCache::erase(const std::string& key) {
  std::unique_lock lock(mutex_);
  const auto it = objects_.find(key);
  if (it == objects_.end()) return nullptr;
  ObjectPtr previous = it->second;
  unindexLocked(key, *previous);
  objects_.erase(it);
  return previous;
}

std::vector<ObjectCache::Delta> ObjectCache::replace(std::vector<json> objects) {
  std::map<std::string, ObjectPtr> fresh;
  for (json& object : objects) {
    std::string key = objectKey(object);
    fresh[std::move(key)] = std::make_shared<const json>(std::move(object));
  }
  std::vector<Delta> deltas;
  std::unique_lock lock(mutex_);
  for (const auto& [key, old] : objects_) {
    if (!fresh.contains(key)) deltas.push_back({old, nullptr});
  }
  for (const auto& [key, object] : fresh) {
    const auto it = objects_.find(key);
    if (it == objects_.end()) {
      deltas.push_back({nullptr, object});
    } else if (stringField(metadataOf(*it->second), "resourceVersion") !=
               stringField(metadataOf(*object), "resourceVersion")) {
      deltas.push_back({it->second, object});
    }
  }
  objects_ = std::move(fresh);
  byNamespace_.clear();
  byLabel_.clear();
  for (const auto& [key, object] : objects_) indexLocked(key, *object);
  return deltas;
}

ObjectPtr ObjectCache::get(const std::string& key) const {
  std::shared_lock lock(mutex_);
  const auto it = objects_.find(key);
  return it == objects_.end() ? nullptr : it->second;
}

std::vector<ObjectPtr> ObjectCache::list() const {
  std::shared_lock lock(mutex_);
  std::vector<ObjectPtr> result;
  result.reserve(objects_.size());
  for (const auto& [key, object] : objects_) result.push_back(object);
  return result;
}

std::vector<ObjectPtr> ObjectCache::listNamespace(const std::string& namespace_) const {
  if (namespace_.empty()) return list();
  std::shared_lock lock(mutex_);
  std::vector<ObjectPtr> result;
  if (const auto it = byNamespace_.find(namespace_); it != byNamespace_.end()) {
    for (const std::string& key : it->second) result.push_back(objects_.at(key));
  }
  return result;
}

std::vector<ObjectPtr> ObjectCache::listByLabel(const std::string& namespace_,
                                                const std::string& key,
                                                const std::string& value) const {
  std::shared_lock lock(mutex_);
  std::vector<ObjectPtr> result;
  const auto it = byLabel_.find(key + "=" + value);
  if (it == byLabel_.end()) return result;
  for (const std::string& objectKeyText : it->second) {
    const ObjectPtr& object = objects_.at(objectKeyText);
    if (namespace_.empty() || stringField(metadataOf(*object), "namespace") == namespace_) {
      result.push_back(object);
    }
  }
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
  for (const auto& [key, object] : objects_) result.push_back(key);
  return result;
}

size_t ObjectCache::size() const {
  std::shared_lock lock(mutex_);
  return objects_.size();
}

}  // namespace relops::runtime
