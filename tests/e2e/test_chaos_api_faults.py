"""An API server that is slow or failing, as relops sees it: every request of
relops goes through HttpFaultProxy, which delays a share of them, answers 429
(Retry-After) or 500 for others, resets some connections, and cuts the open
watches now and then, while objects of every kind are created, edited and
deleted. Once it heals and the churn stops, every object converges to what its
kind's logic says for its current spec, with no DRDrillRun twice, nothing
orphaned, no crash, and every request relops sent (the proxy saw them all)
within its client rate limit."""

from __future__ import annotations

import collections
import time

from chaos import Scenario, say, scenario  # noqa: F401 (scenario is a fixture)
from faultproxy import Faults, HttpFaultProxy

# (name, faults, the outcomes its first requests get, seconds)
PHASES = (
    ("slow", Faults(delay=0.6, max_delay=2.0), ["delay"], 15),
    ("failing", Faults(too_many_requests=0.15, server_error=0.1, reset=0.1),
     ["429", "500", "reset"], 20),
    ("slow and failing",
     Faults(delay=0.3, max_delay=1.5, too_many_requests=0.1, server_error=0.1, reset=0.05),
     ["reset", "delay", "500", "429"], 15),
)


def test_slow_and_failing_api_server_under_churn(scenario: Scenario):  # noqa: F811
    rng = scenario.rng
    proxies: list[HttpFaultProxy] = []

    def through_proxy(config: dict) -> str:
        proxies.append(HttpFaultProxy(config, scenario.workdir, seed=rng.randrange(2**31)))
        return proxies[-1].kubeconfig

    life = scenario.start_relops(route=through_proxy)
    proxy = proxies[0]
    try:
        scenario.begin()
        for name, faults, first, seconds in PHASES:
            time.sleep(rng.uniform(2.0, 6.0))
            proxy.faults = faults
            proxy.force(first)
            ends = time.monotonic() + seconds
            cut = 0
            while time.monotonic() < ends:
                time.sleep(min(rng.uniform(4.0, 9.0), max(0.0, ends - time.monotonic())))
                cut += proxy.cut_watches()
            proxy.heal()
            say(f"{name} API server for {seconds}s ({cut} watches cut)")
            scenario.recovered(time.monotonic(), f"{name} API server ({seconds}s)")
        outcomes = collections.Counter(r.outcome for r in proxy.requests)
        say(f"requests through the proxy: {dict(outcomes)}")
        for outcome in ("delay", "429", "500", "reset"):
            assert outcomes[outcome] > 0, f"the proxy injected no {outcome}: {dict(outcomes)}"
        scenario.finish()
        scenario.check_rate(life.user, [r.at for r in proxy.requests if not r.watch],
                            "every request but watches, as the proxy saw them")
    finally:
        for p in proxies:
            p.close()
