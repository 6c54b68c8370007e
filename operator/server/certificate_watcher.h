// Reloads a listener's certificate when the files in its directory change, as
// controller-runtime's certwatcher does: cert-manager (or the kubelet updating
// a mounted Secret) rotates tls.crt/tls.key and relops serves the new pair
// without a restart. Polls, since a Secret volume swaps a symlink rather than
// writing the files.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "operator/runtime/log.h"
#include "operator/server/http_server.h"
#include "operator/server/tls.h"

namespace relops::server {

class CertificateWatcher {
 public:
  // `current` is what the server serves now. The server must outlive the watcher.
  CertificateWatcher(HttpServer& server, std::string dir, TlsCertificate current,
                     std::chrono::milliseconds interval = std::chrono::seconds(10),
                     runtime::Logger log = runtime::discardLogger());
  ~CertificateWatcher();  // stops the polling thread
  CertificateWatcher(const CertificateWatcher&) = delete;
  CertificateWatcher& operator=(const CertificateWatcher&) = delete;

  // One poll: loads the directory and, when the pair changed, reloads it.
  // True when a new certificate is now served.
  bool poll();

 private:
  HttpServer& server_;
  std::string dir_;
  TlsCertificate current_;
  std::chrono::milliseconds interval_;
  runtime::Logger log_;
  std::mutex pollMutex_;  // poll() from the thread and from callers
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace relops::server
