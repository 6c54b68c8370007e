"""The control plane fails under relops while objects of every kind are
created, edited and deleted: kube-apiserver restarts, then etcd is killed
(SIGKILL) and restarted. relops stays up, reconnects its watches, and once the
churn stops every object converges to what its kind's logic says for its
current spec, with no DRDrillRun twice, nothing orphaned, no crash, and its
writes within its client rate limit.

It kills etcd, so it runs on a cluster of its own: if the control plane did not
come back, the tests after it would not be left without one."""

from __future__ import annotations

import subprocess
import time

import pytest

from chaos import (  # noqa: F401 (scenario is a fixture)
    CLUSTER_DIR, Scenario, restart_component, say, scenario)
from kube import Kubectl, unique_name


@pytest.fixture(scope="session")
def kubectl() -> Kubectl:
    name = unique_name("chaos-cp")
    up = subprocess.run([str(CLUSTER_DIR / "up"), name], check=True, timeout=600,
                        capture_output=True, text=True)
    try:
        yield Kubectl(up.stdout.strip().splitlines()[-1])
    finally:
        subprocess.run([str(CLUSTER_DIR / "down"), name], check=False, timeout=120)


def test_api_server_and_etcd_restart_under_churn(scenario: Scenario):  # noqa: F811
    rng = scenario.rng
    life = scenario.start_relops()
    scenario.begin()
    for component, kill in (("kube-apiserver", False), ("etcd", True)):
        time.sleep(rng.uniform(3.0, 12.0))
        began = time.monotonic()
        restart_component(scenario.kubectl.kubeconfig, component, kill=kill)
        healthy = time.monotonic()
        say(f"{component} {'killed' if kill else 'stopped'} and back in "
              f"{healthy - began:.1f}s")
        scenario.recovered(healthy, f"{component} restart")
        assert life.operator.alive(), f"relops exited {life.operator.process.returncode}"
    time.sleep(rng.uniform(3.0, 10.0))
    scenario.finish()
