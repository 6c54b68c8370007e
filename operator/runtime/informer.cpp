#include "operator/runtime/informer.h"

namespace relops::runtime {

Informer::Informer(kube::Client& client, kube::ResourceRef resource, const base::Clock& clock,
                   Logger log, ReflectorOptions options)
    : resource_(resource),
      reflector_(client, std::move(resource), cache_, *this, clock, std::move(log),
                 std::move(options)) {}

Informer::~Informer() { stop(); }

void Informer::addHandlers(EventHandlers handlers) {
  std::vector<ObjectPtr> existing;
  {
    std::lock_guard lock(mutex_);
    handlers_.push_back(handlers);
    if (thread_.joinable()) existing = cache_.list();
  }
  if (handlers.onAdd) {
    for (const ObjectPtr& object : existing) handlers.onAdd(object);
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
