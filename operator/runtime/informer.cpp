#include "operator/runtime/informer.h"

namespace relops::runtime {

Informer::Informer(kube::Client& client, kube::ResourceRef resource, const base::Clock& clock,
                   Logger log, ReflectorOptions options)
    : resource_(resource),
      reflector_(client, std::move(resource), cache_, *this, clock, std::move(log),
                 std::move(options)) {}

Informer::~Informer() { stop(); }

void Informer::addHandlers(EventHandlers handlers) {
  std::vector<std::string> existing;
  {
    std::lock_guard lock(mutex_);
    handlers_.push_back(handlers);
    if (thread_.joinable()) existing = cache_.keys();
  }
  if (!handlers.onAdd) return;
  // One object decoded at a time: decoding the whole cache at once (10,000 objects) would
  // hold every object's parsed form together, several times the compact cache. An object
  // changed since is delivered as it is now (its update reaches the handlers too); one
  // deleted since is skipped (its delete does).
  for (const std::string& key : existing) {
    if (const ObjectPtr object = cache_.get(key)) handlers.onAdd(object);
  }
}

void Informer::start() {
  std::lock_guard lock(mutex_);
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { reflector_.run(); });
}

void Informer::stop() {
  reflector_.stop();
  if (thread_.joinable()) thread_.join();
}

bool Informer::waitForSync(std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!hasSynced()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

std::vector<EventHandlers> Informer::handlersSnapshot() const {
  std::lock_guard lock(mutex_);
  return handlers_;
}

void Informer::onAdd(const ObjectPtr& object) {
  for (const EventHandlers& handlers : handlersSnapshot()) {
    if (handlers.onAdd) handlers.onAdd(object);
  }
}

void Informer::onUpdate(const ObjectPtr& oldObject, const ObjectPtr& newObject) {
  for (const EventHandlers& handlers : handlersSnapshot()) {
    if (handlers.onUpdate) handlers.onUpdate(oldObject, newObject);
  }
}

void Informer::onDelete(const ObjectPtr& oldObject) {
  for (const EventHandlers& handlers : handlersSnapshot()) {
    if (handlers.onDelete) handlers.onDelete(oldObject);
  }
}

}  // namespace relops::runtime
