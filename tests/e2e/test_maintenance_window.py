"""Maintenance ChangeWindows acting on the SLOs they select, with real parts only: the test
cluster's API server and Debian's Alertmanager (0.25) on loopback.

- Silences: a Maintenance window with absolute start and end a few seconds ahead selects an
  SLO by label. relops creates an Alertmanager silence ahead of the start through API v2,
  with startsAt and endsAt equal to the window's bounds, matchers namespace, slo and
  alertname=~SLOBurnRateHigh|SLOMetricAbsent, createdBy relops and a comment naming the
  window and its reason. The test posts that SLO's burn-rate alert as Prometheus would and
  reads GET /api/v2/alerts every 0.1 s: active before the start, suppressed by relops's
  silence from the start, active again from the end, each flip within 1 s of the window's
  bound. The same alert from another namespace, and another source's alert about the same
  SLO, stay active throughout (a window silences nothing outside its namespace or relops's
  two SLO alerts).
- Budget: a workload SLO with spec.maintenance.excludeFromBudget measures a Deployment that
  cannot schedule (bad minutes). A second window spans one whole minute; its minute is
  counted Unknown, not bad (badMinutes does not grow across it, unknownMinutes grows by one),
  and the minute after it is bad again.

One timeline for the module: both windows are made when relops starts, the silence checks
run while the budget window approaches. About 4 minutes; parallel-safe (own namespaces, own
relops watching only them, own Alertmanager).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from alertmanager_support import Alertmanager, assemble_config, firing_alert, parse_time
from kube import Kubectl, unique_name, wait_until
from relops_process import Operator

UTC = dt.timezone.utc
# The short window starts this far after it is made and lasts SHORT_LENGTH.
SHORT_LEAD = dt.timedelta(seconds=15)
SHORT_LENGTH = dt.timedelta(seconds=25)
# How far from a window's bound the observed alert state may flip (polling included).
FLIP_BOUND = 1.0
REASON = "database upgrade (e2e)"


@dataclass
class Stack:
    kubectl: Kubectl
    namespace: str
    other: str
    alertmanager: Alertmanager
    relops: Operator
    short_start: dt.datetime
    short_end: dt.datetime
    budget_start: dt.datetime
    budget_end: dt.datetime


def window(namespace: str, name: str, start: dt.datetime, end: dt.datetime,
           selector: dict[str, str]) -> str:
    return json.dumps({
        "apiVersion": "relops.dev/v1alpha1",
        "kind": "ChangeWindow",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"type": "Maintenance",
                 "start": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                 "end": end.strftime("%Y-%m-%dT%H:%M:%SZ"),
                 "reason": REASON,
                 "sloSelector": {"matchLabels": selector}},
    })


def workload_slo(namespace: str, name: str, labels: dict[str, str], exclude: bool) -> str:
    spec: dict[str, Any] = {
        "service": "app",
        "objective": "90",
        "window": "1h",
        "budgetingMethod": "Timeslices",
        "indicator": {"workload": {"kind": "Deployment", "name": "app"}},
    }
    if exclude:
        spec["maintenance"] = {"excludeFromBudget": True}
    return json.dumps({
        "apiVersion": "relops.dev/v1alpha1",
        "kind": "ServiceLevelObjective",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": spec,
    })


def unschedulable_deployment(namespace: str) -> str:
    """A Deployment whose pod no node takes: Available=False, bad minutes."""
    return json.dumps({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "app", "namespace": namespace},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "app"}},
            "template": {
                "metadata": {"labels": {"app": "app"}},
                "spec": {"nodeSelector": {"relops.dev/e2e-no-such-node": "none"},
                         "containers": [{"name": "app", "image": "example/app:1"}]},
            },
        },
    })


def whole_second(t: dt.datetime) -> dt.datetime:
    return t.replace(microsecond=0) + dt.timedelta(seconds=1)


@pytest.fixture(scope="module")
def stack(kubectl: Kubectl, crds, tmp_path_factory) -> Stack:
    workdir = tmp_path_factory.mktemp("maintenance")
    namespace, other = unique_name("e2e-mw-a"), unique_name("e2e-mw-b")
    started: list = []
    try:
        for name in (namespace, other):
            kubectl.run("create", "namespace", name)
        alertmanager = Alertmanager(workdir, assemble_config(blackhole="blackhole"))
        started.append(alertmanager)
        relops = Operator(kubectl.kubeconfig, workdir / "relops.log",
                          "--watch-namespace", namespace, "--watch-namespace", other,
                          "--alertmanager-url", alertmanager.url)
        started.append(relops)
        wait_until("relops ready", relops.ready, timeout=60, interval=0.1)
        kubectl.apply(unschedulable_deployment(namespace))
        kubectl.apply(workload_slo(namespace, "checkout", {"maintenance": "short"}, False))
        kubectl.apply(workload_slo(namespace, "ledger", {"maintenance": "budget"}, True))
        now = dt.datetime.now(UTC)
        short_start = whole_second(now + SHORT_LEAD)
        short_end = short_start + SHORT_LENGTH
        # One whole minute, at least 45 s ahead so the minutes before it are seen bad.
        budget_start = dt.datetime.fromtimestamp(
            math.ceil((now + dt.timedelta(seconds=45)).timestamp() / 60) * 60, UTC)
        budget_end = budget_start + dt.timedelta(minutes=1)
        kubectl.apply(window(namespace, "short", short_start, short_end,
                             {"maintenance": "short"}))
        kubectl.apply(window(namespace, "budget", budget_start, budget_end,
                             {"maintenance": "budget"}))
        yield Stack(kubectl, namespace, other, alertmanager, relops, short_start, short_end,
                    budget_start, budget_end)
    finally:
        for part in reversed(started):
            if isinstance(part, Operator):
                if part.alive():
                    part.stop()
            else:
                part.stop()
        for name in (namespace, other):
            kubectl.run("delete", "namespace", name, "--wait=false", check=False)
        for part in started:
            log = getattr(part, "log_path", None)
            if log:
                print(f"--- {Path(log).name} (last lines)")
                print("\n".join(Path(log).read_text(errors="replace").splitlines()[-15:]))


def silences(stack: Stack, slo: str) -> list[dict[str, Any]]:
    query = urllib.parse.urlencode([("filter", f'slo="{slo}"'),
                                    ("filter", f'namespace="{stack.namespace}"')])
    with urllib.request.urlopen(f"{stack.alertmanager.url}/api/v2/silences?{query}",
                                timeout=10) as response:
        return [s for s in json.load(response) if s["status"]["state"] != "expired"]


def alert_states(stack: Stack) -> dict[str, tuple[str, list[str]]]:
    """Each posted alert's state and silencedBy, by its `case` label."""
    return {a["labels"]["case"]: (a["status"]["state"], a["status"]["silencedBy"])
            for a in stack.alertmanager.alerts() if "case" in a["labels"]}


def test_silence_covers_exactly_the_window(stack: Stack):
    # The silence exists ahead of the start, with the window's exact bounds.
    found = wait_until("relops's silence for checkout", lambda: silences(stack, "checkout"),
                       timeout=10, interval=0.2)
    assert dt.datetime.now(UTC) < stack.short_start, "the silence came after the start"
    assert len(found) == 1, found
    silence = found[0]
    assert parse_time(silence["startsAt"]) == stack.short_start, silence
    assert parse_time(silence["endsAt"]) == stack.short_end, silence
    assert silence["createdBy"] == "relops"
    assert f"ChangeWindow {stack.namespace}/short" in silence["comment"]
    assert REASON in silence["comment"]
    matchers = sorted((m["name"], m["value"], m["isRegex"], m.get("isEqual", True))
                      for m in silence["matchers"])
    assert matchers == [("alertname", "SLOBurnRateHigh|SLOMetricAbsent", True, True),
                        ("namespace", stack.namespace, False, True),
                        ("slo", "checkout", False, True)], matchers

    # The SLO's status shows the window and the silence relops keeps for it.
    wait_until("status.maintenance", lambda: stack.kubectl.get(
        "servicelevelobjective", "checkout", stack.namespace).get("status", {}).get(
        "maintenance") == {"active": False, "windows": ["short"], "silenceIDs": [silence["id"]]},
        timeout=10, interval=0.2)

    burn = {"alertname": "SLOBurnRateHigh", "slo": "checkout", "severity": "page"}
    stack.alertmanager.post_alerts(
        firing_alert({**burn, "namespace": stack.namespace, "case": "selected"}),
        firing_alert({**burn, "namespace": stack.other, "case": "other-namespace"}),
        firing_alert({"alertname": "DiskFull", "namespace": stack.namespace, "slo": "checkout",
                      "case": "other-source"}))

    # Poll the alerts' state through the window; note when the selected one flips.
    suppressed_at = active_again_at = None
    others: set[str] = set()
    deadline = stack.short_end + dt.timedelta(seconds=5)
    while dt.datetime.now(UTC) < deadline:
        states = alert_states(stack)
        t = dt.datetime.now(UTC)
        state, silenced_by = states["selected"]
        if state == "suppressed":
            assert silenced_by == [silence["id"]], states
            assert t >= stack.short_start, f"suppressed at {t}, before the start"
            suppressed_at = suppressed_at or t
        elif suppressed_at and not active_again_at:
            assert state == "active", states
            active_again_at = t
        else:
            assert state == "active", states
        others |= {states["other-namespace"][0], states["other-source"][0]}
        time.sleep(0.1)
    assert suppressed_at, "the selected alert was never suppressed"
    assert active_again_at, "the selected alert was not active again after the end"
    start_delay = (suppressed_at - stack.short_start).total_seconds()
    end_delay = (active_again_at - stack.short_end).total_seconds()
    print(f"suppressed {start_delay:.2f} s after the start, active {end_delay:.2f} s after "
          "the end")
    assert 0 <= start_delay <= FLIP_BOUND
    assert 0 <= end_delay <= FLIP_BOUND
    assert others == {"active"}, "an alert outside the window's reach was silenced"


def ledger(stack: Stack, after: dt.datetime) -> dict[str, Any]:
    """status.workload of the `ledger` SLO once relops has observed it at or after `after`."""
    def observed():
        status = stack.kubectl.get("servicelevelobjective", "ledger", stack.namespace)
        workload = status.get("status", {}).get("workload", {})
        seen = workload.get("lastObservedTime")
        return workload if seen and parse_time(seen) >= after else None
    remaining = (after - dt.datetime.now(UTC)).total_seconds()
    return wait_until(f"ledger observed at {after}", observed, timeout=remaining + 30,
                      interval=0.5)


def test_window_minutes_are_not_bad(stack: Stack):
    # The minute before the window: bad (the Deployment cannot schedule).
    before = ledger(stack, stack.budget_start)
    assert before["badMinutes"] >= 1, before
    # The window's minute: Unknown, not bad.
    during = ledger(stack, stack.budget_end)
    assert during["badMinutes"] == before["badMinutes"], (before, during)
    assert during["unknownMinutes"] == before["unknownMinutes"] + 1, (before, during)
    # The minute after it: bad again.
    after = ledger(stack, stack.budget_end + dt.timedelta(minutes=1))
    assert after["badMinutes"] == during["badMinutes"] + 1, (during, after)
    assert after["unknownMinutes"] == during["unknownMinutes"], (during, after)
    print(f"ledger before {before}, after the window {during}, a minute later {after}")


def test_deleted_window_expires_its_silence_early(stack: Stack):
    # The budget window's silence ended with it; a new window made and deleted before its
    # start leaves no silence behind.
    start = whole_second(dt.datetime.now(UTC) + dt.timedelta(minutes=10))
    stack.kubectl.apply(window(stack.namespace, "cancelled", start, start + SHORT_LENGTH,
                               {"maintenance": "short"}))
    wait_until("the cancelled window's silence", lambda: silences(stack, "checkout"),
               timeout=10, interval=0.2)
    stack.kubectl.run("delete", "changewindow", "cancelled", "-n", stack.namespace)
    wait_until("the cancelled window's silence expired",
               lambda: not silences(stack, "checkout"), timeout=10, interval=0.2)
    # Nothing selects the SLO any more: status.maintenance is gone (server-side apply drops
    # the field relops no longer writes).
    wait_until("status.maintenance removed", lambda: "maintenance" not in stack.kubectl.get(
        "servicelevelobjective", "checkout", stack.namespace).get("status", {}),
        timeout=10, interval=0.2)
