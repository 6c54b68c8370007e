// A kube::Client double for reflector and controller tests: lists and
// watches answer from a script, and every request is recorded. A watch whose
// script is used up blocks like an idle watch until stop().
#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <vector>

#include "operator/kube/client.h"

namespace relops::testing {

using WatchStep = base::Result<std::optional<kube::WatchEvent>>;

class ScriptedWatch final : public kube::WatchStream {
 public:
  explicit ScriptedWatch(std::deque<WatchStep> steps, bool endWhenDone)
      : steps_(std::move(steps)), endWhenDone_(endWhenDone) {}

  base::Result<std::optional<kube::WatchEvent>> next() override {
    std::unique_lock lock(mutex_);
    if (steps_.empty() && !endWhenDone_) {
      wake_.wait(lock, [this] { return stopped_; });
    }
    if (stopped_ || steps_.empty()) return std::optional<kube::WatchEvent>();
    WatchStep step = std::move(steps_.front());
    steps_.pop_front();
    return step;
  }
  void stop() override {
    std::lock_guard lock(mutex_);
    stopped_ = true;
    wake_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<WatchStep> steps_;
  bool endWhenDone_;
  bool stopped_ = false;
};

class ScriptedClient final : public kube::Client {
 public:
  struct ScriptedWatchSpec {
    std::deque<WatchStep> steps;
    bool endWhenDone = true;  // false: stay open (idle) after the last step
  };

  void scriptList(base::Result<kube::ListPage> page) {
    std::lock_guard lock(mutex_);
    lists_.push_back(std::move(page));
  }
  void scriptWatch(ScriptedWatchSpec watch) {
    std::lock_guard lock(mutex_);
    watches_.push_back(std::move(watch));
  }
  // The next watch request fails to open with `error`.
  void scriptWatchError(base::Error error) {
    std::lock_guard lock(mutex_);
    watchErrors_.insert_or_assign(watches_.size() + watchCalls_.size(), std::move(error));
  }
  std::vector<kube::ListOptions> listCalls() const {
    std::lock_guard lock(mutex_);
    return listCalls_;
  }
  std::vector<kube::WatchOptions> watchCalls() const {
    std::lock_guard lock(mutex_);
    return watchCalls_;
  }

  base::Result<kube::ListPage> list(const kube::ResourceRef&, const std::string&,
                                    const kube::ListOptions& options) override {
    std::lock_guard lock(mutex_);
    listCalls_.push_back(options);
    if (lists_.empty()) return base::Error(base::ErrorKind::kTransient, "no list scripted");
    base::Result<kube::ListPage> page = std::move(lists_.front());
    lists_.pop_front();
    return page;
  }
  base::Result<std::unique_ptr<kube::WatchStream>> watch(
      const kube::ResourceRef&, const std::string&, const kube::WatchOptions& options) override {
    std::lock_guard lock(mutex_);
    watchCalls_.push_back(options);
    if (auto failure = watchErrors_.find(watchCalls_.size() - 1); failure != watchErrors_.end()) {
      base::Error error = failure->second;
      watchErrors_.erase(failure);
      return error;
    }
    if (watches_.empty()) {
      // Nothing more scripted: an idle watch that ends only with stop().
      return std::unique_ptr<kube::WatchStream>(
          std::make_unique<ScriptedWatch>(std::deque<WatchStep>{}, false));
    }
    ScriptedWatchSpec spec = std::move(watches_.front());
    watches_.pop_front();
    return std::unique_ptr<kube::WatchStream>(
        std::make_unique<ScriptedWatch>(std::move(spec.steps), spec.endWhenDone));
  }

  base::Result<kube::Json> get(const kube::ResourceRef&, const kube::ObjectKey&) override {
    return notScripted();
  }
  base::Result<kube::Json> create(const kube::ResourceRef&, const kube::Json&,
                                  const kube::WriteOptions&) override {
    return notScripted();
  }
  base::Result<kube::Json> update(const kube::ResourceRef&, const kube::Json&,
                                  const kube::WriteOptions&) override {
    return notScripted();
  }
  base::Result<kube::Json> patch(const kube::ResourceRef&, const kube::ObjectKey&, kube::PatchType,
                                 const std::string&, const kube::WriteOptions&) override {
    return notScripted();
  }
  base::Result<void> remove(const kube::ResourceRef&, const kube::ObjectKey&,
                            const kube::DeleteOptions&) override {
    return base::Error(base::ErrorKind::kInternal, "remove not scripted");
  }
  base::Result<kube::Json> getRaw(const std::string&) override { return notScripted(); }

 private:
  static base::Error notScripted() {
    return base::Error(base::ErrorKind::kInternal, "request not scripted");
  }

  mutable std::mutex mutex_;
  std::deque<base::Result<kube::ListPage>> lists_;
  std::deque<ScriptedWatchSpec> watches_;
  std::vector<kube::ListOptions> listCalls_;
  std::vector<kube::WatchOptions> watchCalls_;
  std::map<size_t, base::Error> watchErrors_;  // by index of the watch call
};

}  // namespace relops::testing
