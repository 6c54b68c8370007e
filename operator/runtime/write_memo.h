// What relops wrote that its cache does not show yet. A write's own watch event reaches the
// cache some milliseconds after the write returns, and a reconcile in between (an owned
// child's event, a second trigger) decides from the old version and would send the same
// write again: a write that carries nothing, which the API server still has to process.
//
// Per object (and per write target: "status", a child), the memo holds the resourceVersion
// the write was decided from and a hash of what was written. A later write of the same
// content decided from that same version is a replay and is skipped. Any watch event for
// the object ends the entry (the Manager forgets on every add, update and delete), so the
// memo only ever covers the lag between a write and its event, and it holds at most one
// entry per object relops wrote to.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "operator/kube/resource.h"

namespace relops::runtime {

class WriteMemo {
 public:
  // True when `content` was already written to `target` ("status", "apply") of the object
  // by a decision made from `cachedVersion` (the resourceVersion the cache shows; "" for an
  // object not cached), and no watch event for the object has arrived since.
  bool replay(const kube::ResourceRef& resource, const kube::ObjectKey& key,
              std::string_view target, std::string_view cachedVersion,
              std::string_view content) const;
  // After a successful write decided from `cachedVersion`.
  void wrote(const kube::ResourceRef& resource, const kube::ObjectKey& key, std::string_view target,
             std::string_view cachedVersion, std::string_view content);
  // A watch event for the object: its writes are in the cache now, or it changed.
  void forget(const kube::ResourceRef& resource, const kube::ObjectKey& key);
  void clear();
  size_t size() const;

 private:
  struct Entry {
    std::string cachedVersion;
    uint64_t contentHash = 0;
  };
  mutable std::mutex mutex_;
  // By object ("group/resource/namespace/name"), then by target.
  std::unordered_map<std::string, std::unordered_map<std::string, Entry>> entries_;
};

}  // namespace relops::runtime
