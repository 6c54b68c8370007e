"""relops killed with SIGKILL ten times at random moments while objects of
every kind are created, edited and deleted, restarted each time: it picks up
where it was (the last kills come while a spent error budget freezes a
Deployment and the churned policies create and lose freeze bindings), and
once the churn stops every object converges to what its kind's logic says for
its current spec, with no DRDrillRun twice, nothing orphaned, no crash, and
its writes within its client rate limit."""

from __future__ import annotations

import signal
import time

from chaos import Scenario, say, scenario  # noqa: F401 (scenario is a fixture)

KILLS = 10
# Kills that hit relops while it starts (listing, first reconciles), not
# waiting for it to recover first.
EARLY_KILLS = 3
FROZEN_KILLS = 4


def test_kill_9_ten_times_under_churn(scenario: Scenario):  # noqa: F811
    rng = scenario.rng
    scenario.start_budget_clock()
    life = scenario.start_relops()
    scenario.begin()
    early = set(rng.sample([i for i in range(1, KILLS) if i != KILLS - FROZEN_KILLS],
                           EARLY_KILLS))
    time.sleep(rng.uniform(1.0, 5.0))
    for i in range(KILLS):
        if i == KILLS - FROZEN_KILLS:
            # The last kills come while a freeze binding exists and policies are
            # edited and deleted: relops must find and delete orphaned bindings.
            scenario.freeze()
        assert scenario.stop(life, signal.SIGKILL) == -signal.SIGKILL
        life = scenario.start_relops()
        if i + 1 in early:
            say(f"kill -9 #{i + 1}: the next kill comes while relops starts")
            time.sleep(rng.uniform(0.0, 1.5))
        else:
            scenario.recovered(time.monotonic(), f"kill -9 #{i + 1} and restart")
            time.sleep(rng.uniform(0.5, 5.0))
    scenario.finish()
