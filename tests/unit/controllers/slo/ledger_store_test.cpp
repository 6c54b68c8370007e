#include "controllers/slo/ledger_store.h"

#include <gtest/gtest.h>

namespace relops::slo {
namespace {

using std::chrono::minutes;

const TimePoint kT0 = *parseRfc3339("2026-03-01T00:00:00Z", "t");
const Duration kDay = *Duration::parse("1d", "d");

TimesliceLedger badFor(int count) {
  TimesliceLedger ledger;
  ledger.observe(kT0, SliceState::kBad, kDay);
  ledger.observe(kT0 + minutes(count), SliceState::kBad, kDay, minutes(count));
  return ledger;
}

// A ledger is the object's (its UID's), never its name's: a recreated SLO starts from its
// own status, even when it was recreated between two reconciles.
TEST(LedgerStore, KeysLedgersByUid) {
  struct Step {
    const char* name;
    const char* key;
    const char* uid;
    int restoredBad;  // what the object's own status holds
    int64_t wantBad;
    bool restoreCalled;
  };
  const std::vector<Step> steps = {
      {"first sight restores from status", "shop/web", "uid-1", 7, 7, true},
      {"same object: kept in memory", "shop/web", "uid-1", 99, 7, false},
      {"recreated between reconciles: its own (empty) status", "shop/web", "uid-2", 0, 0, true},
      {"another SLO is separate", "shop/cart", "uid-3", 2, 2, true},
      {"the old UID never comes back to life", "shop/web", "uid-2", 99, 0, false},
  };
  LedgerStore store;
  for (const Step& step : steps) {
    SCOPED_TRACE(step.name);
    bool called = false;
    TimesliceLedger& ledger = store.ledgerFor(step.key, step.uid, [&] {
      called = true;
      return step.restoredBad > 0 ? badFor(step.restoredBad) : TimesliceLedger();
    });
    EXPECT_EQ(called, step.restoreCalled);
    EXPECT_EQ(ledger.totals().bad, step.wantBad);
  }
  EXPECT_FALSE(store.holds("uid-1"));
  EXPECT_EQ(store.size(), 2u);
  store.forget("shop/web");
  EXPECT_FALSE(store.holds("uid-2"));
  EXPECT_TRUE(store.holds("uid-3"));
  store.forget("shop/unknown");
  EXPECT_EQ(store.size(), 1u);
}

}  // namespace
}  // namespace relops::slo
