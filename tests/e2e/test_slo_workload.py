"""Workload SLOs: relops counts good and bad minutes of a Deployment itself, no Prometheus.

The Deployment runs on a kwok node of its own (tainted, so nothing else lands there, and
cordoning it disturbs no other test). The test makes the Deployment unavailable for a
measured time — cordon the node and delete the pods, so their replacements stay Pending,
then uncordon — and the SLO's status must report the bad minutes and the budget they
spent. Timeslices are whole minutes, so the count may differ from the measured outage by
up to one minute.
"""

from __future__ import annotations

import datetime
import json
import math
import signal
import time
from typing import Any

import pytest

from kube import Kubectl, unique_name, wait_until

OBJECTIVE = 90.0
WINDOW_MINUTES = 60
BUDGET_MINUTES = (1 - OBJECTIVE / 100) * WINDOW_MINUTES  # 6 minutes
OUTAGE_SECONDS = 180
REFRESH = "5s"


@pytest.fixture
def kwok_node(kubectl: Kubectl):
    name = unique_name("kwok-slo")
    kubectl.apply(json.dumps({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "annotations": {"kwok.x-k8s.io/node": "fake"},
            "labels": {"type": "kwok", "kubernetes.io/hostname": name,
                       "relops.dev/e2e-node": name},
        },
        "spec": {"taints": [{"key": "relops.dev/e2e-node", "value": name,
                             "effect": "NoSchedule"}]},
        "status": {"allocatable": {"cpu": "32", "memory": "256Gi", "pods": "110"},
                   "capacity": {"cpu": "32", "memory": "256Gi", "pods": "110"}},
    }))
    wait_until(f"node {name} Ready", lambda: any(
        c["type"] == "Ready" and c["status"] == "True"
        for c in kubectl.get("node", name).get("status", {}).get("conditions", [])), timeout=60)
    yield name
    kubectl.run("delete", "node", name, "--wait=false", check=False)


def deployment(namespace: str, name: str, node: str) -> str:
    return json.dumps({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "nodeSelector": {"relops.dev/e2e-node": node},
                    "tolerations": [{"key": "relops.dev/e2e-node", "operator": "Equal",
                                     "value": node, "effect": "NoSchedule"}],
                    "containers": [{"name": "app", "image": "example/app:1"}],
                },
            },
        },
    })


def workload_slo(namespace: str, name: str, target: str) -> str:
    return json.dumps({
        "apiVersion": "relops.dev/v1alpha1",
        "kind": "ServiceLevelObjective",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "service": target,
            "objective": f"{OBJECTIVE:g}",
            "window": f"{WINDOW_MINUTES // 60}h",
            "budgetingMethod": "Timeslices",
            "indicator": {"workload": {"kind": "Deployment", "name": target}},
        },
    })


def available(kubectl: Kubectl, namespace: str, name: str) -> bool:
    conditions = kubectl.get("deployment", name, namespace).get("status", {}).get("conditions", [])
    return any(c["type"] == "Available" and c["status"] == "True" for c in conditions)


def condition(slo: dict[str, Any], kind: str) -> dict[str, Any] | None:
    for item in slo.get("status", {}).get("conditions", []):
        if item["type"] == kind:
            return item
    return None


def rfc3339(text: str) -> float:
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def slo_status(kubectl: Kubectl, namespace: str, name: str) -> dict[str, Any]:
    return kubectl.get("servicelevelobjective", name, namespace).get("status", {})


def observed_after(kubectl: Kubectl, namespace: str, name: str, after: float):
    """The SLO's status once relops has accounted the minute that began after `after`."""
    def accounted():
        status = slo_status(kubectl, namespace, name)
        workload = status.get("workload", {})
        seen = workload.get("lastObservedTime")
        return status if seen and rfc3339(seen) >= math.floor(after / 60) * 60 + 60 else None

    return accounted


def check_budget(status: dict[str, Any]) -> tuple[int, int, float]:
    """The status's budget and SLI agree with its own minute counts (budget.h rounding)."""
    good = status["workload"]["goodMinutes"]
    bad = status["workload"]["badMinutes"]
    consumed = float(status["errorBudget"]["consumed"])
    remaining = float(status["errorBudget"]["remaining"])
    assert consumed == pytest.approx(100 * bad / BUDGET_MINUTES, abs=0.051), status
    assert remaining == pytest.approx(100 - 100 * bad / BUDGET_MINUTES, abs=0.051), status
    assert float(status["sli"]) == pytest.approx(100 * good / (good + bad), abs=0.00051), status
    return good, bad, consumed


def test_outage_spends_the_matching_budget_and_the_count_survives_a_restart(
        kubectl: Kubectl, crds, namespace: str, operators, kwok_node: str):
    kubectl.apply(deployment(namespace, "web", kwok_node))
    wait_until("web available", lambda: available(kubectl, namespace, "web"), timeout=90)
    kubectl.apply(workload_slo(namespace, "web-up", "web"))
    op = operators("--slo-refresh-interval", REFRESH, "--watch-namespace", namespace)

    started = time.time()
    try:
        before = wait_until("a good minute accounted",
                            lambda: (s := observed_after(kubectl, namespace, "web-up", started)())
                            and s["workload"]["goodMinutes"] >= 1 and s, timeout=150)
    except AssertionError:
        print(json.dumps(slo_status(kubectl, namespace, "web-up"), indent=2))
        print(op.log()[-5000:])
        raise
    assert before["workload"]["badMinutes"] == 0, before
    assert condition({"status": before}, "Ready")["status"] == "True", before

    # The outage, measured from the Deployment's Available condition as kubectl sees it.
    kubectl.run("cordon", kwok_node)
    kubectl.run("delete", "pods", "-l", "app=web", "-n", namespace, "--wait=false")
    wait_until("web unavailable", lambda: not available(kubectl, namespace, "web"), timeout=60,
               interval=0.2)
    down = time.time()
    pending = [p["status"]["phase"] for p in kubectl.get("pods", namespace=namespace)["items"]
               if not p["metadata"].get("deletionTimestamp")]
    assert pending and set(pending) == {"Pending"}, pending
    time.sleep(max(0.0, down + OUTAGE_SECONDS - time.time()))
    kubectl.run("uncordon", kwok_node)
    wait_until("web available again", lambda: available(kubectl, namespace, "web"), timeout=90,
               interval=0.2)
    up = time.time()
    outage_minutes = (up - down) / 60

    after = wait_until("the outage accounted",
                       observed_after(kubectl, namespace, "web-up", up), timeout=150)
    good, bad, consumed = check_budget(after)
    print(f"\noutage {up - down:.1f} s ({outage_minutes:.2f} min): status {bad} bad and "
          f"{good} good minutes, budget consumed {consumed} %, remaining "
          f"{after['errorBudget']['remaining']} %")
    assert abs(bad - outage_minutes) <= 1, (
        f"{bad} bad minutes for an outage of {outage_minutes:.2f} minutes: timeslices are "
        f"whole minutes, so at most one minute apart is expected")
    one_minute = 100 / BUDGET_MINUTES
    assert abs(consumed - 100 * outage_minutes / BUDGET_MINUTES) <= one_minute + 0.05, (
        f"budget consumed {consumed} % for {outage_minutes:.2f} of {BUDGET_MINUTES:g} budget "
        f"minutes: more than one minute ({one_minute:.1f} %) apart")
    remaining_metric = op.metric("relops_slo_error_budget_remaining", namespace=namespace,
                                 name="web-up")
    assert remaining_metric * 100 == pytest.approx(float(after["errorBudget"]["remaining"]),
                                                   abs=0.06), remaining_metric

    # A restart of relops: the minutes counted so far are kept (they live in status).
    assert op.stop(signal.SIGTERM) == 0, op.log()[-3000:]
    time.sleep(15)
    restarted = time.time()
    op = operators("--slo-refresh-interval", REFRESH, "--watch-namespace", namespace)
    # The first status after the restart may show the minute it began in
    # before that minute is counted: wait for a good minute more.
    later = wait_until("a good minute accounted after the restart",
                       lambda: (s := observed_after(kubectl, namespace, "web-up", restarted)())
                       and s["workload"].get("goodMinutes", 0) > good and s, timeout=150)
    good_later, bad_later, consumed_later = check_budget(later)
    print(f"after the restart: {bad_later} bad and {good_later} good minutes, "
          f"unknown {later['workload'].get('unknownMinutes', 0)}")
    assert bad_later == bad, (bad, later)
    assert consumed_later == consumed, (consumed, later)
    assert good_later > good, (good, later)
    assert later["workload"]["lastObservedState"] == "Good", later
