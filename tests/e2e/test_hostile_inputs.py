"""Hostile inputs: objects the CRD schema accepts but that cannot work as written, or that
sit at every bound the schema allows. Each row of the table is applied with kubectl to the
test cluster while `relops run` watches the namespace, and must end with a condition that
names the problem (Stalled or Ready=False with a reason, or the condition the kind uses for
it) and, where the row says so, an Event. Then, over 30 s with every row in place, relops
must stay alive, must not hot-loop (its own rest_client_requests_total and reconcile
counts), and its resident memory must stay bounded.
"""

from __future__ import annotations

import json
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest

from kube import Kubectl, unique_name, wait_until
from relops_process import REPO, Operator

# Generous ceilings: they catch a leak or an explosion, not a few MiB of noise.
RSS_CEILING_MIB = 512
RSS_GROWTH_MIB = 64
QUIET_SECONDS = 30
# Requests relops may make in the quiet period: a workload SLO's ledger is written once a
# minute and the leader lease is not used here; a hot loop makes hundreds.
QUIET_REQUEST_LIMIT = 12


@dataclass
class Row:
    id: str
    kind: str  # plural resource name for kubectl
    manifest: Callable[[str, str], str]  # (namespace, name) -> YAML
    condition: str  # the condition that names the problem
    status: str  # its status
    reason: str  # its reason
    message_has: list[str] = field(default_factory=list)
    event: str | None = None  # the reason of the Warning Event, when the row expects one
    name: str = ""


def slo_workload_missing(ns: str, name: str) -> str:
    return textwrap.dedent(f"""\
        apiVersion: relops.dev/v1alpha1
        kind: ServiceLevelObjective
        metadata: {{name: {name}, namespace: {ns}}}
        spec:
          service: checkout
          objective: "99.9"
          window: 1h
          budgetingMethod: Timeslices
          indicator: {{workload: {{kind: Deployment, name: not-there}}}}
        """)


def slo_ratio(ns: str, name: str) -> str:
    return textwrap.dedent(f"""\
        apiVersion: relops.dev/v1alpha1
        kind: ServiceLevelObjective
        metadata: {{name: {name}, namespace: {ns}}}
        spec:
          service: checkout
          objective: "99.9"
          indicator:
            ratio:
              errors: http_requests_total{{code=~"5.."}}
              total: http_requests_total
        """)


def slo_at_bounds(ns: str, name: str) -> str:
    """Every list at its maxItems, the tightest objective over the shortest window, and
    burn-rate rows whose long windows (90d) all exceed the SLO window (1h)."""
    rows = [{"name": f"row-{i}", "severity": "critical", "budgetPercent": "100",
             "longWindow": "90d", "shortWindow": f"{i + 1}m", "for": "9999h"} for i in range(6)]
    labels = {f"label_{i:02d}": "x" * 63 for i in range(16)}
    grouping = [f"group_{i}" for i in range(10)]
    obj = {
        "apiVersion": "relops.dev/v1alpha1", "kind": "ServiceLevelObjective",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "service": "s" * 63, "description": "d" * 1024,
            "objective": "99.999999", "window": "1h",
            "indicator": {"ratio": {
                "errors": 'http_requests_total{code=~"5.."}', "total": "http_requests_total",
                "grouping": grouping}},
            "alerting": {"absentFor": "9999h", "labels": labels, "burnRateWindows": rows,
                         "runbookURL": "https://runbooks.example.com/" + "r" * 400},
        },
    }
    return json.dumps(obj)


def policy_selects_nothing(ns: str, name: str) -> str:
    """Eight rules (the maximum) with sixteen selector expressions, naming SLOs and
    workloads that do not exist."""
    expressions = [{"key": f"k{i}.example.com/tier", "operator": "In",
                    "values": [f"v{j}" for j in range(8)]} for i in range(16)]
    rules = [{"name": f"rule-{i}", "budgetRemainingBelow": "-100" if i % 2 else "99.999",
              "hysteresis": "50", "freeze": i % 2 == 0} for i in range(8)]
    obj = {
        "apiVersion": "relops.dev/v1alpha1", "kind": "ErrorBudgetPolicy",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"sloSelector": {"matchExpressions": expressions},
                 "workloadSelector": {"matchLabels": {"app": "missing"}},
                 "rules": rules},
    }
    return json.dumps(obj)


def rotation(ns: str, name: str, time_zone: str, start: str = "2026-01-05T09:00:00",
             turn: str = "1w") -> str:
    return textwrap.dedent(f"""\
        apiVersion: relops.dev/v1alpha1
        kind: OnCallRotation
        metadata: {{name: {name}, namespace: {ns}}}
        spec:
          timeZone: {time_zone}
          participants: [{{name: ana}}, {{name: ben}}]
          layers:
          - {{name: primary, members: [ana, ben], start: "{start}", turnLength: {turn}}}
        """)


def rotation_at_bounds(ns: str, name: str) -> str:
    """50 participants, 10 layers of 50 members with 7 overnight restrictions each,
    100 overrides, and the longest horizon and look-back the schema allows."""
    people = [f"person-{i:02d}" for i in range(50)]
    days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    layers = [{
        "name": f"layer-{layer}", "members": people[layer:] + people[:layer],
        "start": "2026-03-08T02:30:00", "turnLength": "1d",
        "restrictions": [{"days": [day], "from": "22:00", "to": "06:00"} for day in days],
    } for layer in range(10)]
    overrides = [{
        "participant": people[i % 50],
        "start": f"2026-{1 + i // 28 % 12:02d}-{1 + i % 28:02d}T01:30:00",
        "end": f"2026-{1 + i // 28 % 12:02d}-{1 + i % 28:02d}T02:30:00",
        "reason": "r" * 256} for i in range(100)]
    obj = {
        "apiVersion": "relops.dev/v1alpha1", "kind": "OnCallRotation",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"timeZone": "America/New_York",
                 "participants": [{"name": p, "displayName": "n" * 128, "email": f"{p}@example.com"}
                                  for p in people],
                 "layers": layers, "overrides": overrides,
                 "horizon": "52w", "fairness": {"lookBack": "52w", "allowedImbalance": "0"}},
    }
    return json.dumps(obj)


def rotation_too_many_shifts(ns: str, name: str) -> str:
    """What the schema accepts and the engine refuses: 10 layers of two members with 71m turns
    over the longest horizon and look-back (148,870 turns, inside the CRD's bound of 150,000)
    and 7 restrictions each (51,450 more pieces): 200,320 pieces against relops's 200,000.
    The API server itself rejects 1m turns over the same span (test_oncall_crd.py)."""
    days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    layers = [{"name": f"layer-{i}", "members": ["ana", "ben"], "start": "2026-01-01T00:00:00",
               "turnLength": "71m", "restrictions": [{"days": [day]} for day in days]}
              for i in range(10)]
    return json.dumps({
        "apiVersion": "relops.dev/v1alpha1", "kind": "OnCallRotation",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"timeZone": "UTC", "participants": [{"name": "ana"}, {"name": "ben"}],
                 "layers": layers, "horizon": "366d", "fairness": {"lookBack": "366d"}}})


def drill(ns: str, name: str, schedule: str, time_zone: str = "UTC",
          target: str = "api-primary") -> str:
    return textwrap.dedent(f"""\
        apiVersion: relops.dev/v1alpha1
        kind: DRDrill
        metadata: {{name: {name}, namespace: {ns}}}
        spec:
          schedule: "{schedule}"
          timeZone: {time_zone}
          failover:
            target: {{kind: Deployment, name: {target}}}
            standby: {{kind: Deployment, name: api-standby}}
        """)


LONG_NAME = "n" * 250  # a valid object name; relops-slo-<name> is not

ROWS = [
    Row("slo-missing-workload", "servicelevelobjectives", slo_workload_missing,
        "Stalled", "True", "WorkloadNotFound", ["not-there"], event="WorkloadNotFound"),
    Row("slo-name-too-long-for-its-rules", "servicelevelobjectives", slo_ratio,
        "Stalled", "True", "InvalidSpec", ["242 characters"], event="InvalidSpec",
        name=LONG_NAME),
    # Accepted and applied: the rules are valid, but no burn-rate row fits a 1h window,
    # which the condition says, with one Warning.
    Row("slo-at-bounds-no-alert-can-fire", "servicelevelobjectives", slo_at_bounds,
        "Ready", "True", "RulesApplied", ["row-0 is left out"], event="IneffectiveAlerts"),
    # References to SLOs and workloads that do not exist: nothing is frozen, the
    # condition counts what was selected, and one Warning says it protects nothing.
    Row("policy-selects-nothing", "errorbudgetpolicies", policy_selects_nothing,
        "Ready", "True", "NoSLOSelected", ["0 SLO(s) selected"], event="NoSLOSelected"),
    # Removed from the tz database in 2020b; shaped like a zone, so the schema accepts it.
    Row("oncall-zone-removed-from-tzdata", "oncallrotations",
        lambda ns, name: rotation(ns, name, "US/Pacific-New"),
        "Stalled", "True", "UnknownTimeZone", ["US/Pacific-New"], event="UnknownTimeZone"),
    Row("oncall-zone-never-existed", "oncallrotations",
        lambda ns, name: rotation(ns, name, "Mars/Olympus_Mons"),
        "Stalled", "True", "UnknownTimeZone", ["Mars/Olympus_Mons"], event="UnknownTimeZone"),
    # Starts in 2099: nobody is on call until then.
    Row("oncall-starts-in-2099", "oncallrotations",
        lambda ns, name: rotation(ns, name, "UTC", start="2099-01-01T00:00:00"),
        "Covered", "False", "CoverageGap", [], event="CoverageGap"),
    Row("oncall-at-bounds", "oncallrotations", rotation_at_bounds,
        "Covered", "False", "CoverageGap", [], event="CoverageGap"),
    # Minute turns in ten layers over a year each way: about ten million turns per schedule
    # (it took relops from 22 MiB to a gigabyte before the bound). Refused without computing.
    Row("oncall-too-many-shifts", "oncallrotations", rotation_too_many_shifts,
        "Stalled", "True", "TooManyShifts", ["200320", "200000"], event="TooManyShifts"),
    Row("drill-target-missing", "drdrills",
        lambda ns, name: drill(ns, name, "0 10 * * TUE", target="not-there"),
        "Stalled", "True", "DrillNotAllowed", ["not-there does not exist"],
        event="DrillNotAllowed"),
    Row("drill-zone-unknown", "drdrills",
        lambda ns, name: drill(ns, name, "0 10 * * TUE", time_zone="US/Pacific-New"),
        "Stalled", "True", "UnknownTimeZone", ["US/Pacific-New"], event="UnknownTimeZone"),
    # 30 February: the expression parses but never fires.
    Row("drill-never-fires", "drdrills", lambda ns, name: drill(ns, name, "0 0 30 2 *"),
        "Stalled", "True", "InvalidSchedule", ["never fires"], event="InvalidSchedule"),
]


def conditions_of(kubectl: Kubectl, row: Row, namespace: str) -> dict[str, dict]:
    obj = kubectl.get(row.kind, row.name, namespace)
    return {c["type"]: c for c in obj.get("status", {}).get("conditions", [])}


def rss_mib(op: Operator) -> float:
    for line in Path(f"/proc/{op.process.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS for relops")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """One namespace holding every row, and one relops watching it."""
    from kube import kubeconfig_from_env

    kubectl = Kubectl(kubeconfig_from_env())
    kubectl.run("apply", "--server-side", "-f", str(REPO / "crds"))
    kubectl.run("wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")
    namespace = unique_name("hostile")
    kubectl.run("create", "namespace", namespace)
    op = Operator(kubectl.kubeconfig, tmp_path_factory.mktemp("relops") / "relops.log",
                  "--watch-namespace", namespace)
    for row in ROWS:
        row.name = row.name or row.id
        kubectl.run("apply", "--server-side", "-f", "-",
                    input=row.manifest(namespace, row.name))
    yield kubectl, namespace, op
    if op.alive():
        op.stop()
    kubectl.run("delete", "namespace", namespace, "--wait=false", check=False)


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_row_gets_a_condition_and_an_event(hostile, row: Row):
    kubectl, namespace, op = hostile

    def expected_condition():
        c = conditions_of(kubectl, row, namespace).get(row.condition, {})
        return c if c.get("status") == row.status and c.get("reason") == row.reason else None

    try:
        found = wait_until(f"{row.condition}={row.status} ({row.reason})", expected_condition,
                           timeout=90)
    except AssertionError:
        print(json.dumps(kubectl.get(row.kind, row.name, namespace).get("status"), indent=2))
        print(op.log()[-4000:])
        raise
    for text in row.message_has:
        assert text in found["message"], found
    if row.condition != "Ready":
        ready = conditions_of(kubectl, row, namespace).get("Ready", {})
        if row.condition == "Stalled":
            assert ready.get("status") == "False" and ready.get("reason"), ready
    if row.event:
        def event():
            items = kubectl.get("events.events.k8s.io", namespace=namespace)["items"]
            return [e for e in items if e.get("regarding", {}).get("name") == row.name
                    and e.get("reason") == row.event and e.get("type") == "Warning"]
        events = wait_until(f"a Warning Event {row.event}", event, timeout=30)
        assert len(events) == 1, events  # once, not once per reconcile
    assert op.alive(), op.log()[-4000:]


def test_relops_stays_alive_quiet_and_bounded(hostile):
    kubectl, namespace, op = hostile
    # Every row has settled (the tests above ran first); now nothing changes.
    for row in ROWS:
        wait_until(f"{row.id} reconciled", lambda row=row: conditions_of(
            kubectl, row, namespace).get(row.condition, {}).get("reason") == row.reason,
            timeout=90)
    requests_before = op.metric("rest_client_requests_total")
    reconciles_before = op.metric("controller_runtime_reconcile_total")
    rss_before = rss_mib(op)
    time.sleep(QUIET_SECONDS)
    requests = op.metric("rest_client_requests_total") - requests_before
    reconciles = op.metric("controller_runtime_reconcile_total") - reconciles_before
    rss_after = rss_mib(op)
    print(f"\nin {QUIET_SECONDS} s with {len(ROWS)} hostile objects: {requests:.0f} requests, "
          f"{reconciles:.0f} reconciles; RSS {rss_before:.1f} -> {rss_after:.1f} MiB")
    assert op.alive(), op.log()[-4000:]
    assert requests <= QUIET_REQUEST_LIMIT, op.metrics()
    assert reconciles <= QUIET_REQUEST_LIMIT, op.metrics()
    assert rss_after < RSS_CEILING_MIB
    assert rss_after - rss_before < RSS_GROWTH_MIB
    assert '"level":"fatal"' not in op.log()
