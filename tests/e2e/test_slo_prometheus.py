"""ServiceLevelObjectives against a real Prometheus: live budgets and burn-rate alerts.

Prometheus (Debian's package) starts on loopback with 29 days of backfilled request
history for three services (prometheus.py), so the error ratio over any window is known
analytically:

- `recovered`: a 4-hour incident ten days ago that spent three quarters of the budget
  and is over; nothing should page.
- `overspent`: a 6-hour incident twenty days ago that spent more than the whole budget;
  the budget is negative, and still nothing should page.
- `paging`: a fast burn (30× the budget rate) that began 90 minutes ago and is still
  going on; the page alerts must fire.

`relops run --prometheus-url … --rule-output configmap` writes each SLO's rules into a
ConfigMap; the test copies the rule file into Prometheus's rules directory and reloads
Prometheus, as a Prometheus without its operator would be set up. relops then reads the
recorded series, and its status must match the analytic values: budget remaining within
0.1 percentage points of the budget, the SLI and burn rates to their printed precision.
The burn-rate alert fires in Prometheus for `paging` and for nothing else. The same
numbers come through a PrometheusRule when that CRD is installed. A selector Prometheus
rejects (a bad regex, which the CRD cannot see) stalls the SLO with Prometheus's message,
without relops retrying it in a loop. These tests run relops with --slo-namespace-label=false
(the history has no namespace label); with relops's default, an SLO naming those series
sees no data at all — they are not its namespace's.
"""

from __future__ import annotations

import datetime
import json
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from kube import Kubectl, settled, wait_until
from prometheus import (DAY, HOUR, MINUTE, History, Phase, Prometheus, PrometheusError,
                        Traffic, budget_remaining_percent, minute_floor, parse_window,
                        sli_percent, start_with_history)
from test_slo_crd import prometheus_rule_crd

OBJECTIVE = 99.9
WINDOW = "28d"
REFRESH = "5s"
# How much older than status.evaluationTime the data behind the status may be: one sample
# interval of the history (10 s) when evaluationTime is the recorded sample's time, plus
# relops's refresh and Prometheus's evaluation interval should it be the time of the query.
LAG_SECONDS = 10 + 5 + 5 + 10
BUDGET_TOLERANCE = 0.1  # percentage points of the budget (the bound)
SLI_TOLERANCE = 0.001   # percentage points: status.sli has 3 decimals
BURN_TOLERANCE = 0.01   # burn rates have 2 decimals


def scenarios(now: int) -> dict[str, Traffic]:
    return {
        "recovered": Traffic("recovered", 20, 0.0003, [
            Phase(now - 10 * DAY - 4 * HOUR, now - 10 * DAY, 80, 0.02)]),
        "overspent": Traffic("overspent", 10, 0.0005, [
            Phase(now - 20 * DAY - 6 * HOUR, now - 20 * DAY, 10, 0.1)]),
        "paging": Traffic("paging", 20, 0.0003, [
            Phase(now - 90 * MINUTE, now + 1000 * DAY, 40, 0.03)]),
    }


class Backfilled:
    def __init__(self, prometheus: Prometheus, now: int, traffic: dict[str, Traffic]):
        self.prometheus = prometheus
        self.now = now
        self.traffic = traffic


@pytest.fixture(scope="module")
def backfilled(tmp_path_factory) -> Backfilled:
    now = minute_floor(time.time())
    traffic = scenarios(now)
    history = History(list(traffic.values()), start=now - 29 * DAY - HOUR, end=now + 3 * HOUR)
    prometheus = start_with_history(tmp_path_factory.mktemp("prometheus"), history)
    yield Backfilled(prometheus, now, traffic)
    prometheus.stop()


@pytest.fixture(autouse=True)
def rules_unloaded_after_each_test(backfilled: Backfilled):
    # Each test's rule groups leave with it, so groups do not pile up in Prometheus.
    yield
    backfilled.prometheus.unload_rules()


def ratio_expr(traffic: Traffic, window: str) -> str:
    return (f"sum(rate({traffic.errors_selector()}[{window}])) / "
            f"sum(rate({traffic.total_selector()}[{window}]))")


def analytic_span(traffic: Traffic, window_seconds: int, start: float, end: float,
                  transform=lambda ratio: ratio) -> tuple[float, float]:
    """min and max of transform(error ratio over a window ending at t), for t in
    [start, end] sampled every second. rate() sees the samples inside the window, so the
    window Prometheus measures begins up to one sample interval (60 s) after t − window:
    both beginnings count."""
    values = [transform(traffic.error_ratio_over(t - window_seconds + offset, t))
              for t in range(int(start), int(end) + 1) for offset in (0, MINUTE)]
    return min(values), max(values)


def test_harness_prometheus_returns_the_analytic_error_ratios(backfilled: Backfilled):
    prometheus = backfilled.prometheus
    # At a time on the sample grid, rate() over a window sees samples exactly at both
    # ends: Prometheus's ratio is the analytic one, to floating-point precision.
    at = backfilled.now - 5 * MINUTE
    for traffic in backfilled.traffic.values():
        for window in ("5m", "1h", "6h", "3d", "28d"):
            got = prometheus.value(ratio_expr(traffic, window), at)
            want = traffic.error_ratio_over(at - parse_window(window), at)
            assert got == pytest.approx(want, rel=1e-9), (traffic.job, window, got, want)

    # Now, between samples: the analytic value at a time at most one sample interval ago.
    for traffic in backfilled.traffic.values():
        for window in ("5m", "1h", "28d"):
            now = time.time()
            got = prometheus.value(ratio_expr(traffic, window), now)
            low, high = analytic_span(traffic, parse_window(window), now - 11, now)
            assert low - 1e-12 <= got <= high + 1e-12, (traffic.job, window, got, low, high)

    # The scenarios are what the module docstring says they are.
    def remaining(job: str) -> float:
        traffic = backfilled.traffic[job]
        return budget_remaining_percent(
            traffic.error_ratio_over(at - parse_window(WINDOW), at), OBJECTIVE)

    assert 20 < remaining("recovered") < 30
    assert remaining("overspent") < -30
    assert backfilled.traffic["paging"].error_ratio_over(at - HOUR, at) / 0.001 == pytest.approx(30)

    # Rule results evaluated at "now" are stored although the backfilled blocks reach
    # into the future (the out-of-order window admits them), alerts included.
    prometheus.load_rules("harness", json.dumps({"groups": [{
        "name": "harness",
        "rules": [
            {"record": "harness:requests:rate5m",
             "expr": f"sum(rate({backfilled.traffic['recovered'].total_selector()}[5m]))"},
            {"alert": "HarnessAlways", "expr": "vector(1)"},
        ],
    }]}))
    try:
        wait_until("the recorded series", lambda: prometheus.query("harness:requests:rate5m"),
                   timeout=30)
        assert prometheus.value("harness:requests:rate5m") == pytest.approx(20, rel=1e-9)
        wait_until("the ALERTS series",
                   lambda: prometheus.query('ALERTS{alertname="HarnessAlways"}'), timeout=30)
        assert [h for h in prometheus.rule_health() if h[1] != "ok"] == []
    finally:
        prometheus.unload_rules("harness")


# --- relops against that Prometheus -----------------------------------------------------


def slo_manifest(namespace: str, name: str, traffic: Traffic, errors: str | None = None) -> str:
    return json.dumps({
        "apiVersion": "relops.dev/v1alpha1",
        "kind": "ServiceLevelObjective",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "service": traffic.job,
            "objective": str(OBJECTIVE),
            "window": WINDOW,
            "indicator": {"ratio": {
                "errors": errors or traffic.errors_selector(),
                "total": traffic.total_selector(),
            }},
        },
    })


def condition(slo: dict[str, Any], kind: str) -> dict[str, Any] | None:
    for item in slo.get("status", {}).get("conditions", []):
        if item["type"] == kind:
            return item
    return None


def rfc3339(text: str) -> float:
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def start_relops(operators, prometheus: Prometheus, namespace: str, *flags: str):
    # One namespace: SLOs that other tests leave behind do not query this Prometheus.
    # The backfilled history has no namespace label (a single-tenant Prometheus), so the
    # namespace matcher relops adds by default is off here; test_tenant_slo.py covers it.
    op = operators("--prometheus-url", prometheus.url, "--slo-refresh-interval", REFRESH,
                   "--watch-namespace", namespace, "--slo-namespace-label=false", *flags)
    wait_until("relops ready", op.ready, timeout=60)
    return op


def load_configmap_rules(kubectl: Kubectl, prometheus: Prometheus, namespace: str,
                         name: str) -> dict[str, Any]:
    """Copies the rule file out of relops's ConfigMap into Prometheus."""
    configmap = wait_until(
        f"ConfigMap relops-slo-{name}",
        lambda: kubectl.get("configmap", f"relops-slo-{name}", namespace), timeout=60)
    rule_file = configmap["data"][f"{name}.rules.yaml"]
    prometheus.load_rules(f"{namespace}-{name}", rule_file)
    return configmap


def wait_for_budget(kubectl: Kubectl, namespace: str, name: str, op) -> dict[str, Any]:
    def evaluated():
        slo = kubectl.get("servicelevelobjective", name, namespace)
        status = slo.get("status", {})
        return slo if "sli" in status and "evaluationTime" in status else None

    try:
        return wait_until(f"SLO {name} to report its budget", evaluated, timeout=120)
    except AssertionError:
        print(json.dumps(kubectl.get("servicelevelobjective", name, namespace), indent=2))
        print(op.log()[-5000:])
        raise


def assert_status_matches_analytic(slo: dict[str, Any], traffic: Traffic) -> dict[str, float]:
    """The status's SLI, budget and burn rates equal the analytic values over windows
    ending at some moment of the LAG_SECONDS before evaluationTime."""
    status = slo["status"]
    at = rfc3339(status["evaluationTime"])
    start, end = at - LAG_SECONDS, at + 1
    window = parse_window(WINDOW)

    sli_low, sli_high = analytic_span(traffic, window, start, end, sli_percent)
    assert sli_low - SLI_TOLERANCE <= float(status["sli"]) <= sli_high + SLI_TOLERANCE, (
        f"status.sli {status['sli']}, analytic {sli_low:.5f}..{sli_high:.5f}")

    low, high = analytic_span(traffic, window, start, end,
                              lambda r: budget_remaining_percent(r, OBJECTIVE))
    remaining = float(status["errorBudget"]["remaining"])
    consumed = float(status["errorBudget"]["consumed"])
    assert low - BUDGET_TOLERANCE <= remaining <= high + BUDGET_TOLERANCE, (
        f"status.errorBudget.remaining {remaining}, analytic {low:.3f}..{high:.3f}")
    assert remaining + consumed == pytest.approx(100, abs=0.11), status["errorBudget"]

    rates = {item["window"]: float(item["rate"]) for item in status.get("burnRates", [])}
    assert {"5m", "1h", "6h", "3d"} <= set(rates), status.get("burnRates")
    for name, rate in rates.items():
        r_low, r_high = analytic_span(traffic, parse_window(name), start, end,
                                      lambda r: r / (1 - OBJECTIVE / 100))
        assert r_low - BURN_TOLERANCE <= rate <= r_high + BURN_TOLERANCE, (
            f"burn rate over {name}: status {rate}, analytic {r_low:.4f}..{r_high:.4f}")
    print(f"\n{traffic.job}: sli {status['sli']} (analytic {sli_low:.4f}..{sli_high:.4f}), "
          f"remaining {remaining} (analytic {low:.3f}..{high:.3f}), burn rates {rates}")
    return {"remaining": remaining, "sli": float(status["sli"])}


def burn_rate_alerts(prometheus: Prometheus, namespace: str, name: str) -> set[tuple[str, str, str]]:
    """(severity, long, short) of the SLO's firing SLOBurnRateHigh alerts, from the
    ALERTS series Prometheus records."""
    series = prometheus.query(
        f'ALERTS{{alertname="SLOBurnRateHigh",alertstate="firing",'
        f'namespace="{namespace}",slo="{name}"}}')
    return {(s["metric"]["severity"], s["metric"]["long"], s["metric"]["short"]) for s in series}


def wait_for_rule_evaluations(prometheus: Prometheus, namespace: str, name: str) -> None:
    """Until the SLO's group has been evaluated twice with every rule healthy, so an
    absent alert is not merely one that has not been evaluated yet."""
    def evaluated_twice() -> bool:
        selector = f'{{namespace="{namespace}",slo="{name}"}}'
        samples = prometheus.query(f"count_over_time(relops_slo:sli_error:ratio_rate5m{selector}[1m])")
        return bool(samples) and float(samples[0]["value"][1]) >= 2

    wait_until("two evaluations of the SLO's rules", evaluated_twice, timeout=60)
    unhealthy = [h for h in prometheus.rule_health() if h[1] != "ok"]
    assert not unhealthy, unhealthy


@pytest.mark.parametrize("job", ["recovered", "overspent"])
def test_budget_after_an_incident_that_is_over_matches_and_does_not_page(
        kubectl: Kubectl, crds, namespace: str, operators, backfilled: Backfilled, job: str):
    prometheus, traffic = backfilled.prometheus, backfilled.traffic[job]
    name = f"{job}-api"
    kubectl.apply(slo_manifest(namespace, name, traffic))
    op = start_relops(operators, prometheus, namespace, "--rule-output", "configmap")

    configmap = load_configmap_rules(kubectl, prometheus, namespace, name)
    owner = configmap["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["name"], owner.get("controller")) == (
        "ServiceLevelObjective", name, True)

    slo = wait_for_budget(kubectl, namespace, name, op)
    numbers = assert_status_matches_analytic(slo, traffic)

    ready = condition(slo, "Ready")
    assert ready and ready["status"] == "True", slo["status"]
    exhausted = condition(slo, "BudgetExhausted")
    assert exhausted and exhausted["status"] == ("True" if job == "overspent" else "False"), exhausted
    burning = condition(slo, "BurnRateHigh")
    assert burning and burning["status"] == "False", burning

    wait_for_rule_evaluations(prometheus, namespace, name)
    assert burn_rate_alerts(prometheus, namespace, name) == set()
    assert prometheus.firing_alerts(slo=name, namespace=namespace) == []

    # The same numbers on relops's /metrics (fractions).
    remaining_metric = op.metric("relops_slo_error_budget_remaining", namespace=namespace, name=name)
    sli_metric = op.metric("relops_slo_sli", namespace=namespace, name=name)
    assert remaining_metric * 100 == pytest.approx(numbers["remaining"], abs=0.06), remaining_metric
    assert sli_metric * 100 == pytest.approx(numbers["sli"], abs=0.0006), sli_metric


def test_ongoing_fast_burn_pages(kubectl: Kubectl, crds, namespace: str, operators,
                                 backfilled: Backfilled):
    prometheus, traffic = backfilled.prometheus, backfilled.traffic["paging"]
    name = "paging-api"
    kubectl.apply(slo_manifest(namespace, name, traffic))
    op = start_relops(operators, prometheus, namespace, "--rule-output", "configmap")
    load_configmap_rules(kubectl, prometheus, namespace, name)

    slo = wait_for_budget(kubectl, namespace, name, op)
    assert_status_matches_analytic(slo, traffic)
    burning = wait_until(
        "BurnRateHigh=True",
        lambda: (c := condition(kubectl.get("servicelevelobjective", name, namespace),
                                "BurnRateHigh")) and c["status"] == "True" and c,
        timeout=30)
    print(f"BurnRateHigh: {burning}")

    wait_for_rule_evaluations(prometheus, namespace, name)
    firing = burn_rate_alerts(prometheus, namespace, name)
    # 30× the budget rate for 90 minutes: both page rows of the SRE Workbook table fire
    # (13.44× over 1h and 5m, 5.6× over 6h and 30m for a 28d window).
    assert {("critical", "1h", "5m"), ("critical", "6h", "30m")} <= firing, firing
    assert len(prometheus.firing_alerts(alertname="SLOBurnRateHigh", slo=name,
                                        severity="critical")) == 2

    # The budget keeps burning, 0.15 percentage points a minute: a status evaluated a
    # minute later shows less left (by at least 0.1 after rounding), and still the
    # analytic value of its evaluation time.
    first = rfc3339(slo["status"]["evaluationTime"])

    def minute_later():
        current = kubectl.get("servicelevelobjective", name, namespace)
        return current if rfc3339(current["status"]["evaluationTime"]) >= first + 60 else None

    try:
        later = wait_until("a status evaluated a minute later", minute_later, timeout=240)
    except AssertionError:
        print(prometheus.group_evaluations())
        print(op.log()[-5000:])
        raise
    assert (float(later["status"]["errorBudget"]["remaining"]) <
            float(slo["status"]["errorBudget"]["remaining"])), (slo["status"], later["status"])
    assert_status_matches_analytic(later, traffic)

    # The burn is one open episode: it began when BurnRateHigh turned True, its peak is at
    # least every burn rate shown since, and it has spent what the budget lost meanwhile.
    [episode] = [e for e in later["status"]["burnEpisodes"] if e["condition"] == "BurnRateHigh"]
    assert "end" not in episode, episode
    assert episode["start"] == condition(later, "BurnRateHigh")["lastTransitionTime"], episode
    shown = [float(r["rate"]) for r in later["status"]["burnRates"]]
    assert float(episode["peakBurnRate"]) >= max(shown), (episode, shown)
    spent = float(episode["budgetRemainingAtStart"]) - float(
        later["status"]["errorBudget"]["remaining"])
    assert float(episode["budgetSpent"]) == pytest.approx(spent, abs=0.11), (episode, spent)
    assert spent >= 0.1, episode


def test_prometheusrule_output_when_the_crd_is_installed(
        kubectl: Kubectl, crds, namespace: str, operators, backfilled: Backfilled):
    with prometheus_rule_crd(kubectl):
        prometheus, traffic = backfilled.prometheus, backfilled.traffic["recovered"]
        name = "via-prometheusrule"
        kubectl.apply(slo_manifest(namespace, name, traffic))
        op = start_relops(operators, prometheus, namespace)  # --rule-output auto (the default)

        rule = wait_until(
            f"PrometheusRule relops-slo-{name}",
            lambda: kubectl.get("prometheusrule", f"relops-slo-{name}", namespace), timeout=60)
        owner = rule["metadata"]["ownerReferences"][0]
        assert (owner["kind"], owner["name"], owner.get("controller")) == (
            "ServiceLevelObjective", name, True)
        assert not kubectl.exists("configmap", f"relops-slo-{name}", namespace)
        # What the Prometheus Operator would do: the PrometheusRule's groups as a rule file.
        prometheus.load_rules(f"{namespace}-{name}", json.dumps({"groups": rule["spec"]["groups"]}))

        slo = wait_for_budget(kubectl, namespace, name, op)
        assert_status_matches_analytic(slo, traffic)


def events(kubectl: Kubectl, namespace: str, name: str, reason: str) -> int:
    """How many times the Event with this reason was recorded for the SLO."""
    items = kubectl.get("events", namespace=namespace)["items"]
    total = 0
    for event in items:
        if event["involvedObject"].get("name") == name and event.get("reason") == reason:
            total += max(event.get("count") or 1, (event.get("series") or {}).get("count", 0))
    return total


def test_query_prometheus_rejects_is_stalled_with_its_message_and_not_retried_hot(
        kubectl: Kubectl, crds, namespace: str, operators, backfilled: Backfilled):
    prometheus, traffic = backfilled.prometheus, backfilled.traffic["recovered"]
    # Passes the CRD's selector rule (any quoted matcher value), but is not a valid RE2.
    bad_errors = f'{traffic.total_selector()[:-1]},code=~"(5.."}}'
    with pytest.raises(PrometheusError) as rejected:
        prometheus.query(f"sum(rate({bad_errors}[5m]))")
    prometheus_says = re.sub(r"^.*?parse error: ", "", rejected.value.message)
    assert "error parsing regexp" in prometheus_says, rejected.value.message

    name = "broken"
    kubectl.apply(slo_manifest(namespace, name, traffic, errors=bad_errors))
    op = start_relops(operators, prometheus, namespace, "--rule-output", "configmap")

    def stalled():
        slo = kubectl.get("servicelevelobjective", name, namespace)
        found = condition(slo, "Stalled")
        return found if found and found["status"] == "True" else None

    try:
        found = wait_until("Stalled=True", stalled, timeout=60)
    except AssertionError:
        print(op.log()[-5000:])
        raise
    print(f"\nStalled: {found}")
    assert found["reason"] == "InvalidQuery", found
    assert prometheus_says in found["message"], (prometheus_says, found["message"])
    ready = condition(kubectl.get("servicelevelobjective", name, namespace), "Ready")
    assert ready and ready["status"] == "False", ready
    wait_until("the InvalidQuery Event", lambda: events(kubectl, namespace, name, "InvalidQuery"),
               timeout=30)

    # No hot loop: over 30 s (six refresh intervals) relops's queries, counted by
    # Prometheus itself, stay within what six refreshes of one SLO can ask (the SLO
    # window's ratio and total, seven alert windows, the validity check: 10 queries),
    # and the Event is not repeated.
    period, refreshes, queries_per_refresh = 30, 30 // 5 + 1, 10
    before = prometheus.own_metric("prometheus_http_requests_total", handler="/api/v1/query")
    # The count once Events already on their way have landed.
    events_before = settled("the InvalidQuery Event count",
                            lambda: events(kubectl, namespace, name, "InvalidQuery"))
    time.sleep(period)
    queries = prometheus.own_metric("prometheus_http_requests_total",
                                    handler="/api/v1/query") - before
    print(f"relops sent {queries:.0f} queries in {period} s while stalled")
    assert op.alive(), op.log()[-3000:]
    assert queries <= refreshes * queries_per_refresh, (
        f"{queries:.0f} queries in {period} s: relops retries a rejected query too often")
    assert events(kubectl, namespace, name, "InvalidQuery") == events_before
    assert stalled(), "the Stalled condition went away by itself"


def test_an_slo_reads_only_its_own_namespaces_series(
        kubectl: Kubectl, crds, namespace: str, operators, backfilled: Backfilled):
    """relops's default: every selector is confined to the SLO's namespace. The backfilled
    series carry no namespace label — they stand for another namespace's data — so an SLO
    naming them, even with a namespace matcher of its own, gets rules and queries that see
    nothing: its status never shows their SLI or budget."""
    prometheus, traffic = backfilled.prometheus, backfilled.traffic["paging"]
    name = "confined"
    errors = traffic.errors_selector()[:-1] + ',namespace="elsewhere"}'
    kubectl.apply(slo_manifest(namespace, name, traffic, errors=errors))
    op = operators("--prometheus-url", prometheus.url, "--slo-refresh-interval", REFRESH,
                   "--watch-namespace", namespace, "--rule-output", "configmap")
    wait_until("relops ready", op.ready, timeout=60)
    configmap = load_configmap_rules(kubectl, prometheus, namespace, name)
    rule_file = configmap["data"][f"{name}.rules.yaml"]
    assert "elsewhere" not in rule_file
    assert f'job="{traffic.job}",namespace="{namespace}"' in rule_file

    def waiting():
        slo = kubectl.get("servicelevelobjective", name, namespace)
        found = condition(slo, "Reconciling")
        return slo if found and found["reason"] == "WaitingForData" else None

    wait_until("Reconciling=WaitingForData", waiting, timeout=60)
    # Three refreshes later the SLO still has no numbers: none of another namespace's.
    deadline = time.monotonic() + 3 * 5
    while time.monotonic() < deadline:
        status = kubectl.get("servicelevelobjective", name, namespace).get("status", {})
        assert "sli" not in status and "errorBudget" not in status, status
        time.sleep(1)
    assert prometheus.query(f'relops_slo:sli_error:ratio_rate5m{{slo="{name}"}}') == []
    assert op.alive(), op.log()[-3000:]
