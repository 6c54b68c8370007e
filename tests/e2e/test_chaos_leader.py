"""Leader election under load: two relops replicas with --leader-elect while
objects of every kind are created, edited and deleted. The leader is killed
(SIGKILL), stopped (SIGTERM, which releases the lease) and killed again, a new
replica joining each time; the other takes over, never two lead at once, and
once the churn stops every object converges to what its kind's logic says for
its current spec, with no DRDrillRun twice, nothing orphaned, no crash, and
each replica's writes within its client rate limit."""

from __future__ import annotations

import signal
import threading
import time

from chaos import Lifetime, Scenario, say, scenario  # noqa: F401 (scenario is a fixture)
from relops_process import wait_for

HANDOVERS = (signal.SIGKILL, signal.SIGTERM, signal.SIGKILL)


class LeaderWatch:
    """Samples every live replica's leader_election_master_status twice a
    second and keeps any moment at which two said they lead (a replica the
    test is stopping no longer counts: it may report its last state while it
    exits)."""

    def __init__(self, scenario: Scenario):  # noqa: F811
        self.scenario = scenario
        self.both: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def leaders(self) -> list[Lifetime]:
        return [life for life in self.scenario.alive()
                if not life.stopping and life.operator.alive() and life.operator.leading()]

    def _loop(self) -> None:
        while not self._stop.wait(0.5):
            # A replica told to stop while it was sampled no longer counts.
            leading = [life for life in self.leaders() if not life.stopping]
            if len(leading) > 1:
                self.both.append(f"{time.strftime('%H:%M:%S')}: " +
                                 ", ".join(life.user for life in leading))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


def test_leader_handover_under_churn(scenario: Scenario):  # noqa: F811
    rng = scenario.rng
    flags = ("--leader-elect", "--leader-election-namespace", scenario.namespace)
    for _ in range(2):
        scenario.start_relops(*flags)
    watch = LeaderWatch(scenario)
    try:
        wait_for("a leader", lambda: len(watch.leaders()) == 1, timeout=60)
        scenario.begin()
        for i, sig in enumerate(HANDOVERS):
            time.sleep(rng.uniform(2.0, 8.0))
            # One failed metrics scrape must not read as "no leader".
            leader = wait_for("the leader", lambda: watch.leaders(), timeout=60)[0]
            what = f"leader {signal.Signals(sig).name} #{i + 1}"
            gone = time.monotonic()
            code = scenario.stop(leader, sig)
            assert code == (-signal.SIGKILL if sig == signal.SIGKILL else 0), (what, code)
            scenario.start_relops(*flags)  # two replicas again
            new = wait_for("another replica to lead", lambda: watch.leaders(), timeout=90)[0]
            say(f"{what}: {new.user} leads {time.monotonic() - gone:.1f}s later")
            scenario.recovered(gone, f"{what} and handover")
    finally:
        watch.stop()
    assert not watch.both, f"two replicas led at once: {watch.both}"
    scenario.finish()
