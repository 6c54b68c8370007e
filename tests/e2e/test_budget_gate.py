"""The error budget as a gate for progressive delivery (issue 19): relops serves an SLO's budget
at /budget/<namespace>/<name> on its metrics listener (HTTPS, TokenReview + a resource
SubjectAccessReview for `get` on that SLO), from its informer cache, and ships an Argo Rollouts
AnalysisTemplate and a Flagger Canary (deploy/examples/budget-gate/) that read it.

Two workload SLOs (relops counts a Deployment's minutes itself, no Prometheus) in the tenant's
namespace: `down`, whose Deployment can never be scheduled, so every minute spends a sixth of its
1-hour budget, and `up`, whose Deployment is available, its budget whole.

(a) An AnalysisRun-equivalent request. Argo Rollouts' controller cannot run here without its
    image, so the test plays its part: it renders the shipped AnalysisTemplate's web provider
    url and Authorization header with the test's args (the token read from the Secret of the
    shipped rbac.yaml, applied to the namespace), calls relops as the controller would, applies
    the template's jsonPath to the answer and evaluates its successCondition — the simple
    `result >= N` form, evaluated by the test itself, not by Argo's expression engine. What is
    proven: relops's answer, the shipped URL, header, token Secret, RBAC and jsonPath work
    together, and the condition fails below the threshold and passes above it. Not proven: how
    a real Argo Rollouts controller schedules measurements and aborts the rollout.
(b) The Flagger-style request of the shipped Canary's webhook (`?min=`): 412 with the reason
    below the threshold, 200 at or above it. Flagger's load tester, which runs the shipped
    command, is not run here either.
(c) No token or a made-up one: 401. A ServiceAccount without `get` on the SLO, or with `get` on
    other SLOs only: 403. The tenant (`edit` in its namespace) reads its own SLO's budget and is
    refused another namespace's: 403 — and a missing SLO is 404 only to whoever may get it.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
import yaml

from install_support import CHART, documents, helm
from kube import wait_until
from relops_process import Operator
from tenant import Tenancy, tenancy  # noqa: F401 (the fixture)

EXAMPLES = Path(__file__).resolve().parents[2] / "deploy" / "examples" / "budget-gate"
OBJECTIVE = "90"   # with a 1-hour window: a budget of 6 minutes, one bad minute spends 16.7 %
GATE = 90.0        # above `down`'s budget after its first bad minute, below `up`'s 100 %


def workload(namespace: str, name: str, schedulable: bool) -> str:
    spec: dict[str, Any] = {"containers": [{"name": "app", "image": "nginx:1"}]}
    if not schedulable:
        spec["nodeSelector"] = {"relops.dev/e2e-nowhere": "true"}
    return json.dumps({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}}, "spec": spec}},
    })


def slo(namespace: str, name: str, target: str) -> str:
    return json.dumps({
        "apiVersion": "relops.dev/v1alpha1", "kind": "ServiceLevelObjective",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"service": target, "objective": OBJECTIVE, "window": "1h",
                 "budgetingMethod": "Timeslices",
                 "indicator": {"workload": {"kind": "Deployment", "name": target}}},
    })


def example(name: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((EXAMPLES / name).read_text()) if d]


def in_namespace(docs: list[dict[str, Any]], namespace: str) -> list[dict[str, Any]]:
    """The shipped example moved from `shop` into `namespace`."""
    text = yaml.safe_dump_all(docs)
    return list(yaml.safe_load_all(text.replace("namespace: shop", f"namespace: {namespace}")))


def get(op: Operator, path: str, bearer: str | None = None) -> tuple[int, dict[str, Any] | str]:
    headers = {"Authorization": f"Bearer {bearer}"} if bearer is not None else {}
    code, _, body = op._fetch(f"https://127.0.0.1:{op.metrics_port}{path}", headers)
    try:
        return code, json.loads(body)
    except ValueError:
        return code, body


def token(tenancy: Tenancy, service_account: str, namespace: str) -> str:
    return tenancy.admin.run("create", "token", service_account, "-n", namespace,
                             "--duration=1h").stdout.strip()


@pytest.fixture(scope="module")
def relops(tenancy: Tenancy) -> Operator:
    """relops with the chart's flags: metrics (and so /budget/) over HTTPS, authorized."""
    return tenancy.start_relops("--slo-refresh-interval=5s", metrics_secure=True)


@pytest.fixture(scope="module")
def scene(tenancy: Tenancy, relops: Operator) -> dict[str, str]:
    """The two SLOs (and one in team_b), the shipped rbac.yaml applied to team_a with the gate
    allowed `down` and `up`, a ServiceAccount with no grant; waits for `down` to have spent
    budget. Returns the tokens."""
    a, b = tenancy.team_a, tenancy.team_b
    admin = tenancy.admin
    admin.apply(workload(a, "web-down", schedulable=False))
    admin.apply(workload(a, "web-up", schedulable=True))
    admin.apply(slo(a, "down", "web-down"))
    admin.apply(slo(a, "up", "web-up"))
    admin.apply(slo(a, "other", "web-up"))
    admin.apply(slo(b, "billing", "web-up"))
    rbac = in_namespace(example("rbac.yaml"), a)
    for doc in rbac:
        if doc["kind"] == "Role":
            doc["rules"][0]["resourceNames"] = ["down", "up"]
    admin.run("apply", "-f", "-", input=yaml.safe_dump_all(rbac))
    admin.run("create", "serviceaccount", "nobody", "-n", a)

    [secret] = [d for d in rbac if d["kind"] == "Secret"]
    gate = wait_until("the token controller filling the gate's Secret", lambda: admin.get(
        "secret", secret["metadata"]["name"], a).get("data", {}).get("token"), timeout=30)

    def budget(name: str):
        status = admin.get("servicelevelobjective", name, a).get("status", {})
        return status.get("errorBudget", {}).get("remaining")

    # Timeslices are whole minutes: the first is counted when the minute after creation ends.
    wait_until("a bad minute spent from `down`'s budget",
               lambda: (r := budget("down")) is not None and float(r) < GATE, timeout=150)
    wait_until("`up`'s budget", lambda: budget("up") is not None, timeout=30)
    return {"gate": base64.b64decode(gate).decode(), "nobody": token(tenancy, "nobody", a),
            "tenant": token(tenancy, "tenant", a)}


def render(text: str, args: dict[str, str]) -> str:
    """Argo Rollouts' argument substitution: {{args.NAME}} (spaces allowed inside)."""
    def value(match: re.Match) -> str:
        return args[match.group(1)]
    return re.sub(r"\{\{\s*args\.([A-Za-z0-9_-]+)\s*\}\}", value, text)


def analysis_run(relops: Operator, tenancy: Tenancy, gate_token: str, slo_name: str,
                 min_budget: str) -> tuple[bool, Any, dict[str, Any]]:
    """One measurement of the shipped AnalysisTemplate, as its web provider would take it:
    (successCondition held, result, relops's answer)."""
    [template] = example("analysistemplate.yaml")
    [metric] = template["spec"]["metrics"]
    web = metric["provider"]["web"]
    assert metric["failureLimit"] == 0 and web.get("method", "GET") == "GET"
    args: dict[str, str] = {}
    for arg in template["spec"]["args"]:
        if "valueFrom" in arg:
            # secretKeyRef: the shipped rbac.yaml's Secret, read the way the controller reads it.
            ref = arg["valueFrom"]["secretKeyRef"]
            assert ref == {"name": "relops-budget-gate-token", "key": "token"}, ref
            args[arg["name"]] = gate_token
        elif "value" in arg:
            args[arg["name"]] = arg["value"]
    args.update({"namespace": tenancy.team_a, "slo": slo_name, "min-budget": min_budget,
                 "relops-url": f"https://127.0.0.1:{relops.metrics_port}"})
    url = render(web["url"], args)
    headers = {h["key"]: render(h["value"], args) for h in web["headers"]}
    code, _, body = relops._fetch(url, headers)
    assert code == 200, (url, code, body)  # the web provider counts anything else as an error
    answer = json.loads(body)
    # jsonPath "{$.remainingPercent}": a plain member path.
    match = re.fullmatch(r"\{\$\.([A-Za-z]+)\}", web["jsonPath"])
    assert match, web["jsonPath"]
    result = answer[match.group(1)]
    # successCondition "result >= N" after substitution; evaluated here, not by Argo's engine.
    condition = re.fullmatch(r"result >= (\d+(?:\.\d+)?)", render(metric["successCondition"],
                                                                   args))
    assert condition, metric["successCondition"]
    return result >= float(condition.group(1)), result, answer


def test_analysis_template_fails_below_the_threshold_and_passes_above(
        tenancy: Tenancy, relops: Operator, scene):
    passed, result, answer = analysis_run(relops, tenancy, scene["gate"], "down", f"{GATE:g}")
    assert not passed and isinstance(result, float) and result < GATE, answer
    assert answer["namespace"] == tenancy.team_a and answer["name"] == "down"
    assert answer["objective"] == OBJECTIVE and answer["window"] == "1h"
    assert answer["consumed"] == pytest.approx(100 - result, abs=0.11), answer
    # Below `down`'s budget the same template passes: the threshold decides, not the SLO.
    passed, result, _ = analysis_run(relops, tenancy, scene["gate"], "down", "1")
    assert passed, result
    passed, result, answer = analysis_run(relops, tenancy, scene["gate"], "up", f"{GATE:g}")
    assert passed and result == 100, answer


def test_flagger_style_min_is_412_with_the_reason_below_and_200_above(
        tenancy: Tenancy, relops: Operator, scene):
    [canary, _] = example("flagger-canary.yaml")
    urls = [re.search(r'"(https://[^"]+)"', hook["metadata"]["cmd"]).group(1)
            for hook in canary["spec"]["analysis"]["webhooks"]]
    assert {hook["type"] for hook in canary["spec"]["analysis"]["webhooks"]} == {
        "pre-rollout", "rollout"}
    shipped = urllib.parse.urlsplit(urls[0])
    assert shipped.path == "/budget/shop/checkout" and shipped.query == "min=20", urls
    a = tenancy.team_a

    code, body = get(relops, f"/budget/{a}/down?min={GATE:g}", scene["gate"])
    assert code == 412, (code, body)
    assert body["pass"] is False and body["min"] == GATE
    reason = re.fullmatch(rf"error budget of {a}/down is (-?[\d.]+)% of its budget, below the "
                          rf"{GATE:g}% this gate requires", body["reason"])
    assert reason and float(reason.group(1)) == body["remainingPercent"], body

    # The shipped threshold (20 %) on the healthy SLO, and `down` at a threshold it still meets.
    code, body = get(relops, f"/budget/{a}/up?{shipped.query}", scene["gate"])
    assert code == 200 and body["pass"] is True, (code, body)
    assert "at or above the 20% this gate requires" in body["reason"]
    code, body = get(relops, f"/budget/{a}/down?min=1", scene["gate"])
    assert code == 200 and body["pass"] is True, (code, body)
    assert get(relops, f"/budget/{a}/down?min=abc", scene["gate"])[0] == 400


def test_who_is_refused(tenancy: Tenancy, relops: Operator, scene):
    a, b = tenancy.team_a, tenancy.team_b
    for bearer in (None, "not-a-token"):
        code, body = get(relops, f"/budget/{a}/down?min=1", bearer)
        assert code == 401 and "remainingPercent" not in str(body), (bearer, code)
    # No grant at all; a grant on other SLOs only (the gate's Role names `down` and `up`).
    code, body = get(relops, f"/budget/{a}/down", scene["nobody"])
    assert code == 403, (code, body)
    code, body = get(relops, f"/budget/{a}/other", scene["gate"])
    assert code == 403, (code, body)
    # The tenant: its own namespace's SLOs (edit aggregates relops's roles), not team_b's —
    # and whether an SLO exists there is not told.
    code, body = get(relops, f"/budget/{a}/other", scene["tenant"])
    assert code == 200 and body["name"] == "other", (code, body)
    for name in ("billing", "no-such-slo"):
        code, body = get(relops, f"/budget/{b}/{name}", scene["tenant"])
        assert code == 403 and "remainingPercent" not in str(body), (name, code, body)
    assert get(relops, f"/budget/{a}/no-such-slo", scene["tenant"])[0] == 404


def test_the_chart_turns_it_off():
    """On by default (relops's own default, no flag); the chart's metrics.budget=false sets a flag
    `relops run` knows."""
    def args(*values: str) -> list[str]:
        rendered = documents(helm("template", "relops", str(CHART), *values).stdout)
        [deployment] = [d for d in rendered if d["kind"] == "Deployment"]
        return deployment["spec"]["template"]["spec"]["containers"][0]["args"]

    assert not [a for a in args() if a.startswith("--serve-budget")]
    assert "--serve-budget=false" in args("--set", "metrics.budget=false")
    usage = subprocess.run([os.environ["RELOPS_BINARY"], "run", "--help"],
                           capture_output=True, text=True, timeout=30).stdout
    assert "--serve-budget" in usage
