#include "operator/runtime/write_memo.h"

#include <functional>

namespace relops::runtime {

namespace {

std::string objectId(const kube::ResourceRef& resource, const kube::ObjectKey& key) {
  return resource.group + "/" + resource.resource + "/" + key.str();
}

uint64_t hashOf(std::string_view content) { return std::hash<std::string_view>{}(content); }

}  // namespace

bool WriteMemo::replay(const kube::ResourceRef& resource, const kube::ObjectKey& key,
                       std::string_view target, std::string_view cachedVersion,
                       std::string_view content) const {
  const std::string id = objectId(resource, key);
  std::lock_guard lock(mutex_);
  const auto object = entries_.find(id);
  if (object == entries_.end()) return false;
  const auto entry = object->second.find(std::string(target));
  return entry != object->second.end() && entry->second.cachedVersion == cachedVersion &&
         entry->second.contentHash == hashOf(content);
}

void WriteMemo::wrote(const kube::ResourceRef& resource, const kube::ObjectKey& key,
                      std::string_view target, std::string_view cachedVersion,
                      std::string_view content) {
  const std::string id = objectId(resource, key);
  std::lock_guard lock(mutex_);
  entries_[id][std::string(target)] = Entry{std::string(cachedVersion), hashOf(content)};
}

void WriteMemo::forget(const kube::ResourceRef& resource, const kube::ObjectKey& key) {
  const std::string id = objectId(resource, key);
  std::lock_guard lock(mutex_);
  entries_.erase(id);
}

void WriteMemo::clear() {
  std::lock_guard lock(mutex_);
  entries_.clear();
}

size_t WriteMemo::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace relops::runtime
