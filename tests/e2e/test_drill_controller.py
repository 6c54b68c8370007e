"""DRDrill and DRDrillRun reconciled by `relops run` on the test cluster.

- a `job` drill on a minute schedule runs, passes, and prunes its history;
- a failing Job gives verdict Fail with the Job's reason;
- a `failover` drill against kwok Deployments measures an RTO and reverts the primary;
- a `veleroRestore` drill against Velero's real CRDs (taken at test time from the
  Velero Go module) restores into a closed sandbox, measures RTO and RPO and removes
  the sandbox and the restore's cluster-scoped leftovers;
- `kill -9` of relops mid-run and a restart end the run correctly with no sandbox left;
- bad input (a missing backup, a target without the opt-in annotation, a Job template
  the API server rejects) ends in Stalled or Error with the reason, never a hot loop.

No Velero server runs here. Its part is played by VeleroServerActor (velero_support.py),
a TEST ACTOR that does what the Velero server documents it does with a Restore: it copies
the backed-up namespace's objects into the mapped namespace (labelled
velero.io/restore-name), honouring the Restore's filters and resource modifiers, and
moves the Restore through InProgress to a terminal phase. kwok stands in for the
kubelet, as everywhere in these tests.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import textwrap
import threading
import time
from typing import Any

import pytest

from kube import Kubectl, wait_until
from velero_support import VeleroServerActor, velero  # noqa: F401  (a fixture)
from velero_support import backup as velero_backup

UTC = dt.timezone.utc


def parse_time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def utc_now() -> str:
    return dt.datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def status(kubectl: Kubectl, kind: str, name: str, namespace: str) -> dict[str, Any]:
    return kubectl.get(kind, name, namespace).get("status", {})


def condition(kubectl: Kubectl, name: str, namespace: str, kind: str) -> dict[str, Any]:
    for c in status(kubectl, "drdrill", name, namespace).get("conditions", []):
        if c["type"] == kind:
            return c
    return {}


def runs(kubectl: Kubectl, namespace: str) -> list[dict[str, Any]]:
    return kubectl.get("drdrillruns", namespace=namespace)["items"]


def finished_runs(kubectl: Kubectl, namespace: str) -> list[dict[str, Any]]:
    return [r for r in runs(kubectl, namespace)
            if r.get("status", {}).get("phase") in ("Succeeded", "Failed", "Error")]


def events(kubectl: Kubectl, namespace: str, reason: str) -> list[dict[str, Any]]:
    items = kubectl.get("events.events.k8s.io", namespace=namespace)["items"]
    return [e for e in items if e.get("reason") == reason]


def job_drill(namespace: str, name: str, schedule: str, extra: dict[str, Any] | None = None,
              job_spec: dict[str, Any] | None = None) -> str:
    job_spec = job_spec or {
        "backoffLimit": 0,
        "template": {"spec": {"restartPolicy": "Never",
                              "containers": [{"name": "check", "image": "busybox"}]}},
    }
    return json.dumps({
        "apiVersion": "relops.dev/v1alpha1",
        "kind": "DRDrill",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"schedule": schedule, "objectives": {"rto": "5m"}, **(extra or {}),
                 "job": {"template": {"spec": job_spec}}},
    })


def deployment(namespace: str, name: str, replicas: int, annotations: str = "{}") -> str:
    return textwrap.dedent(f"""\
        apiVersion: apps/v1
        kind: Deployment
        metadata: {{name: {name}, namespace: {namespace}, annotations: {annotations}}}
        spec:
          replicas: {replicas}
          selector: {{matchLabels: {{app: {name}}}}}
          template:
            metadata: {{labels: {{app: {name}}}}}
            spec:
              containers: [{{name: app, image: busybox}}]
        """)


@pytest.fixture
def relops(namespace: str, crds, operators):
    return operators("--watch-namespace", namespace)


def test_job_drill_on_a_minute_schedule_runs_passes_and_prunes_history(
    kubectl: Kubectl, namespace: str, relops
):
    kubectl.apply(job_drill(namespace, "nightly", "* * * * *",
                            extra={"successfulRunsHistoryLimit": 1}))
    wait_until("Ready", lambda: condition(kubectl, "nightly", namespace, "Ready")
               .get("status") == "True", timeout=60)
    seen: set[str] = set()

    def two_passed() -> bool:
        for run in finished_runs(kubectl, namespace):
            assert run["status"]["verdict"] == "Pass", run["status"]
            seen.add(run["metadata"]["name"])
        return len(seen) >= 2

    # Up to two minutes of schedule, then the Jobs on a busy machine.
    wait_until("two scheduled runs to pass", two_passed, timeout=330, interval=1)
    for name in seen:
        minutes = int(name.rsplit("-", 1)[1])
        assert name == f"nightly-{minutes}"
    # History limit 1: the older passing run is deleted.
    wait_until("history pruned to one passing run",
               lambda: len(finished_runs(kubectl, namespace)) == 1, timeout=60)
    drill = status(kubectl, "drdrill", "nightly", namespace)
    last = drill["lastRun"]
    assert last["verdict"] == "Pass" and last["objectivesMet"] is True
    assert last["rtoSeconds"] >= 0 and last["rto"]
    run = finished_runs(kubectl, namespace)[0]
    assert run["status"]["rtoSeconds"] == int(
        (parse_time(run["status"]["recoveryTime"]) - parse_time(run["status"]["startTime"]))
        .total_seconds())
    assert run["metadata"]["ownerReferences"][0]["kind"] == "DRDrill"
    job = kubectl.get("job", run["status"]["job"]["name"], namespace)
    assert job["metadata"]["ownerReferences"][0]["name"] == run["metadata"]["name"]
    assert condition(kubectl, "nightly", namespace, "LastRunSucceeded")["status"] == "True"
    assert condition(kubectl, "nightly", namespace, "ObjectivesMet")["status"] == "True"
    assert drill["passRate"] == "100"
    assert events(kubectl, namespace, "Started") and events(kubectl, namespace, "Succeeded")
    assert relops.metric("relops_drdrill_runs_total", name="nightly", result="Pass") >= 2
    assert relops.metric("relops_drdrill_last_success_timestamp_seconds", name="nightly") > 0
    table = kubectl.run("get", "drdrill", "nightly", "-n", namespace, "--no-headers").stdout
    assert "Pass" in table and last["rto"] in table, table


def test_a_failing_job_gives_fail_with_the_jobs_reason(kubectl: Kubectl, namespace: str, relops):
    # No node matches, so the pod never runs and the Job's own deadline fails it.
    unschedulable = {
        "backoffLimit": 0,
        "activeDeadlineSeconds": 3,
        "template": {"spec": {"restartPolicy": "Never",
                              "nodeSelector": {"relops.dev/no-such-node": "true"},
                              "containers": [{"name": "check", "image": "busybox"}]}},
    }
    kubectl.apply(job_drill(namespace, "failing", "0 0 1 1 *", job_spec=unschedulable))
    kubectl.run("annotate", "drdrill", "failing", "-n", namespace, "relops.dev/run-now=first")
    wait_until("the run to fail", lambda: finished_runs(kubectl, namespace), timeout=90)
    run = finished_runs(kubectl, namespace)[0]["status"]
    assert run["phase"] == "Failed" and run["verdict"] == "Fail", run
    assert run["reason"] == "JobFailed"
    assert "DeadlineExceeded" in run["message"], run["message"]
    wait_until("the drill to report it", lambda: condition(
        kubectl, "failing", namespace, "LastRunSucceeded").get("status") == "False", timeout=30)
    assert "DeadlineExceeded" in condition(kubectl, "failing", namespace,
                                           "LastRunSucceeded")["message"]
    # The drill's Event is sent after its status is written.
    wait_until("a Failed Event", lambda: events(kubectl, namespace, "Failed"), timeout=30)
    # The same token again starts nothing; a new one starts one more run.
    kubectl.run("annotate", "--overwrite", "drdrill", "failing", "-n", namespace,
                "relops.dev/run-now=first")
    time.sleep(3)
    assert len(runs(kubectl, namespace)) == 1


def test_failover_measures_rto_and_reverts_the_primary(kubectl: Kubectl, namespace: str, relops):
    kubectl.apply(deployment(namespace, "api-primary", 2,
                             '{"relops.dev/drill-allowed": "true"}'))
    kubectl.apply(deployment(namespace, "api-standby", 0))
    wait_until("the primary to be ready", lambda: kubectl.get(
        "deployment", "api-primary", namespace)["status"].get("readyReplicas") == 2, timeout=60)

    # Test actor: a failover controller's part, which brings the standby up once
    # the primary is down.
    stop = threading.Event()

    def failover_controller() -> None:
        while not stop.is_set():
            primary = kubectl.get("deployment", "api-primary", namespace)
            if primary["spec"]["replicas"] == 0:
                kubectl.run("scale", "deployment", "api-standby", "-n", namespace, "--replicas=1")
                return
            time.sleep(0.2)

    actor = threading.Thread(target=failover_controller, daemon=True)
    actor.start()
    try:
        kubectl.apply(textwrap.dedent(f"""\
            apiVersion: relops.dev/v1alpha1
            kind: DRDrill
            metadata: {{name: api-failover, namespace: {namespace}}}
            spec:
              schedule: "0 10 * * TUE"
              runTimeout: 5m
              objectives: {{rto: 2m}}
              failover:
                target: {{kind: Deployment, name: api-primary}}
                standby: {{kind: Deployment, name: api-standby}}
            """))
        kubectl.run("annotate", "drdrill", "api-failover", "-n", namespace,
                    "relops.dev/run-now=gameday-1")
        wait_until("the failover run to finish", lambda: finished_runs(kubectl, namespace),
                   timeout=120)
    finally:
        stop.set()
    run = finished_runs(kubectl, namespace)[0]["status"]
    assert run["phase"] == "Succeeded" and run["verdict"] == "Pass", run
    assert run["failover"] == {"previousReplicas": 2, "disrupted": True, "reverted": True}
    rto = run["rtoSeconds"]
    assert rto == int((parse_time(run["recoveryTime"]) - parse_time(run["startTime"]))
                      .total_seconds())
    assert 0 <= rto <= 120
    print(f"measured failover RTO: {rto} s")
    primary = kubectl.get("deployment", "api-primary", namespace)
    assert primary["spec"]["replicas"] == 2
    assert primary["status"].get("readyReplicas") == 2
    assert run["cleanup"]["result"] == "Succeeded"


def test_failover_target_without_opt_in_stalls_the_drill(kubectl: Kubectl, namespace: str,
                                                         relops):
    kubectl.apply(deployment(namespace, "db", 1))
    kubectl.apply(deployment(namespace, "db-standby", 1))
    kubectl.apply(textwrap.dedent(f"""\
        apiVersion: relops.dev/v1alpha1
        kind: DRDrill
        metadata: {{name: db-failover, namespace: {namespace}}}
        spec:
          schedule: "* * * * *"
          failover:
            target: {{kind: Deployment, name: db}}
            standby: {{kind: Deployment, name: db-standby}}
        """))
    wait_until("Stalled", lambda: condition(kubectl, "db-failover", namespace, "Stalled")
               .get("status") == "True", timeout=60)
    stalled = condition(kubectl, "db-failover", namespace, "Stalled")
    assert stalled["reason"] == "DrillNotAllowed"
    assert 'relops.dev/drill-allowed: "true"' in stalled["message"]
    assert condition(kubectl, "db-failover", namespace, "Ready")["status"] == "False"
    before = relops.metric("controller_runtime_reconcile_total", controller="drdrill")
    time.sleep(5)
    after = relops.metric("controller_runtime_reconcile_total", controller="drdrill")
    assert after - before <= 3, f"{after - before} reconciles in 5 s: a hot loop"
    assert not runs(kubectl, namespace)
    assert kubectl.get("deployment", "db", namespace)["spec"]["replicas"] == 1
    assert len(events(kubectl, namespace, "DrillNotAllowed")) == 1


def test_a_job_template_the_api_server_rejects_ends_in_error(kubectl: Kubectl, namespace: str,
                                                             relops):
    rejected = {"template": {"spec": {"restartPolicy": "Always",
                                      "containers": [{"name": "check", "image": "busybox"}]}}}
    kubectl.apply(job_drill(namespace, "rejected", "0 0 1 1 *", job_spec=rejected))
    kubectl.run("annotate", "drdrill", "rejected", "-n", namespace, "relops.dev/run-now=1")
    wait_until("the run to end", lambda: finished_runs(kubectl, namespace), timeout=60)
    run = finished_runs(kubectl, namespace)[0]["status"]
    print(f"run message: {run['message']}")
    assert run["phase"] == "Error" and run["verdict"] == "Error", run
    assert run["reason"] == "ActionRejected"
    assert "could not create the Job" in run["message"]
    assert "restartPolicy" in run["message"], run["message"]  # the server's own words
    before = relops.metric("controller_runtime_reconcile_total", controller="drdrillrun")
    time.sleep(5)
    after = relops.metric("controller_runtime_reconcile_total", controller="drdrillrun")
    assert after - before <= 3, f"{after - before} reconciles in 5 s: a hot loop"


# --- veleroRestore -----------------------------------------------------------


def backup(kubectl: Kubectl, namespace: str, name: str, schedule: str, phase: str,
           started: str) -> None:
    """A Backup of the test's namespace (a drill restores only its own namespace's)."""
    velero_backup(kubectl, name, schedule, phase, started, [namespace])


def velero_drill(namespace: str, name: str, schedule_name: str) -> str:
    return textwrap.dedent(f"""\
        apiVersion: relops.dev/v1alpha1
        kind: DRDrill
        metadata: {{name: {name}, namespace: {namespace}}}
        spec:
          schedule: "0 0 1 1 *"
          runTimeout: 5m
          objectives: {{rto: 4m, rpo: 26h}}
          veleroRestore:
            scheduleName: {schedule_name}
            sourceNamespace: {namespace}
        """)


def relops_cli(kubectl: Kubectl, *args: str) -> str:
    result = subprocess.run([os.environ["RELOPS_BINARY"], "drill", *args,
                             "--kubeconfig", kubectl.kubeconfig],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def namespace_gone(kubectl: Kubectl, name: str) -> bool:
    return not kubectl.exists("namespace", name)


def test_velero_restore_into_a_sandbox_measures_rto_rpo_and_cleans_up(
    kubectl: Kubectl, namespace: str, relops, velero
):
    kubectl.apply(deployment(namespace, "orders", 1))
    schedule = f"nightly-{namespace}"
    started = (dt.datetime.now(UTC) - dt.timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    backup(kubectl, namespace, f"{schedule}-old", schedule, "Completed",
           (dt.datetime.now(UTC) - dt.timedelta(hours=27)).strftime("%Y-%m-%dT%H:%M:%SZ"))
    backup(kubectl, namespace, f"{schedule}-new", schedule, "Completed", started)
    backup(kubectl, namespace, f"{schedule}-running", schedule, "InProgress", utc_now())
    with VeleroServerActor(kubectl) as actor:
        kubectl.apply(velero_drill(namespace, "restore", schedule))
        kubectl.run("annotate", "drdrill", "restore", "-n", namespace, "relops.dev/run-now=q1")
        wait_until("the restore run to finish", lambda: finished_runs(kubectl, namespace),
                   timeout=180)
    run = finished_runs(kubectl, namespace)[0]["status"]
    assert run["phase"] == "Succeeded" and run["verdict"] == "Pass", run
    assert run["velero"]["backup"] == f"{schedule}-new"
    assert run["velero"]["restorePhase"] == "Completed"
    assert run["rpoSeconds"] == int((parse_time(run["startTime"]) - parse_time(started))
                                    .total_seconds())
    assert 3 * 3600 <= run["rpoSeconds"] < 3 * 3600 + 120
    assert run["rtoSeconds"] >= 0 and run["objectivesMet"] is True
    print(f"measured restore RTO {run['rtoSeconds']} s, RPO {run['rpoSeconds']} s")
    sandbox = run["velero"]["sandboxNamespace"]
    record = actor.done[run["velero"]["restore"]]
    assert record["targets"] == [sandbox]
    assert {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]} in record["networkPolicies"]
    assert run["cleanup"]["result"] == "Succeeded"
    assert namespace_gone(kubectl, sandbox)
    # The volume of the restore (labelled with relops's Restore) went with the sandbox.
    assert not kubectl.exists("persistentvolume", record["volume"])
    restore = kubectl.get("restores.velero.io", run["velero"]["restore"], "velero")
    assert restore["spec"]["namespaceMapping"] == {namespace: sandbox}

    # The audit record, from the cluster.
    report = json.loads(relops_cli(kubectl, "report", "-n", namespace, "restore",
                                   "--format", "json"))
    [drill] = report["drills"]
    assert drill["exercises"] == f"veleroRestore of schedule {schedule}"
    [record] = drill["runs"]
    assert record["backup"]["name"] == f"{schedule}-new"
    assert record["rpoSeconds"] == run["rpoSeconds"] and record["verdict"] == "Pass"
    markdown = relops_cli(kubectl, "report", "-n", namespace)
    assert f"backup {schedule}-new" in markdown and "| Pass |" in markdown, markdown


def test_a_missing_backup_ends_the_run_in_error(kubectl: Kubectl, namespace: str, relops,
                                                velero):
    kubectl.apply(velero_drill(namespace, "nobackup", f"absent-{namespace}"))
    kubectl.run("annotate", "drdrill", "nobackup", "-n", namespace, "relops.dev/run-now=1")
    wait_until("the run to end", lambda: finished_runs(kubectl, namespace), timeout=60)
    run = finished_runs(kubectl, namespace)[0]["status"]
    assert run["phase"] == "Error" and run["reason"] == "BackupNotFound", run
    assert f"velero.io/schedule-name=absent-{namespace}" in run["message"]
    wait_until("the drill to show it", lambda: condition(
        kubectl, "nobackup", namespace, "LastRunSucceeded").get("reason") == "Error", timeout=30)


def test_kill_9_mid_run_then_restart_ends_the_run_and_leaves_no_sandbox(
    kubectl: Kubectl, namespace: str, crds, operators, velero
):
    kubectl.apply(deployment(namespace, "orders", 1))
    schedule = f"nightly-{namespace}"
    backup(kubectl, namespace, f"{schedule}-1", schedule, "Completed", utc_now())
    hold = threading.Event()
    hold.set()
    first = operators("--watch-namespace", namespace)
    with VeleroServerActor(kubectl, hold=hold) as actor:
        kubectl.apply(velero_drill(namespace, "restart", schedule))
        kubectl.run("annotate", "drdrill", "restart", "-n", namespace, "relops.dev/run-now=k9")

        def restoring() -> dict[str, Any] | None:
            items = runs(kubectl, namespace)
            if items and items[0].get("status", {}).get("velero", {}).get("restorePhase") == \
                    "InProgress":
                return items[0]
            return None

        run = wait_until("the run to wait on the Restore", restoring, timeout=90)
        sandbox = run["status"]["velero"]["sandboxNamespace"]
        assert kubectl.exists("namespace", sandbox)
        first.stop(signal.SIGKILL)
        hold.clear()  # Velero finishes while relops is down
        wait_until("the actor to complete the restore",
                   lambda: run["status"]["velero"]["restore"] in actor.done, timeout=30)
        operators("--watch-namespace", namespace)
        wait_until("the run to finish after the restart",
                   lambda: finished_runs(kubectl, namespace), timeout=180)
    done = finished_runs(kubectl, namespace)[0]["status"]
    assert done["phase"] == "Succeeded", done
    assert done["startTime"] == run["status"]["startTime"]  # resumed, not restarted
    assert done["cleanup"]["result"] == "Succeeded"
    assert namespace_gone(kubectl, sandbox)


def test_deleting_a_drill_mid_run_removes_its_sandbox(kubectl: Kubectl, namespace: str, relops,
                                                      velero):
    kubectl.apply(deployment(namespace, "orders", 1))
    schedule = f"nightly-{namespace}"
    backup(kubectl, namespace, f"{schedule}-1", schedule, "Completed", utc_now())
    hold = threading.Event()
    hold.set()
    with VeleroServerActor(kubectl, hold=hold):
        kubectl.apply(velero_drill(namespace, "doomed", schedule))
        kubectl.run("annotate", "drdrill", "doomed", "-n", namespace, "relops.dev/run-now=x")

        def sandbox() -> str | None:
            items = runs(kubectl, namespace)
            name = items[0].get("status", {}).get("velero", {}).get("sandboxNamespace") \
                if items else None
            return name if name and kubectl.exists("namespace", name) else None

        name = wait_until("the sandbox to exist", sandbox, timeout=90)
        kubectl.run("delete", "drdrill", "doomed", "-n", namespace, "--wait=false")
        wait_until("the run to be gone", lambda: not runs(kubectl, namespace), timeout=120)
        wait_until("the sandbox to be gone", lambda: namespace_gone(kubectl, name), timeout=120)
