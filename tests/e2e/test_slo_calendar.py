"""Calendar SLO windows against the real API server and a real Prometheus.

- A `window: month` SLO in Europe/Berlin over backfilled request history (prometheus.py):
  the status's SLI and budget for the month so far equal the analytic values over
  [local start of the month, evaluation time] within 0.1 percentage points of the budget,
  and the month before closes when relops finds it ended: the status the test writes first
  is what an earlier relops would have left at the end of last month (status.period = last
  month), so relops reads that month from Prometheus at its end, records it in
  status.periodHistory (Met or Missed, SLI, budget consumed — the analytic values) and sends
  a PeriodClosed Event.
- A period boundary of the test's choosing: relops runs with its clock (libfaketime, the
  real binary; the monotonic clock untouched) set 75 seconds before the next ISO week
  starts in Asia/Kathmandu (UTC+5:45), measuring a workload SLO; PeriodClosed fires within
  2 seconds of the boundary by relops's clock, the closed week is in periodHistory with its
  minutes, and the status shows the new week.
"""

from __future__ import annotations

import datetime
import json
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from kube import Kubectl, wait_until
from prometheus import (HOUR, MINUTE, History, Phase, Traffic,
                        budget_remaining_percent, minute_floor, sli_percent, start_with_history)
from relops_process import Operator
from slo_support import events

OBJECTIVE = 99.9
ZONE = "Europe/Berlin"
LAG_SECONDS = 10 + 5 + 5 + 10  # a sample interval, relops's refresh, evaluation, slack
BUDGET_TOLERANCE = 0.1  # percentage points of the budget (the bound)
SLI_TOLERANCE = 0.001
FAKETIME_LIBRARY = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1"


def month_start(t: float, zone: str) -> datetime.datetime:
    local = datetime.datetime.fromtimestamp(t, ZoneInfo(zone))
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def previous_month_start(start: datetime.datetime) -> datetime.datetime:
    year, month = (start.year, start.month - 1) if start.month > 1 else (start.year - 1, 12)
    return start.replace(year=year, month=month)


def utc_text(t: float) -> str:
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def rfc3339(text: str) -> float:
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


class Month:
    def __init__(self, now: int):
        this = month_start(now, ZONE)
        last = previous_month_start(this)
        self.start = int(this.timestamp())
        self.previous_start = int(last.timestamp())
        self.previous_label = f"{last.year}-{last.month:02d}"
        self.label = f"{this.year}-{this.month:02d}"
        elapsed = now - self.start
        # Last month: a six-hour incident in its middle; this month: one in its first half.
        middle = self.previous_start + (self.start - self.previous_start) // 2
        incident = max(MINUTE, min(2 * HOUR, elapsed // 4))
        this_incident = minute_floor(self.start + elapsed // 3)
        self.traffic = Traffic("calendar", 20, 0.0002, [
            Phase(middle, middle + 6 * HOUR, 20, 0.004),
            Phase(this_incident, this_incident + incident, 20, 0.01)])


@pytest.fixture(scope="module")
def month(tmp_path_factory):
    now = minute_floor(time.time())
    calendar = Month(now)
    history = History([calendar.traffic], start=calendar.previous_start - HOUR, end=now + 3 * HOUR)
    prometheus = start_with_history(tmp_path_factory.mktemp("prometheus"), history)
    yield calendar, prometheus
    prometheus.stop()


def slo(namespace: str, name: str, spec: dict[str, Any]) -> str:
    return json.dumps({"apiVersion": "relops.dev/v1alpha1", "kind": "ServiceLevelObjective",
                       "metadata": {"name": name, "namespace": namespace},
                       "spec": {"service": name, "objective": str(OBJECTIVE), **spec}})


def write_status(kubectl: Kubectl, namespace: str, name: str, status: dict[str, Any]) -> None:
    kubectl.run("patch", "servicelevelobjective", name, "-n", namespace, "--subresource=status",
                "--type=merge", "-p", json.dumps({"status": status}))


def test_calendar_month_matches_backfilled_history_and_last_month_closes(
        kubectl: Kubectl, crds, namespace: str, operators, month):
    calendar, prometheus = month
    traffic = calendar.traffic
    name = "checkout-monthly"
    kubectl.apply(slo(namespace, name, {
        "window": "month", "timeZone": ZONE,
        "indicator": {"ratio": {"errors": traffic.errors_selector(),
                                "total": traffic.total_selector()}}}))
    # What relops would have left at the end of last month.
    write_status(kubectl, namespace, name, {"period": {
        "label": calendar.previous_label, "start": utc_text(calendar.previous_start),
        "end": utc_text(calendar.start)}})

    op = operators("--prometheus-url", prometheus.url, "--slo-refresh-interval", "5s",
                   "--watch-namespace", namespace, "--slo-namespace-label=false",
                   "--rule-output", "configmap")
    wait_until("relops ready", op.ready, timeout=60)

    def evaluated():
        obj = kubectl.get("servicelevelobjective", name, namespace)
        status = obj.get("status", {})
        ready = "sli" in status and status.get("periodHistory")
        return obj if ready else None

    try:
        obj = wait_until("the month's budget and last month's result", evaluated, timeout=90)
    except AssertionError:
        print(json.dumps(kubectl.get("servicelevelobjective", name, namespace), indent=2))
        print(op.log()[-4000:])
        raise
    status = obj["status"]
    assert status["period"] == {"label": calendar.label, "start": utc_text(calendar.start),
                                "end": status["period"]["end"]}

    # This month so far: the analytic values over [month start, t], t within the lag.
    at = rfc3339(status["evaluationTime"])
    ratios = [traffic.error_ratio_over(calendar.start, t)
              for t in range(int(at - LAG_SECONDS), int(at + LAG_SECONDS) + 1)]
    budgets = [budget_remaining_percent(r, OBJECTIVE) for r in ratios]
    slis = [sli_percent(r) for r in ratios]
    remaining = float(status["errorBudget"]["remaining"])
    assert min(budgets) - BUDGET_TOLERANCE <= remaining <= max(budgets) + BUDGET_TOLERANCE, (
        remaining, min(budgets), max(budgets))
    assert min(slis) - SLI_TOLERANCE <= float(status["sli"]) <= max(slis) + SLI_TOLERANCE

    # Last month, read at its end: the analytic values over the whole month.
    [closed] = status["periodHistory"]
    ratio = traffic.error_ratio_over(calendar.previous_start, calendar.start)
    want_consumed = 100 - budget_remaining_percent(ratio, OBJECTIVE)
    assert closed["label"] == calendar.previous_label
    assert closed["start"] == utc_text(calendar.previous_start)
    assert closed["end"] == utc_text(calendar.start)
    assert closed["result"] == ("Met" if want_consumed <= 100 else "Missed")
    assert float(closed["budgetConsumed"]) == pytest.approx(want_consumed, abs=BUDGET_TOLERANCE)
    assert float(closed["sli"]) == pytest.approx(sli_percent(ratio), abs=SLI_TOLERANCE)
    [event] = events(kubectl, namespace, "PeriodClosed")
    assert f"period {calendar.previous_label} closed" in event["note"], event
    print(f"\nmonth so far: remaining {remaining} (analytic {min(budgets):.3f}.."
          f"{max(budgets):.3f}); {calendar.previous_label}: consumed "
          f"{closed['budgetConsumed']} (analytic {want_consumed:.3f}), {closed['result']}")

    # The burn-rate rules still record their windows, factors from a 30-day month.
    configmap = kubectl.get("configmap", f"relops-slo-{name}", namespace)
    rules = configmap["data"][f"{name}.rules.yaml"]
    assert "ratio_rate1h" in rules and "14.4" in rules
    assert "ratio_rate30d" not in rules


def next_week_start(now: float, zone: str) -> float:
    local = datetime.datetime.fromtimestamp(now, ZoneInfo(zone))
    monday = (local + datetime.timedelta(days=7 - local.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0)
    return monday.timestamp()


def test_period_closed_fires_at_the_boundary(kubectl: Kubectl, crds, namespace: str, tmp_path: Path):
    zone = "Asia/Kathmandu"
    boundary = next_week_start(time.time(), zone)
    kubectl.apply(json.dumps({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": namespace},
        "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "web", "image": "web:1"}]}}}}))
    kubectl.apply(slo(namespace, "web-weekly", {
        "window": "week", "timeZone": zone, "budgetingMethod": "Timeslices",
        "indicator": {"workload": {"kind": "Deployment", "name": "web"}}}))

    start = datetime.datetime.fromtimestamp(boundary - 75, datetime.timezone.utc)
    op = Operator(kubectl.kubeconfig, tmp_path / "relops.log",
                  "--watch-namespace", namespace,
                  env={"LD_PRELOAD": FAKETIME_LIBRARY, "TZ": "UTC",
                       "FAKETIME": start.strftime("@%Y-%m-%d %H:%M:%S"),
                       "FAKETIME_DONT_FAKE_MONOTONIC": "1", "FAKETIME_NO_CACHE": "1"})
    try:
        wait_until("relops ready", op.ready, timeout=60)
        week = wait_until("the week before the boundary", lambda: kubectl.get(
            "servicelevelobjective", "web-weekly", namespace).get("status", {}).get("period"),
            timeout=30)
        assert rfc3339(week["end"]) == boundary, week
        closed_events = wait_until("PeriodClosed", lambda: events(
            kubectl, namespace, "PeriodClosed"), timeout=150)
    except AssertionError:
        print(op.log()[-4000:])
        raise
    finally:
        op.stop()
    [event] = closed_events
    # By relops's clock: the Event's time is within 2 s after the boundary.
    sent = rfc3339(event["eventTime"])
    assert 0 <= sent - boundary <= 2, (event["eventTime"], utc_text(boundary))
    assert event["type"] == "Normal" and f"period {week['label']} closed" in event["note"]
    status = kubectl.get("servicelevelobjective", "web-weekly", namespace)["status"]
    [entry] = status["periodHistory"]
    assert entry["label"] == week["label"] and entry["result"] == "Met", entry
    assert entry["badMinutes"] == 0 and entry["sli"] == "100", entry
    assert rfc3339(status["period"]["start"]) == boundary, status["period"]
    print(f"\nPeriodClosed for {week['label']} at boundary + {sent - boundary:.3f} s "
          f"(relops's clock)")
