// The Alertmanager every kind of `relops run` talks to: one --alertmanager-url and
// --alertmanager-ca-file, one client. The application creates one Endpoint and hands it to
// each kind that uses Alertmanager (app/kinds.cpp); addFlags() registers the flags on a flag
// set once however many kinds call it, and client() connects once, on first use.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "operator/alertmanager/alertmanager_api.h"

namespace relops::cli {
class FlagSet;
}

namespace relops::alertmanager {

class Endpoint {
 public:
  Endpoint() = default;
  // A fixed client (tests): flags and connecting are skipped.
  explicit Endpoint(std::shared_ptr<AlertmanagerApi> client) : client_(std::move(client)) {}

  void addFlags(cli::FlagSet& flags);
  // Null when no --alertmanager-url is set; kConfig when the flags cannot work.
  base::Result<AlertmanagerApi*> client();

 private:
  std::mutex mutex_;
  const cli::FlagSet* registeredOn_ = nullptr;
  AlertmanagerOptions options_;
  std::shared_ptr<AlertmanagerApi> client_;
};

}  // namespace relops::alertmanager
