#include "operator/server/certificate_watcher.h"

#include <utility>

namespace relops::server {

CertificateWatcher::CertificateWatcher(HttpServer& server, std::string dir, TlsCertificate current,
                                       std::chrono::milliseconds interval, runtime::Logger log)
    : server_(server),
      dir_(std::move(dir)),
      current_(std::move(current)),
      interval_(interval),
      log_(std::move(log)) {
  thread_ = std::thread([this] {
    std::unique_lock lock(mutex_);
    while (!wake_.wait_for(lock, interval_, [this] { return stopping_; })) {
      lock.unlock();
      poll();
      lock.lock();
    }
  });
}

CertificateWatcher::~CertificateWatcher() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

bool CertificateWatcher::poll() {
  std::lock_guard pollLock(pollMutex_);
  base::Result<TlsCertificate> loaded = loadTlsCertificate(dir_);
  // Half-written during a rotation, or gone: keep serving the old pair.
  if (!loaded.ok()) return false;
  if (loaded->certificatePem == current_.certificatePem &&
      loaded->privateKeyPem == current_.privateKeyPem) {
    return false;
  }
  if (base::Result<void> reloaded = server_.reloadCertificate(*loaded); !reloaded.ok()) {
    log_.warn("new certificate not loaded; the old one is still served",
              {{"dir", dir_}, {"error", reloaded.error().describe()}});
    return false;
  }
  current_ = std::move(*loaded);
  log_.info("certificate reloaded", {{"dir", dir_}});
  return true;
}

}  // namespace relops::server
