"""The reliability report against a real API server (issue 18): `relops report` reads a
namespace through a kubeconfig, and relops serves the same report at /reports/ on its metrics
listener (HTTPS, TokenReview + SubjectAccessReview), from its informer caches.

Tenancy: a user bound to the built-in `view` role in team_a gets team_a's report and is refused
(403) team_b's and the all-namespaces one; no token or a made-up one is 401; a user who may list
SLOs cluster-wide gets the all-namespaces report. relops runs with the chart's flags, as the
chart's ServiceAccount (tenant.py)."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from install_support import wait_ready
from kube import wait_until
from relops_process import Operator
from tenant import Tenancy, tenancy  # noqa: F401 (the fixture)

SLO = """\
apiVersion: relops.dev/v1alpha1
kind: ServiceLevelObjective
metadata: {{name: {name}, namespace: {namespace}}}
spec:
  service: {name}
  objective: "99.9"
  window: 28d
  indicator:
    ratio: {{errors: 'http_requests_total{{code=~"5.."}}', total: http_requests_total}}
"""

# A calendar-month workload SLO: relops counts the Deployment's minutes itself (no Prometheus)
# and keeps the current period and a budget trail in status, which the report reads.
CART = """\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: cart, namespace: {namespace}}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: cart}}}}
  template:
    metadata: {{labels: {{app: cart}}}}
    spec:
      containers: [{{name: app, image: "nginx:1"}}]
---
apiVersion: relops.dev/v1alpha1
kind: ServiceLevelObjective
metadata: {{name: cart-availability, namespace: {namespace}, labels: {{relops.dev/team: shop}}}}
spec:
  service: cart
  objective: "99.5"
  window: month
  timeZone: Europe/Berlin
  budgetingMethod: Timeslices
  indicator:
    workload: {{kind: Deployment, name: cart}}
"""

ROTATION = """\
apiVersion: relops.dev/v1alpha1
kind: OnCallRotation
metadata: {{name: primary, namespace: {namespace}}}
spec:
  timeZone: Europe/Berlin
  participants: [{{name: ana}}, {{name: ben}}]
  layers:
  - {{name: primary, members: [ana, ben], start: "2026-01-05T09:00:00", turnLength: 1d}}
"""


def token(tenancy: Tenancy, service_account: str, namespace: str) -> str:
    return tenancy.admin.run("create", "token", service_account, "-n", namespace,
                             "--duration=1h").stdout.strip()


def report_get(op: Operator, path: str, bearer: str | None = None):
    headers = {"Authorization": f"Bearer {bearer}"} if bearer is not None else {}
    return op._fetch(f"https://127.0.0.1:{op.metrics_port}{path}", headers)


@pytest.fixture(scope="module")
def relops(tenancy: Tenancy) -> Operator:
    """relops with the chart's flags: metrics (and so reports) over HTTPS, authorized."""
    op = Operator(tenancy.relops_kubeconfig, tenancy.workdir / "relops-reports.log",
                  *tenancy.deployment_args(), "--watch-namespace", tenancy.team_a,
                  "--watch-namespace", tenancy.team_b, "--slo-refresh-interval=5s",
                  env={"POD_NAMESPACE": tenancy.system}, metrics_secure=True)
    tenancy.started.append(op)
    wait_ready(op)
    return op


@pytest.fixture(scope="module")
def scene(tenancy: Tenancy, relops: Operator) -> dict[str, str]:
    """An SLO in each team's namespace and a rotation in team_a; a `view` user in team_a and a
    cluster-wide reader. Returns their tokens."""
    a, b = tenancy.team_a, tenancy.team_b
    tenancy.admin.apply(SLO.format(name="checkout", namespace=a))
    tenancy.admin.apply(ROTATION.format(namespace=a))
    tenancy.admin.apply(CART.format(namespace=a))
    tenancy.admin.apply(SLO.format(name="billing", namespace=b))
    tenancy.admin.run("create", "serviceaccount", "viewer", "-n", a)
    tenancy.admin.run("create", "rolebinding", "viewer-view", "--clusterrole=view",
                      f"--serviceaccount={a}:viewer", "-n", a)
    tenancy.admin.run("create", "serviceaccount", "auditor", "-n", tenancy.system)
    tenancy.admin.run("create", "clusterrolebinding", f"{tenancy.release}-auditor",
                      "--clusterrole=view", f"--serviceaccount={tenancy.system}:auditor")
    # The rotation's load, computed by relops, is what the report shows of on-call.
    wait_until("the rotation's load", lambda: tenancy.admin.get(
        "oncallrotation", "primary", a).get("status", {}).get("load"), timeout=60)
    wait_until("the calendar SLO's period and budget trail", lambda: all(
        key in tenancy.admin.get("servicelevelobjective", "cart-availability", a).get(
            "status", {}) for key in ("period", "budgetTrail")), timeout=150)
    yield {"viewer": token(tenancy, "viewer", a), "auditor": token(tenancy, "auditor",
                                                                     tenancy.system)}
    tenancy.admin.run("delete", "clusterrolebinding", f"{tenancy.release}-auditor",
                      check=False)


def test_viewer_reads_only_their_namespace(tenancy: Tenancy, relops: Operator, scene):
    a, b = tenancy.team_a, tenancy.team_b
    viewer = scene["viewer"]

    def own_report():
        code, headers, body = report_get(relops, f"/reports/{a}?format=json", viewer)
        assert code == 200, (code, body)
        report = json.loads(body)
        names = {s["name"] for s in report["slos"]}
        return report if names == {"checkout", "cart-availability"} else None

    report = wait_until("team_a's report from the caches", own_report, timeout=60)
    assert report["kind"] == "ReliabilityReport" and report["scope"] == f"namespace {a}"
    [rotation] = report["rotations"]
    assert {p["participant"] for p in rotation["load"]} == {"ana", "ben"}
    assert report["notes"] == []  # `view` lists every relops kind: nothing left out
    # The calendar SLO as relops wrote its status: the month in Berlin, a trail of this month,
    # its team from the label.
    [cart] = [s for s in report["slos"] if s["name"] == "cart-availability"]
    assert cart["calendar"] and cart["team"] == "shop" and cart["timeZone"] == "Europe/Berlin"
    period = tenancy.admin.get("servicelevelobjective", "cart-availability", a)["status"]["period"]
    assert cart["currentPeriod"] == period["label"]
    assert cart["budgetTrail"] and cart["budgetTrail"][-1]["date"][:7] == period["label"]

    code, headers, body = report_get(relops, f"/reports/{a}?period=2026-11", viewer)
    assert code == 200 and headers["Content-Type"].startswith("text/html")
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert "<svg" in body and "Reliability report 2026-11" in body and "billing" not in body

    code, _, body = report_get(relops, f"/reports/{a}?format=md&period=2026-Q4", viewer)
    assert code == 200 and body.startswith("# Reliability report 2026-Q4")

    # Another team's namespace and the whole cluster: refused, and nothing of them leaks.
    for path in (f"/reports/{b}?format=json", "/reports/?format=json", "/reports/"):
        code, _, body = report_get(relops, path, viewer)
        assert code == 403 and "billing" not in body and "checkout" not in body, (path, code)


def test_no_token_is_unauthorized(tenancy: Tenancy, relops: Operator, scene):
    for path in (f"/reports/{tenancy.team_a}", "/reports/"):
        for bearer in (None, "not-a-token"):
            code, _, body = report_get(relops, path, bearer)
            assert code == 401 and "checkout" not in body, (path, bearer, code)


def test_bad_requests(tenancy: Tenancy, relops: Operator, scene):
    viewer = scene["viewer"]
    a = tenancy.team_a
    assert report_get(relops, f"/reports/{a}?period=last-month", viewer)[0] == 400
    assert report_get(relops, f"/reports/{a}?format=pdf", viewer)[0] == 400
    assert report_get(relops, "/reports/Not_A_Namespace", viewer)[0] == 404


def test_cluster_reader_gets_every_namespace(tenancy: Tenancy, relops: Operator, scene):
    def both():
        code, _, body = report_get(relops, "/reports/?format=json", scene["auditor"])
        assert code == 200, (code, body)
        names = {(s["namespace"], s["name"]) for s in json.loads(body)["slos"]}
        return names >= {(tenancy.team_a, "checkout"), (tenancy.team_b, "billing")}

    wait_until("both namespaces in the all-namespaces report", both, timeout=60)


def test_cli_reads_the_namespace_through_a_kubeconfig(tenancy: Tenancy, scene, tmp_path):
    """`relops report` as the `edit` tenant: its own namespace, and a refusal for all."""
    binary = os.environ["RELOPS_BINARY"]
    kubeconfig = str(tenancy.tenant.kubeconfig)
    out = tmp_path / "report.html"
    result = subprocess.run(
        [binary, "report", "--kubeconfig", kubeconfig, "-n", tenancy.team_a, "--period",
         "2026-Q4", "--format", "html", "-o", str(out)],
        capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    html = out.read_text()
    assert "checkout" in html and 'id="oncall-load"' in html and "billing" not in html

    result = subprocess.run(
        [binary, "report", "--kubeconfig", kubeconfig, "-n", tenancy.team_a, "--format",
         "json"], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert {s["name"] for s in json.loads(result.stdout)["slos"]} == {"checkout",
                                                                     "cart-availability"}

    result = subprocess.run(
        [binary, "report", "--kubeconfig", kubeconfig, "--all-namespaces"],
        capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 1 and "forbidden" in result.stderr.lower(), result.stderr
