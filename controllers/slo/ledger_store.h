// The in-memory workload ledgers of the SLO controller, keyed by the SLO's UID.
//
// A ledger belongs to one object, not to a namespace/name: an SLO deleted and recreated
// under the same name (an Argo CD replace, a CRD reinstall, a restore without status) is
// a new object with a new UID and never inherits the old one's minutes, even when the
// recreation falls between two reconciles. A key whose UID changed drops the old ledger.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "controllers/slo/timeslices.h"

namespace relops::slo {

class LedgerStore {
 public:
  // The ledger of the object `key` (namespace/name) with `uid`. On first sight of this
  // UID it is built by `restore` (from the object's own status); a ledger kept for an
  // earlier object of the same key is dropped.
  TimesliceLedger& ledgerFor(const std::string& key, const std::string& uid,
                             const std::function<TimesliceLedger()>& restore);
  // The object `key` is gone: drop its ledger.
  void forget(const std::string& key);
  size_t size() const { return ledgers_.size(); }
  bool holds(const std::string& uid) const { return ledgers_.contains(uid); }

 private:
  std::map<std::string, TimesliceLedger> ledgers_;  // by UID
  std::map<std::string, std::string> uids_;         // namespace/name → UID
};

}  // namespace relops::slo
