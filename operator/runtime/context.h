// What a reconciler works through: the shared caches, the API client, the clock, the event
// recorder and the metrics registry. The Manager is the one implementation a process has;
// reconciler unit tests use an in-memory one (tests/support/fake_context.h) whose cache reads
// the FakeClient's objects. A reconciler holds a Context&, never the Manager: registering its
// watches (a kind's add()) is the only step that needs the Manager.
#pragma once

#include <string>
#include <vector>

#include "operator/base/clock.h"
#include "operator/kube/client.h"
#include "operator/kube/resource.h"
#include "operator/runtime/object_cache.h"
#include "operator/runtime/write_memo.h"

namespace relops::runtime {

class EventRecorder;
class Registry;

class Context {
 public:
  virtual ~Context() = default;
  // An object from the shared caches; null if absent or not watched.
  virtual ObjectPtr cached(const kube::ResourceRef& resource, const kube::ObjectKey& key) = 0;
  // Objects of `resource` in `namespace_` ("" for every watched namespace).
  virtual std::vector<ObjectPtr> cachedList(const kube::ResourceRef& resource,
                                            const std::string& namespace_) = 0;
  virtual kube::Client& client() = 0;
  virtual const base::Clock& clock() const = 0;
  virtual EventRecorder& recorder() = 0;
  // Where a reconciler registers its own metric families (in its constructor).
  virtual Registry& registry() = 0;
  // The writes whose watch events the caches have not shown yet (write_memo.h).
  virtual WriteMemo& writeMemo() = 0;
};

}  // namespace relops::runtime
