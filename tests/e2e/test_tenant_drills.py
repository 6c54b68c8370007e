"""DRDrill and DRDrillRun as a tenant tries to misuse them (issue 13, "Drills").

The tenant holds only the built-in `edit` role in team_a (tenant.py's `tenancy` fixture); relops
runs as the chart's ServiceAccount with the chart's RBAC, Velero's part is played by the TEST
ACTOR of velero_support.py in a Velero namespace of this module's own (`--velero-namespace`).
For each attack: what the tenant tried, that it was refused (by the API server, or as a run that
ends in Error with the reason and a Warning Event), and that nothing happened (no Restore, no
sandbox, no Job, no foreign data in status, nothing counted).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any

import pytest

from install_support import CHART, documents, helm
from kube import Kubectl, unique_name, wait_until
from tenant import Tenancy, never, refused, tenancy  # noqa: F401  (a fixture)
from velero_support import VeleroServerActor, backup, install_velero_crds

UTC = dt.timezone.utc
TERMINAL = ("Succeeded", "Failed", "Error")


@dataclass
class Drills:
    tenancy: Tenancy
    velero: str               # the Velero namespace relops was started with
    actor: VeleroServerActor

    @property
    def admin(self) -> Kubectl:
        return self.tenancy.admin


@pytest.fixture(scope="module")
def drills(tenancy: Tenancy):
    admin = tenancy.admin
    install_velero_crds(admin)
    velero = unique_name("velero")
    admin.run("create", "namespace", velero)
    # The chart's Role for the Velero namespace (resource-modifier ConfigMaps there only),
    # rendered for this release with that namespace.
    chart = documents(helm("template", tenancy.release, str(CHART), "-n", tenancy.system,
                           "--set", "crds.enabled=false,rbac.veleroNamespaceRole=true",
                           "--set", f"controller.veleroNamespace={velero}").stdout)
    roles = [d for d in chart if d["kind"] in ("Role", "RoleBinding")
             and d["metadata"].get("namespace") == velero]
    assert len(roles) == 2, roles
    admin.run("apply", "-f", "-", input="\n---\n".join(json.dumps(d) for d in roles))
    tenancy.start_relops("--velero-namespace", velero)
    with VeleroServerActor(admin, namespace=velero) as actor:
        yield Drills(tenancy, velero, actor)
    admin.run("delete", "namespace", velero, "--wait=false", check=False)


def ago(**delta: float) -> str:
    return (dt.datetime.now(UTC) - dt.timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%SZ")


def sandbox_name(namespace: str, run: str) -> str:
    """controllers/drill/scheduling.cpp sandboxNamespaceName()."""
    return "relops-sandbox-" + hashlib.sha256(f"{namespace}/{run}".encode()).hexdigest()[:48]


def velero_drill(namespace: str, name: str, backup_name: str, source: str | None = None,
                 extra: dict[str, Any] | None = None) -> str:
    restore: dict[str, Any] = {"backupName": backup_name}
    if source:
        restore["sourceNamespace"] = source
    return json.dumps({
        "apiVersion": "relops.dev/v1alpha1", "kind": "DRDrill",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"schedule": "0 0 1 1 *", "runTimeout": "5m", "veleroRestore": restore,
                 **(extra or {})},
    })


def job_drill(namespace: str, name: str, extra: dict[str, Any] | None = None) -> str:
    return json.dumps({
        "apiVersion": "relops.dev/v1alpha1", "kind": "DRDrill",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"schedule": "0 0 1 1 *", **(extra or {}),
                 "job": {"template": {"spec": {"backoffLimit": 0, "template": {"spec": {
                     "restartPolicy": "Never",
                     "containers": [{"name": "check", "image": "busybox"}]}}}}}},
    })


def run_now(kubectl: Kubectl, namespace: str, drill: str, token: str) -> None:
    kubectl.run("annotate", "--overwrite", "drdrill", drill, "-n", namespace,
                f"relops.dev/run-now={token}")


def finished_run(admin: Kubectl, namespace: str, drill: str, token: str) -> dict[str, Any]:
    """The run started by run-now `token`, once it is terminal."""
    def done() -> dict[str, Any] | None:
        for run in admin.get("drdrillruns", namespace=namespace)["items"]:
            if run["spec"].get("runNowToken") == token and \
                    run["metadata"]["labels"].get("relops.dev/drill") == drill and \
                    run.get("status", {}).get("phase") in TERMINAL:
                return run
        return None
    return wait_until(f"run {token} of {drill} to finish", done, timeout=120)


def warnings(admin: Kubectl, namespace: str, name: str, reason: str) -> list[dict[str, Any]]:
    items = admin.get("events.events.k8s.io", namespace=namespace)["items"]
    return [e for e in items if e.get("reason") == reason and e.get("type") == "Warning"
            and e.get("regarding", {}).get("name") == name]


def restores_of(drills: Drills, run: str) -> list[dict[str, Any]]:
    return [r for r in drills.admin.get("restores.velero.io", namespace=drills.velero)["items"]
            if r["metadata"].get("labels", {}).get("relops.dev/drill-run") == run]


def assert_refused_and_nothing_restored(drills: Drills, run: dict[str, Any], reason: str) -> None:
    namespace, name = run["metadata"]["namespace"], run["metadata"]["name"]
    status = run["status"]
    assert status["phase"] == "Error" and status["reason"] == reason, status
    wait_until(f"a Warning {reason}", lambda: warnings(drills.admin, namespace, name, reason),
               timeout=30)
    assert not restores_of(drills, name)
    assert not drills.admin.exists("namespace", sandbox_name(namespace, name))
    assert "velero" not in status, status  # no backup, restore or sandbox names in status


def test_a_drill_of_another_teams_backup_is_refused_until_that_team_opts_in(drills: Drills):
    t = drills.tenancy
    t.admin.apply(deployment(t.team_b, "ledger"))
    backup(t.admin, "team-b-nightly", "team-b", "Completed", ago(hours=2), [t.team_b],
           drills.velero)
    # The tenant names team_b's backup and namespace.
    t.tenant.apply(velero_drill(t.team_a, "steal", "team-b-nightly", source=t.team_b))
    run_now(t.tenant, t.team_a, "steal", "1")
    run = finished_run(t.admin, t.team_a, "steal", "1")
    assert_refused_and_nothing_restored(drills, run, "SourceNotAllowed")
    assert t.team_b not in json.dumps(drills.actor.done)
    # The opt-in is on the Namespace object, which `edit` cannot annotate.
    refused(t.tenant.run("annotate", "namespace", t.team_b,
                         f"relops.dev/drill-sources={t.team_a}", check=False))
    refused(t.tenant.run("annotate", "namespace", t.team_a,
                         f"relops.dev/drill-sources={t.team_a}", check=False))

    # team_b's admins allow team_a's drills: the same drill now restores into a sandbox.
    t.admin.run("annotate", "namespace", t.team_b, f"relops.dev/drill-sources={t.team_a}")
    run_now(t.tenant, t.team_a, "steal", "2")
    run = finished_run(t.admin, t.team_a, "steal", "2")
    assert run["status"]["verdict"] == "Pass", run["status"]
    [restore] = restores_of(drills, run["metadata"]["name"])
    assert restore["spec"]["includedNamespaces"] == [t.team_b]
    t.admin.run("annotate", "namespace", t.team_b, "relops.dev/drill-sources-")


def test_a_backup_reaching_beyond_the_source_is_refused(drills: Drills):
    t = drills.tenancy
    backup(t.admin, "two-teams", "two-teams", "Completed", ago(hours=1), [t.team_a, t.team_b],
           drills.velero)
    backup(t.admin, "everything", "everything", "Completed", ago(hours=1), ["*"], drills.velero)
    t.tenant.apply(velero_drill(t.team_a, "wide", "two-teams"))
    t.tenant.apply(velero_drill(t.team_a, "all", "everything"))
    run_now(t.tenant, t.team_a, "wide", "1")
    run_now(t.tenant, t.team_a, "all", "1")
    for drill in ("wide", "all"):
        run = finished_run(t.admin, t.team_a, drill, "1")
        assert_refused_and_nothing_restored(drills, run, "BackupScopeNotAllowed")


def test_the_tenant_cannot_create_or_patch_runs(drills: Drills):
    t = drills.tenancy
    for verb in ("get", "list", "watch", "delete"):
        assert t.tenant_may(verb, "drdrillruns.relops.dev", t.team_a), verb
    for verb in ("create", "update", "patch"):
        assert not t.tenant_may(verb, "drdrillruns.relops.dev", t.team_a), verb
    forged = forged_run(t.team_a, "tenant-run", "any", uid="00000000-0000-0000-0000-000000000000")
    assert "forbidden" in refused(t.tenant.run("create", "-f", "-", input=forged, check=False))
    # A real run of the tenant's own drill cannot be patched either (its status, its spec).
    t.tenant.apply(job_drill(t.team_a, "own"))
    run_now(t.tenant, t.team_a, "own", "1")
    run = finished_run(t.admin, t.team_a, "own", "1")
    name = run["metadata"]["name"]
    for patch in ({"metadata": {"labels": {"x": "y"}}}, {"status": {"verdict": "Pass"}}):
        refused(t.tenant.run("patch", "drdrillrun", name, "-n", t.team_a, "--type=merge",
                             "-p", json.dumps(patch), check=False))
    refused(t.tenant.run("patch", "drdrillrun", name, "-n", t.team_a, "--type=merge",
                         "--subresource=status", "-p", '{"status":{"verdict":"Pass"}}',
                         check=False))
    # Deleting is the user's right (history, evidence they no longer want).
    t.tenant.run("delete", "drdrillrun", name, "-n", t.team_a)


def forged_run(namespace: str, name: str, drill: str, uid: str | None,
               scheduled: str | None = None) -> str:
    metadata: dict[str, Any] = {"name": name, "namespace": namespace,
                                "labels": {"relops.dev/drill": drill}}
    if uid is not None:
        metadata["ownerReferences"] = [{"apiVersion": "relops.dev/v1alpha1", "kind": "DRDrill",
                                        "name": drill, "uid": uid, "controller": True}]
    return json.dumps({
        "apiVersion": "relops.dev/v1alpha1", "kind": "DRDrillRun", "metadata": metadata,
        "spec": {"drillName": drill, "scheduledTime": scheduled or ago(seconds=1),
                 "trigger": "Schedule", "runTimeout": "5m",
                 "job": {"template": {"spec": {"backoffLimit": 0, "template": {"spec": {
                     "restartPolicy": "Never",
                     "containers": [{"name": "exit0", "image": "busybox"}]}}}}}},
    })


def test_runs_not_controlled_by_their_drill_are_never_executed_nor_counted(drills: Drills):
    t = drills.tenancy
    t.tenant.apply(job_drill(t.team_a, "audit"))
    drill = t.admin.get("drdrill", "audit", t.team_a)
    # Written by someone who may create runs (here the admin; before this issue, any `edit`
    # user): one naming the drill with a guessed UID, one with no owner at all, one owned by
    # the drill but naming another drill.
    t.admin.run("create", "-f", "-", input=forged_run(t.team_a, "audit-forged-uid", "audit",
                                                      uid="11111111-2222-3333-4444-555555555555"))
    t.admin.run("create", "-f", "-", input=forged_run(t.team_a, "audit-no-owner", "audit",
                                                      uid=None))
    other = json.loads(forged_run(t.team_a, "audit-other-name", "audit", drill["metadata"]["uid"]))
    other["spec"]["drillName"] = "other"
    t.admin.run("create", "-f", "-", input=json.dumps(other))
    forged = ("audit-forged-uid", "audit-no-owner", "audit-other-name")

    def acted() -> list[str]:
        jobs = [j["metadata"]["name"] for j in t.admin.get("jobs", namespace=t.team_a)["items"]]
        touched = [r["metadata"]["name"] for r in t.admin.get(
            "drdrillruns", namespace=t.team_a)["items"]
            if r["metadata"]["name"] in forged and r.get("status")]
        return [j for j in jobs if j in forged] + touched
    never("relops acting on a run it does not control", acted, seconds=6)
    status = t.admin.get("drdrill", "audit", t.team_a).get("status", {})
    assert "lastRun" not in status and status.get("retainedRuns", 0) == 0, status
    assert status.get("passRate", "") == "", status


def run_now_name(drill: str, token: str) -> str:
    """controllers/drill/scheduling.cpp runNowRunName()."""
    return drill[:42] + "-now-" + hashlib.sha256(f"{drill}\n{token}".encode()).hexdigest()[:16]


def test_a_job_planted_under_the_runs_name_is_not_its_evidence(drills: Drills):
    t = drills.tenancy
    t.tenant.apply(job_drill(t.team_a, "planted"))
    # Run names are predictable: the tenant creates the Job the next run would create, one
    # that simply succeeds, hoping relops records it as the drill's Pass.
    name = run_now_name("planted", "1")
    t.tenant.apply(json.dumps({
        "apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name, "namespace": t.team_a},
        "spec": {"backoffLimit": 0, "template": {"spec": {
            "restartPolicy": "Never", "containers": [{"name": "exit0", "image": "busybox"}]}}}}))
    run_now(t.tenant, t.team_a, "planted", "1")
    run = finished_run(t.admin, t.team_a, "planted", "1")
    assert run["metadata"]["name"] == name
    status = run["status"]
    assert status["phase"] == "Error" and status["reason"] == "JobConflict", status
    assert "rtoSeconds" not in status
    wait_until("a Warning JobConflict",
               lambda: warnings(t.admin, t.team_a, name, "JobConflict"), timeout=30)
    wait_until("the drill to record the error", lambda: t.admin.get(
        "drdrill", "planted", t.team_a).get("status", {}).get("lastRun", {}).get("verdict"),
        timeout=30)
    assert t.admin.get("drdrill", "planted", t.team_a)["status"]["lastRun"]["verdict"] == "Error"


def test_a_status_less_run_past_the_starting_deadline_is_stale_and_runs_nothing(drills: Drills):
    t = drills.tenancy
    t.tenant.apply(job_drill(t.team_a, "restored", {"startingDeadlineSeconds": 60}))
    drill = t.admin.get("drdrill", "restored", t.team_a)
    # As a Velero restore of the namespace brings back an old run: controlled by the drill,
    # without status, scheduled two hours ago.
    t.admin.run("create", "-f", "-", input=forged_run(
        t.team_a, "restored-old", "restored", drill["metadata"]["uid"], scheduled=ago(hours=2)))

    def ended() -> dict[str, Any] | None:
        run = t.admin.get("drdrillrun", "restored-old", t.team_a)
        return run if run.get("status", {}).get("phase") in TERMINAL else None
    run = wait_until("the stale run to end", ended, timeout=60)
    assert run["status"]["phase"] == "Error" and run["status"]["reason"] == "StaleRun", run
    wait_until("a Warning StaleRun",
               lambda: warnings(t.admin, t.team_a, "restored-old", "StaleRun"), timeout=30)
    assert not t.admin.exists("job", "restored-old", t.team_a)
    assert "job" not in run["status"] and "startTime" in run["status"]


def deployment(namespace: str, name: str) -> str:
    """A Deployment the `restricted` Pod Security level admits."""
    return json.dumps({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}}, "spec": {
                     "securityContext": {"runAsNonRoot": True,
                                         "seccompProfile": {"type": "RuntimeDefault"}},
                     "containers": [{"name": "app", "image": "busybox", "securityContext": {
                         "allowPrivilegeEscalation": False,
                         "capabilities": {"drop": ["ALL"]}}}]}}},
    })


def test_a_restore_of_the_own_namespace_passes_in_a_confined_sandbox(drills: Drills):
    t = drills.tenancy
    a = t.team_a
    # The namespace's admins: Pod Security restricted and a quota (edit can set neither).
    t.admin.run("label", "--overwrite", "namespace", a, "pod-security.kubernetes.io/enforce=restricted")
    t.admin.apply(json.dumps({"apiVersion": "v1", "kind": "ResourceQuota",
                              "metadata": {"name": "team-quota", "namespace": a},
                              "spec": {"hard": {"pods": "10", "services.loadbalancers": "2"}}}))
    # The tenant's application: a workload, a LoadBalancer Service, a CronJob, an Ingress.
    t.tenant.apply(deployment(a, "web"))
    t.tenant.apply(json.dumps({"apiVersion": "v1", "kind": "Service",
                               "metadata": {"name": "web", "namespace": a},
                               "spec": {"type": "LoadBalancer", "selector": {"app": "web"},
                                        "ports": [{"port": 80}]}}))
    t.tenant.apply(json.dumps({"apiVersion": "batch/v1", "kind": "CronJob",
                               "metadata": {"name": "report", "namespace": a},
                               "spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {
                                   "template": {"spec": {"restartPolicy": "Never",
                                                         "containers": [{"name": "c",
                                                                         "image": "busybox"}]}}}}}}))
    t.tenant.apply(json.dumps({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
                               "metadata": {"name": "web", "namespace": a},
                               "spec": {"rules": [{"host": "shop.example.com"}]}}))
    backup(t.admin, "team-a-nightly", "team-a", "Completed", ago(hours=3), [a], drills.velero)
    t.tenant.apply(velero_drill(a, "restore", "team-a-nightly"))
    started = time.monotonic()
    run_now(t.tenant, a, "restore", "1")
    run = finished_run(t.admin, a, "restore", "1")
    print(f"own-namespace restore drill: {time.monotonic() - started:.1f} s")
    status = run["status"]
    assert status["phase"] == "Succeeded" and status["verdict"] == "Pass", status
    sandbox = status["velero"]["sandboxNamespace"]
    assert sandbox == sandbox_name(a, run["metadata"]["name"])
    record = drills.actor.done[status["velero"]["restore"]]
    assert "error" not in record, record
    # Before anything was restored the sandbox had Pod Security, quota, limits and deny-all.
    seen = record["sandbox"][sandbox]
    assert seen["labels"]["pod-security.kubernetes.io/enforce"] == "restricted", seen
    assert seen["resourceQuotas"] == [{"hard": {"pods": "10", "services.loadbalancers": "2"}}]
    assert len(seen["limitRanges"]) == 1, seen  # relops's default: team_a has none
    assert {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]} in record["networkPolicies"]
    # Exclusions: the Ingress and relops's own DRDrill stayed out; the modifiers changed the
    # Service and the CronJob.
    restored = record["restored"]
    assert "deployments.apps/web" in restored and "services/web" in restored, restored
    assert not [r for r in restored if r.startswith(("ingresses.", "drdrills."))], restored
    objects = record["objects"]
    assert objects["services/web"]["spec"]["type"] == "ClusterIP", objects["services/web"]
    assert objects["cronjobs.batch/report"]["spec"]["suspend"] is True
    [restore] = restores_of(drills, run["metadata"]["name"])
    assert {"ingresses.networking.k8s.io", "drdrills.relops.dev",
            "clusterroles.rbac.authorization.k8s.io"} <= set(restore["spec"]["excludedResources"])
    assert restore["spec"]["includeClusterResources"] is False
    # Cleaned up: the sandbox, the restore's volume, the modifiers.
    assert status["cleanup"]["result"] == "Succeeded"
    assert not t.admin.exists("namespace", sandbox)
    assert not t.admin.exists("persistentvolume", record["volume"])
    assert not t.admin.exists("configmap", status["velero"]["restore"], drills.velero)
