"""A workload SLO's history survives what an operator does to the object and to relops.

- Deleted and recreated during an outage (an Argo CD replace, a CRD reinstall, a restore
  without status), the SLO is a new object: it does not inherit the old ledger, reads as
  no data until it has a whole minute of its own, and its ErrorBudgetPolicy's freeze holds
  throughout — the binding is never deleted and the rollout stays denied.
- With a Prometheus that scrapes relops, the recreated SLO takes its minutes back
  (test_slo_ledger_prometheus.py).
- relops restarted after the SLO's status was rewound to an older copy (an etcd snapshot
  restore: the workload's resourceVersion matches the stored one again) does not count the
  time it did not observe as good: a gap longer than the ledger's 5-minute tolerance is
  unknown.
"""

from __future__ import annotations

import datetime
import json
import signal
import textwrap
import threading
import time

from kube import Kubectl, wait_until
from slo_support import events, pod_template_change, workload_status
from test_slo_workload import available, deployment, kwok_node, rfc3339, workload_slo  # noqa: F401


def unavailable_deployment(namespace: str) -> str:
    # Pods that can never be scheduled: Available=False from the start.
    return textwrap.dedent(f"""\
        apiVersion: apps/v1
        kind: Deployment
        metadata: {{name: web, namespace: {namespace}}}
        spec:
          replicas: 1
          selector: {{matchLabels: {{app: web}}}}
          template:
            metadata: {{labels: {{app: web}}}}
            spec:
              nodeSelector: {{relops.dev/e2e: nowhere}}
              containers: [{{name: app, image: "nginx:1"}}]
        """)


def frozen_slo(namespace: str) -> str:
    # 98.5% over 1h allows 0.9 bad minutes: one unavailable minute spends the budget.
    return textwrap.dedent(f"""\
        apiVersion: relops.dev/v1alpha1
        kind: ServiceLevelObjective
        metadata: {{name: web-availability, namespace: {namespace}, labels: {{tier: "1"}}}}
        spec:
          service: web
          objective: "98.5"
          window: 1h
          budgetingMethod: Timeslices
          indicator: {{workload: {{kind: Deployment, name: web}}}}
        """)


def policy(namespace: str) -> str:
    return textwrap.dedent(f"""\
        apiVersion: relops.dev/v1alpha1
        kind: ErrorBudgetPolicy
        metadata: {{name: tier1, namespace: {namespace}}}
        spec:
          sloSelector: {{matchLabels: {{tier: "1"}}}}
          rules:
          - {{name: budget-exhausted, budgetRemainingBelow: "0", hysteresis: "5", freeze: true}}
        """)


def test_recreating_a_frozen_slo_during_an_outage_keeps_the_freeze(
        kubectl: Kubectl, crds, namespace: str, operators):
    op = operators("--watch-namespace", namespace)
    kubectl.apply(unavailable_deployment(namespace))
    kubectl.apply(frozen_slo(namespace))
    kubectl.apply(policy(namespace))
    binding = f"relops.dev-freeze.{namespace}.tier1"
    start = time.time()
    wait_until("the freeze", lambda: kubectl.get("errorbudgetpolicy", "tier1", namespace)
               .get("status", {}).get("frozenCount") == 1, timeout=200, interval=1)
    wait_until("the freeze binding",
               lambda: kubectl.exists("validatingadmissionpolicybinding", binding), timeout=30)
    wait_until("the rollout denied", lambda: "web-availability" in pod_template_change(
        kubectl, namespace, "web", "nginx:2", dry_run=True), timeout=30, interval=0.5)
    print(f"\nfrozen {time.time() - start:.1f} s after the SLO was created")
    old_uid = kubectl.get("servicelevelobjective", "web-availability", namespace)[
        "metadata"]["uid"]

    # Watch the binding and the policy while the SLO is deleted and recreated.
    lapses: list[str] = []
    stop = threading.Event()

    def watch():
        while not stop.is_set():
            if not kubectl.exists("validatingadmissionpolicybinding", binding):
                lapses.append(f"binding gone at {time.time() - start:.1f} s")
            status = kubectl.get("errorbudgetpolicy", "tier1", namespace).get("status", {})
            if status.get("frozenCount") != 1:
                lapses.append(f"frozenCount {status.get('frozenCount')}")
            time.sleep(0.3)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        kubectl.run("-n", namespace, "delete", "servicelevelobjective", "web-availability",
                    "--wait=true")
        gone = time.time()
        # Long enough for the policy to have reconciled the deletion.
        time.sleep(3)
        kubectl.apply(frozen_slo(namespace))
        recreated = kubectl.get("servicelevelobjective", "web-availability", namespace)
        assert recreated["metadata"]["uid"] != old_uid

        # The new object does not inherit the old ledger: no data until a minute of its own,
        # never a full budget.
        fresh = wait_until("the recreated SLO's first status", lambda: workload_status(
            kubectl, namespace, "web-availability"), timeout=30)
        print(f"recreated SLO, first status {time.time() - gone:.1f} s after the delete: "
              f"{json.dumps(fresh.get('workload'))}, errorBudget {fresh.get('errorBudget')}")
        assert fresh["workload"].get("goodMinutes", 0) == 0, fresh
        assert fresh["workload"].get("badMinutes", 0) <= 1, fresh
        assert "errorBudget" not in fresh or float(fresh["errorBudget"]["remaining"]) < 0, fresh

        # Its own first whole bad minute spends its budget again; the freeze held meanwhile.
        def spent():
            status = kubectl.get("servicelevelobjective", "web-availability",
                                 namespace).get("status", {})
            budget = status.get("errorBudget")
            return status if budget and float(budget["remaining"]) < 0 else None

        spent_status = wait_until("the recreated SLO's budget spent", spent, timeout=150,
                                  interval=1)
        print(f"recreated SLO spent {time.time() - gone:.1f} s after the delete: "
              f"{spent_status['workload']}")
        message = pod_template_change(kubectl, namespace, "web", "nginx:2", dry_run=True)
        assert "web-availability" in message, message
    finally:
        stop.set()
        watcher.join()
    assert not lapses, lapses
    assert not events(kubectl, namespace, "Thawed"), events(kubectl, namespace, "Thawed")
    assert op.alive(), op.log()[-3000:]


def test_restart_after_a_rewound_status_does_not_count_the_gap_as_good(
        kubectl: Kubectl, crds, namespace: str, operators, kwok_node: str):  # noqa: F811
    kubectl.apply(deployment(namespace, "web", kwok_node))
    wait_until("web available", lambda: available(kubectl, namespace, "web"), timeout=90)
    kubectl.apply(workload_slo(namespace, "web-up", "web"))
    op = operators("--slo-refresh-interval", "5s", "--watch-namespace", namespace)

    def good_minute():
        status = kubectl.get("servicelevelobjective", "web-up", namespace).get("status", {})
        return status if status.get("workload", {}).get("goodMinutes", 0) >= 1 else None

    wait_until("a good minute accounted", good_minute, timeout=150, interval=1)
    assert op.stop(signal.SIGTERM) == 0, op.log()[-3000:]

    # The status as an etcd snapshot taken half an hour ago would hold it: the same ledger,
    # observed 30 minutes earlier, with the workload's resourceVersion of then — which is
    # the one it has now (nothing changed it).
    slo = kubectl.get("servicelevelobjective", "web-up", namespace)
    workload = slo["status"]["workload"]
    rv_now = kubectl.get("deployment", "web", namespace)["metadata"]["resourceVersion"]
    assert workload["workloadResourceVersion"] == rv_now, (workload, rv_now)
    rewind = datetime.timedelta(minutes=30)

    def earlier(text: str) -> str:
        when = datetime.datetime.fromisoformat(text.replace("Z", "+00:00")) - rewind
        return when.strftime("%Y-%m-%dT%H:%M:%SZ")

    for field in ("ledgerStart", "lastObservedTime"):
        workload[field] = earlier(workload[field])
    if "evaluationTime" in slo["status"]:
        slo["status"]["evaluationTime"] = earlier(slo["status"]["evaluationTime"])
    good_then = workload["goodMinutes"]
    slo["metadata"].pop("managedFields", None)
    kubectl.run("replace", "--subresource=status", "-f", "-", input=json.dumps(slo))
    rewound = kubectl.get("servicelevelobjective", "web-up", namespace)["status"]["workload"]
    assert rewound["lastObservedTime"] == workload["lastObservedTime"], rewound

    restarted = time.time()
    op = operators("--slo-refresh-interval", "5s", "--watch-namespace", namespace)

    def caught_up():
        status = kubectl.get("servicelevelobjective", "web-up", namespace).get("status", {})
        seen = status.get("workload", {}).get("lastObservedTime")
        return status if seen and rfc3339(seen) >= (restarted // 60) * 60 else None

    after = wait_until("the ledger advanced past the gap", caught_up, timeout=60, interval=0.5)
    ledger = after["workload"]
    print(f"\nrewound {rewind.total_seconds() / 60:.0f} min: before {good_then} good; after the "
          f"restart {ledger.get('goodMinutes', 0)} good, {ledger.get('badMinutes', 0)} bad, "
          f"{ledger.get('unknownMinutes', 0)} unknown ({time.time() - restarted:.1f} s)")
    assert ledger.get("unknownMinutes", 0) >= 29, ledger
    assert ledger.get("goodMinutes", 0) <= good_then + 1, ledger
    # The same minutes as metrics, which Prometheus keeps.
    for state, field in (("good", "goodMinutes"), ("bad", "badMinutes"),
                         ("unknown", "unknownMinutes")):
        exported = op.metric("relops_slo_workload_minutes", namespace=namespace, name="web-up",
                             state=state)
        assert exported >= ledger.get(field, 0), (state, exported, ledger)
    assert op.alive(), op.log()[-3000:]
