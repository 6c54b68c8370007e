#include "controllers/slo/ledger_store.h"

namespace relops::slo {

TimesliceLedger& LedgerStore::ledgerFor(const std::string& key, const std::string& uid,
                                        const std::function<TimesliceLedger()>& restore) {
  auto known = uids_.find(key);
  if (known != uids_.end() && known->second != uid) {
    ledgers_.erase(known->second);  // a recreated object: the old one's minutes are not its own
    known->second = uid;
  } else if (known == uids_.end()) {
    uids_.emplace(key, uid);
  }
  auto it = ledgers_.find(uid);
  if (it == ledgers_.end()) it = ledgers_.emplace(uid, restore()).first;
  return it->second;
}

void LedgerStore::forget(const std::string& key) {
  const auto known = uids_.find(key);
  if (known == uids_.end()) return;
  ledgers_.erase(known->second);
  uids_.erase(known);
}

}  // namespace relops::slo
