"""Every query of every dashboard the chart ships returns data from a real Prometheus that
scrapes relops and evaluates relops's rules, and names only metrics relops exports or its
rules record.

A namespace of this test's own gets one object of every kind, each in a state that gives its
panels something to show:
- a ratio SLO (`checkout`, 99% over 28d, grouped by `route`) over live traffic: a test HTTP
  endpoint serves counters `http_requests_total{namespace,route,code}` growing at 3% errors,
  scraped by Prometheus; relops writes the SLO's rules into a ConfigMap (`--rule-output
  configmap`), the test loads that file into Prometheus, and relops reads the SLI and budget
  back (its budget is overspent);
- a workload SLO on a Deployment;
- an ErrorBudgetPolicy that freezes that Deployment for the overspent SLO;
- an OnCallRotation with two people taking daily turns;
- a veleroRestore DRDrill run once (run-now) from a Backup three hours old, against Velero's
  real CRDs and the test actor of velero_support.py in a Velero namespace of this test's own:
  it passes with a measured RTO and RPO.

relops runs with leader election and `--metrics-secure=false`; Prometheus scrapes it every
2 s. Once the objects have settled, each panel target, with the dashboard's template variables
replaced by this namespace's objects ($__rate_interval by 1m, $__range by 10m), runs as an
instant query. The test fails
naming the dashboard, the panel and the query when one returns nothing or names a metric that
is neither on relops's /metrics page nor recorded by its rules; each variable's
label_values() query must list this test's object.
"""

from __future__ import annotations

import datetime as dt
import http.server
import json
import re
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from kube import Kubectl, unique_name, wait_until
from prometheus import Prometheus
from relops_process import REPO, free_port
from slo_support import rule_groups
from velero_support import VeleroServerActor, install_velero_crds
from velero_support import backup as velero_backup

DASHBOARDS = sorted((REPO / "helm" / "relops" / "dashboards").glob("*.json"))
SLO = "checkout"
ROTATION = "primary"
DRILL = "restore"

# Requests per second per route and the share that fail: 3% overall, over the 1% budget.
ROUTES = {"/cart": (10.0, 0.05), "/pay": (10.0, 0.01)}

# PromQL words that are not metric names.
KEYWORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or",
    "unless", "offset", "sum", "avg", "min", "max", "count", "topk", "bottomk", "quantile",
    "stddev", "stdvar", "count_values", "group", "inf", "nan",
}


class Traffic:
    """An HTTP endpoint whose /metrics counts requests as if they arrived at ROUTES's rates
    since it started, in the SLO's namespace."""

    def __init__(self, namespace: str):
        self.namespace = namespace
        self.started = time.time()
        self.port = free_port()
        traffic = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the handler's interface)
                body = traffic.exposition().encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def exposition(self) -> str:
        elapsed = time.time() - self.started
        lines = ["# TYPE http_requests_total counter"]
        for route, (rate, errors) in ROUTES.items():
            total = rate * elapsed
            for code, count in (("200", total * (1 - errors)), ("500", total * errors)):
                lines.append(f'http_requests_total{{namespace="{self.namespace}",'
                             f'route="{route}",code="{code}"}} {count:.3f}')
        return "\n".join(lines) + "\n"

    def __enter__(self) -> "Traffic":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def objects(namespace: str, velero_namespace: str) -> list[dict[str, Any]]:
    labels = {"app": "web"}
    return [
        {"apiVersion": "apps/v1", "kind": "Deployment",
         "metadata": {"name": "web", "namespace": namespace, "labels": labels},
         "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                  "template": {"metadata": {"labels": labels}, "spec": {
                      "containers": [{"name": "app", "image": "busybox"}]}}}},
        {"apiVersion": "relops.dev/v1alpha1", "kind": "ServiceLevelObjective",
         "metadata": {"name": SLO, "namespace": namespace, "labels": {"tier": "1"}},
         "spec": {"service": "checkout", "objective": "99", "window": "28d",
                  "indicator": {"ratio": {"errors": 'http_requests_total{code=~"5.."}',
                                          "total": "http_requests_total",
                                          "grouping": ["route"]}}}},
        {"apiVersion": "relops.dev/v1alpha1", "kind": "ServiceLevelObjective",
         "metadata": {"name": "web-availability", "namespace": namespace},
         "spec": {"service": "web", "objective": "99", "window": "1h",
                  "budgetingMethod": "Timeslices",
                  "indicator": {"workload": {"kind": "Deployment", "name": "web"}}}},
        {"apiVersion": "relops.dev/v1alpha1", "kind": "ErrorBudgetPolicy",
         "metadata": {"name": "tier1", "namespace": namespace},
         "spec": {"sloSelector": {"matchLabels": {"tier": "1"}},
                  "workloadSelector": {"matchLabels": labels},
                  "rules": [{"name": "budget-exhausted", "budgetRemainingBelow": "0",
                             "freeze": True}]}},
        {"apiVersion": "relops.dev/v1alpha1", "kind": "OnCallRotation",
         "metadata": {"name": ROTATION, "namespace": namespace},
         "spec": {"timeZone": "Europe/Berlin",
                  "participants": [{"name": "ana"}, {"name": "ben"}],
                  "layers": [{"name": "primary", "members": ["ana", "ben"],
                              "start": "2026-01-05T09:00:00", "turnLength": "1d"}],
                  "horizon": "2w", "fairness": {"lookBack": "2w"}}},
        {"apiVersion": "relops.dev/v1alpha1", "kind": "DRDrill",
         "metadata": {"name": DRILL, "namespace": namespace},
         "spec": {"schedule": "0 0 1 1 *", "runTimeout": "5m",
                  "objectives": {"rto": "4m", "rpo": "26h"},
                  "veleroRestore": {"scheduleName": f"nightly-{namespace}",
                                    "sourceNamespace": namespace}}},
    ]


def substitute(expr: str, namespace: str) -> str:
    values = {"namespace": namespace, "slo": SLO, "rotation": ROTATION, "drill": DRILL,
              "job": "relops", "__rate_interval": "1m", "__range": "10m"}
    for name, value in values.items():
        expr = expr.replace("${" + name + "}", value).replace("$" + name, value)
    assert "$" not in expr, f"a variable the test does not know: {expr}"
    return expr


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects: identifiers outside strings, label
    matchers, ranges and grouping lists that are neither functions nor keywords."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    text = re.sub(r"\{[^}]*\}", "", text)
    text = re.sub(r"\[[^\]]*\]", "", text)
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)
    names = set()
    for match in re.finditer(r"[a-zA-Z_:][a-zA-Z0-9_:]*", text):
        word = match.group(0)
        if word.lower() in KEYWORDS or text[match.end():].lstrip().startswith("("):
            continue
        names.add(word)
    return names


def test_metric_names_finds_selected_metrics_only():
    assert metric_names('sum by (a) (rate(x_total{job=~"$job"}[5m])) / scalar(y)') == {
        "x_total", "y"}
    assert metric_names('histogram_quantile(0.99, sum by (le) (rate(h_bucket[1m])))') == {
        "h_bucket"}
    assert metric_names('a:b:c{x="or y"} or vector(0)') == {"a:b:c"}


def exported_names(metrics_text: str) -> set[str]:
    """Every family on relops's /metrics page, those without a series yet included, with the
    series names of its histograms."""
    names = set()
    for line in metrics_text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            names.add(name)
            if kind == "histogram":
                names |= {name + "_bucket", name + "_sum", name + "_count"}
        elif line and not line.startswith("#"):
            names.add(line.split("{")[0].split(" ")[0])
    return names


@pytest.fixture
def velero_namespace(kubectl: Kubectl):
    """Velero's Backup and Restore CRDs, and a Velero namespace of this test's own."""
    install_velero_crds(kubectl)
    name = unique_name("velero")
    kubectl.run("create", "namespace", name)
    yield name
    kubectl.run("delete", "namespace", name, "--wait=false", check=False)


def test_every_panel_query_returns_data(kubectl: Kubectl, namespace: str, crds,
                                        velero_namespace: str, operators, tmp_path: Path):
    began = time.monotonic()
    prometheus = Prometheus(tmp_path / "prometheus", evaluation_interval="2s")
    with Traffic(namespace) as traffic:
        op = operators("--watch-namespace", namespace, "--prometheus-url", prometheus.url,
                       "--rule-output", "configmap", "--slo-refresh-interval", "2s",
                       "--velero-namespace", velero_namespace,
                       # Elected, as with replicaCount > 1: the Leader panel reads the Lease.
                       "--leader-elect", "--leader-election-namespace", namespace,
                       "--leader-election-id", f"dashboards-{namespace}")
        prometheus.scrape("relops", f"127.0.0.1:{op.metrics_port}", "2s")
        prometheus.scrape("traffic", f"127.0.0.1:{traffic.port}", "2s")
        prometheus.start()
        try:
            with VeleroServerActor(kubectl, namespace=velero_namespace):
                settle(kubectl, namespace, velero_namespace, prometheus)
                known = exported_names(op.metrics()) | recorded_names(kubectl, namespace)
                dashboards = {p.name: json.loads(p.read_text()) for p in DASHBOARDS}
                failures = check_dashboards(dashboards, namespace, prometheus, known)
                # The check itself: a planted empty panel and a planted unknown metric fail.
                planted = check_dashboards({"planted.json": planted_dashboard()}, namespace,
                                           prometheus, known, minimum=2)
        finally:
            prometheus.stop()
    print(f"\nall panels answered {time.monotonic() - began:.0f} s after the start")
    assert not failures, "\n".join(failures)
    assert len(planted) == 2 and "no data" in planted[0] and "neither" in planted[1], planted
    assert op.alive(), op.log()[-3000:]


def recorded_names(kubectl: Kubectl, namespace: str) -> set[str]:
    groups = rule_groups(kubectl, namespace, SLO) or []
    return {rule["record"] for group in groups for rule in group["rules"] if "record" in rule}


def settle(kubectl: Kubectl, namespace: str, velero_namespace: str,
           prometheus: Prometheus) -> None:
    """Creates the objects and waits until each kind shows what its panels read."""
    three_hours_ago = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=3)).strftime(
        "%Y-%m-%dT%H:%M:%SZ")
    velero_backup(kubectl, f"nightly-{namespace}-1", f"nightly-{namespace}", "Completed",
                  three_hours_ago, [namespace], velero_namespace)
    for obj in objects(namespace, velero_namespace):
        kubectl.apply(json.dumps(obj))
    kubectl.run("annotate", "drdrill", DRILL, "-n", namespace, "relops.dev/run-now=dashboards")

    groups = wait_until("the SLO's rule ConfigMap",
                        lambda: rule_groups(kubectl, namespace, SLO), timeout=60)
    prometheus.load_rules(f"slo-{SLO}", yaml.safe_dump({"groups": groups}))

    def scraped(query: str) -> bool:
        return bool(prometheus.query(query))

    for what, query in [
        ("the SLO's budget from Prometheus, overspent",
         f'relops_slo_error_budget_remaining{{namespace="{namespace}",name="{SLO}"}} < 0'),
        ("the freeze", f'relops_freeze_active{{namespace="{namespace}"}} == 1'),
        ("the drill's verdict", f'relops_drdrill_last_result{{namespace="{namespace}"}}'),
        ("the drill's measured RPO", f'relops_drdrill_rpo_seconds{{namespace="{namespace}"}}'),
        ("the rotation's load", f'relops_oncall_load_hours{{namespace="{namespace}"}}'),
        # Two scrapes inside a minute after the last of them: rate()s over 1m have data.
        ("rates over a minute", f'rate(relops_drdrill_runs_total{{namespace="{namespace}"}}[1m])'),
    ]:
        wait_until(what, lambda q=query: scraped(q), timeout=120, interval=1)


def planted_dashboard() -> dict[str, Any]:
    return {"templating": {"list": []}, "panels": [
        {"title": "empty", "targets": [{"expr": 'relops_slo_sli{namespace="$namespace-none"}'}]},
        {"title": "unknown", "targets": [{"expr": "relops_no_such_metric"}]}]}


def check_dashboards(dashboards: dict[str, dict[str, Any]], namespace: str,
                     prometheus: Prometheus, known: set[str], minimum: int = 30) -> list[str]:
    """What is wrong with the dashboards' queries, one line each; `minimum` panel queries at
    least must have been found."""
    assert any(":" in name for name in known), "the SLO's rules record nothing"
    failures: list[str] = []
    checked = 0
    for file_name, dashboard in dashboards.items():
        for variable in dashboard["templating"]["list"]:
            if variable["type"] != "query":
                continue
            match = re.fullmatch(r"label_values\((.*),\s*(\w+)\)", variable["definition"])
            assert match, (file_name, variable["definition"])
            selector, label = substitute(match.group(1), namespace), match.group(2)
            values = {s["metric"].get(label) for s in prometheus.query(selector)}
            expected = {"namespace": namespace, "slo": SLO, "rotation": ROTATION,
                        "drill": DRILL, "job": "relops"}[variable["name"]]
            if expected not in values:
                failures.append(f"{file_name}: variable {variable['name']}: {selector} lists "
                                f"{sorted(v for v in values if v)}, not {expected}")
        for panel in dashboard["panels"]:
            for target in panel["targets"]:
                checked += 1
                where = f"{file_name}: panel {panel['title']!r}: {target['expr']}"
                unknown = metric_names(target["expr"]) - known
                if unknown:
                    failures.append(f"{where}: names {sorted(unknown)}, which relops neither "
                                    "exports nor records")
                    continue
                query = substitute(target["expr"], namespace)
                if not prometheus.query(query):
                    failures.append(f"{where}: no data for {query}")
    assert checked >= minimum, f"only {checked} panel queries found"
    print(f"\n{checked} panel queries of {len(dashboards)} dashboards checked")
    return failures
