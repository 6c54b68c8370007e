"""No wedges (issue 14): a drill run whose cleanup relops may not do still ends, and neither a
refused cleanup nor an uninstalled relops keeps a namespace from being deleted.

relops runs as the chart's ServiceAccount with the chart's RBAC rendered with
`rbac.drillRestoreCleanup=false` (no rights on PersistentVolumes); Velero's part is played by the
TEST ACTOR of velero_support.py, which gives each restore a labelled volume.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from install_support import CHART, documents, helm
from kube import Kubectl, unique_name, wait_until
from tenant import Tenancy, tenancy  # noqa: F401  (a fixture)
from test_tenant_drills import (TERMINAL, ago, deployment, run_now, velero_drill, warnings)
from velero_support import VeleroServerActor, backup, install_velero_crds

FINALIZER = "relops.dev/drill-cleanup"
# README "Drills" → "Clearing a run's finalizer by hand", run as written there.
CLEAR_FINALIZER = ["patch", "drdrillrun", "--type=json",
                   "-p", '[{"op":"remove","path":"/metadata/finalizers"}]']


@pytest.fixture(scope="module")
def setup(tenancy: Tenancy):
    admin = tenancy.admin
    install_velero_crds(admin)
    velero = unique_name("velero")
    admin.run("create", "namespace", velero)
    chart = documents(helm("template", tenancy.release, str(CHART), "-n", tenancy.system,
                           "--set", "crds.enabled=false,rbac.veleroNamespaceRole=true",
                           "--set", "rbac.drillRestoreCleanup=false",
                           "--set", f"controller.veleroNamespace={velero}").stdout)
    roles = [d for d in chart if d["kind"] in ("Role", "RoleBinding")
             and d["metadata"].get("namespace") == velero]
    # The cluster role without the volume rule replaces the one tenancy applied.
    cluster = [d for d in chart if d["kind"] == "ClusterRole"
               and d["metadata"]["name"] == tenancy.release]
    assert len(roles) == 2 and len(cluster) == 1, (roles, cluster)
    assert not [r for r in cluster[0]["rules"] if "persistentvolumes" in r["resources"]]
    admin.run("apply", "-f", "-", input="\n---\n".join(json.dumps(d) for d in roles + cluster))
    [sa] = [d for d in tenancy.chart if d["kind"] == "ServiceAccount"]
    who = f"system:serviceaccount:{tenancy.system}:{sa['metadata']['name']}"
    wait_until("relops to lose its PersistentVolume rights", lambda: admin.run(
        "auth", "can-i", "list", "persistentvolumes", "--as", who,
        check=False).stdout.strip() == "no", timeout=30)
    op = tenancy.start_relops("--velero-namespace", velero)
    with VeleroServerActor(admin, namespace=velero) as actor:
        yield tenancy, velero, actor, op
    admin.run("delete", "namespace", velero, "--wait=false", check=False)


def run_of(admin: Kubectl, namespace: str, drill: str) -> dict[str, Any] | None:
    for run in admin.get("drdrillruns", namespace=namespace)["items"]:
        if run["metadata"]["labels"].get("relops.dev/drill") == drill:
            return run
    return None


def test_a_forbidden_volume_cleanup_ends_the_run_by_its_deadline(setup):
    t, velero, actor, _ = setup
    a = t.team_a
    t.tenant.apply(deployment(a, "web"))
    backup(t.admin, "team-a-nightly", "team-a", "Completed", ago(hours=3), [a], velero)
    # runTimeout 2m: the deadline this must beat.
    drill = json.loads(velero_drill(a, "restore", "team-a-nightly"))
    drill["spec"]["runTimeout"] = "2m"
    t.tenant.apply(json.dumps(drill))
    started = time.monotonic()
    run_now(t.tenant, a, "restore", "1")

    def ended() -> dict[str, Any] | None:
        run = run_of(t.admin, a, "restore")
        return run if run and run.get("status", {}).get("phase") in TERMINAL else None
    run = wait_until("the velero run to end", ended, timeout=150)
    took = time.monotonic() - started
    print(f"velero run with forbidden volume cleanup ended after {took:.1f} s (deadline 120 s)")
    status, name = run["status"], run["metadata"]["name"]
    assert status["verdict"] == "Pass", status  # the recovery itself worked
    assert status["cleanup"]["result"] == "Failed", status
    assert "PersistentVolumes labelled velero.io/restore-name" in status["cleanup"]["message"]
    assert "forbidden" in status["cleanup"]["message"].lower(), status["cleanup"]
    assert status["completionTime"] <= status["deadline"], status
    wait_until("a Warning CleanupFailed",
               lambda: warnings(t.admin, a, name, "CleanupFailed"), timeout=30)
    # What relops could delete is gone; the volume it may not see is left, as reported.
    assert not t.admin.exists("namespace", status["velero"]["sandboxNamespace"])
    record = actor.done[status["velero"]["restore"]]
    assert t.admin.exists("persistentvolume", record["volume"])
    # The finalizer is released: nothing relops can still do would need it.
    wait_until("the finalizer to go", lambda: FINALIZER not in t.admin.get(
        "drdrillrun", name, a)["metadata"].get("finalizers", []), timeout=30)
    t.admin.run("delete", "persistentvolume", record["volume"], "--wait=false")


def failover_drill(namespace: str) -> str:
    return json.dumps({
        "apiVersion": "relops.dev/v1alpha1", "kind": "DRDrill",
        "metadata": {"name": "failover", "namespace": namespace},
        "spec": {"schedule": "0 0 1 1 *", "runTimeout": "1h",
                 "failover": {"target": {"kind": "Deployment", "name": "primary"},
                              "standby": {"kind": "Deployment", "name": "standby"}}},
    })


def test_with_relops_uninstalled_namespaces_with_runs_can_be_deleted(setup):
    t, _, _, op = setup
    a, b = t.team_a, t.team_b
    # In team_b a failover run in flight: the primary is down, the standby never comes.
    primary = json.loads(deployment(b, "primary"))
    primary["metadata"]["annotations"] = {"relops.dev/drill-allowed": "true"}
    t.admin.apply(json.dumps(primary))
    standby = json.loads(deployment(b, "standby"))
    standby["spec"]["template"]["spec"]["nodeSelector"] = {"relops.dev/no-such-node": "x"}
    t.admin.apply(json.dumps(standby))
    wait_until("the primary to be ready", lambda: t.admin.get("deployment", "primary", b).get(
        "status", {}).get("readyReplicas") == 1, timeout=60)
    t.admin.apply(failover_drill(b))
    run_now(t.admin, b, "failover", "1")
    run = wait_until("the failover run to be running", lambda: (
        lambda r: r if r and r.get("status", {}).get("phase") == "Running" else None)(
            run_of(t.admin, b, "failover")), timeout=60)
    assert FINALIZER in run["metadata"]["finalizers"]

    # relops uninstalled; its CRDs stay.
    op.stop()
    started = time.monotonic()
    for ns in (a, b):
        t.admin.run("delete", "namespace", ns, "--wait=false")
    # team_a's finished run holds no finalizer: the namespace goes by itself.
    wait_until(f"namespace {a} to go", lambda: not t.admin.exists("namespace", a), timeout=90)
    print(f"namespace with a finished run deleted in {time.monotonic() - started:.1f} s")
    # team_b's run in flight holds it (the primary was never restored), until the README's fix.
    assert t.admin.exists("drdrillrun", run["metadata"]["name"], b)
    t.admin.run(*CLEAR_FINALIZER, run["metadata"]["name"], "-n", b)
    started = time.monotonic()
    wait_until(f"namespace {b} to go", lambda: not t.admin.exists("namespace", b), timeout=90)
    print(f"namespace with a run in flight deleted {time.monotonic() - started:.1f} s "
          "after clearing the finalizer")
