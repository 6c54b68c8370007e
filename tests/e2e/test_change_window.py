"""A Freeze ChangeWindow, end to end on the test cluster: a window that starts within the next
minute makes the API server deny `kubectl set image` from its start instant (within 2 s) and
allow it again after its end; `kubectl scale` passes throughout; the exemption is the
error-budget freeze's (the annotation AND the `exempt` permission on errorbudgetpolicies: a user
holding both passes, an editor with only the annotation does not); and an Argo Rollouts
`Rollout` (its CRD taken from the Argo Rollouts Go module; no Argo controller runs here, the
object is only stored) is frozen like a Deployment.

Parallel-safe: everything lives in the test's namespace, and the window's binding selects only
that namespace. The Rollout CRD is applied server-side and left installed (other runs of this
test may be using it)."""

from __future__ import annotations

import json
import textwrap
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from install_support import service_account_kubeconfig
from kube import Kubectl, KubectlError, wait_until
from rollouts_support import install_rollout_crd, patch_image
from slo_support import events

EXEMPT = "relops.dev/freeze-exempt"
def workloads(namespace: str) -> str:
    """Two Deployments (tier 1 and tier 3) and a tier-1 Rollout, as one List. Never scheduled
    (no node matches): only the API objects matter here."""
    template = {"metadata": {"labels": {"app": "web"}},
                "spec": {"nodeSelector": {"relops.dev/e2e": "nowhere"},
                         "containers": [{"name": "app", "image": "nginx:1"}]}}

    def workload(api_version: str, kind: str, name: str, tier: str, **spec) -> dict:
        return {"apiVersion": api_version, "kind": kind,
                "metadata": {"name": name, "namespace": namespace, "labels": {"tier": tier}},
                "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                         "template": template, **spec}}

    return json.dumps({"apiVersion": "v1", "kind": "List", "items": [
        workload("apps/v1", "Deployment", "web", "1"),
        workload("apps/v1", "Deployment", "batch", "3"),
        workload("argoproj.io/v1alpha1", "Rollout", "canary", "1",
                 strategy={"canary": {"steps": [{"setWeight": 20}]}}),
    ]})


def window(namespace: str, start: datetime, end: datetime) -> str:
    return textwrap.dedent(f"""\
        apiVersion: relops.dev/v1alpha1
        kind: ChangeWindow
        metadata: {{name: release-freeze, namespace: {namespace}}}
        spec:
          type: Freeze
          start: "{start.strftime('%Y-%m-%dT%H:%M:%SZ')}"
          end: "{end.strftime('%Y-%m-%dT%H:%M:%SZ')}"
          workloadSelector: {{matchLabels: {{tier: "1"}}}}
          reason: quarter close CHG-77
        """)


def users(kubectl: Kubectl, namespace: str, workdir: Path) -> tuple[Kubectl, Kubectl]:
    """An editor (the built-in `edit` role) and a releaser (`edit` plus the `exempt`
    permission on errorbudgetpolicies.relops.dev), both in the test's namespace only."""
    made = []
    for user in ("editor", "releaser"):
        kubectl.run("create", "serviceaccount", user, "-n", namespace)
        kubectl.run("create", "rolebinding", f"{user}-edit", "--clusterrole=edit",
                    f"--serviceaccount={namespace}:{user}", "-n", namespace)
        made.append(Kubectl(service_account_kubeconfig(kubectl, namespace, user,
                                                       workdir / f"{user}.kubeconfig")))
    kubectl.run("create", "role", "freeze-exempt", "--verb=exempt",
                "--resource=errorbudgetpolicies.relops.dev", "-n", namespace)
    kubectl.run("create", "rolebinding", "releaser-exempt", "--role=freeze-exempt",
                f"--serviceaccount={namespace}:releaser", "-n", namespace)
    return made[0], made[1]


def set_image(kubectl: Kubectl, namespace: str, target: str, image: str) -> str:
    """'' when the API server accepts the change (a server-side dry run: admission runs, nothing
    is stored), else its refusal."""
    try:
        kubectl.run("-n", namespace, "set", "image", target, f"app={image}", "--dry-run=server")
        return ""
    except KubectlError as error:
        return str(error)


@pytest.fixture
def relops(namespace: str, crds, operators):
    return operators("--watch-namespace", namespace)


def test_a_freeze_window_denies_template_changes_from_its_start_to_its_end(
    kubectl: Kubectl, namespace: str, relops, tmp_path
):
    install_rollout_crd(kubectl)
    kubectl.apply(workloads(namespace))
    editor, releaser = users(kubectl, namespace, tmp_path)
    # Starts within the next minute (far enough ahead for relops to bind it first), lasts 25 s.
    start = (datetime.now(timezone.utc) + timedelta(seconds=20)).replace(microsecond=0)
    end = start + timedelta(seconds=25)
    kubectl.apply(window(namespace, start, end))

    def reconciled():
        status = kubectl.get("changewindow", "release-freeze", namespace).get("status", {})
        return status if status.get("observedGeneration") == 1 else None

    status = wait_until("the window reconciled", reconciled, timeout=30, interval=0.5)
    assert status["active"] is False
    assert status["nextStart"] == start.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert status["selected"] == {"kind": "workloads", "count": 1, "names": ["Deployment/web"]}
    assert set_image(kubectl, namespace, "deployment/web", "nginx:2") == ""

    # From the start instant: denied, polled every 0.2 s.
    denied_at = None
    message = ""
    while time.time() < end.timestamp():
        attempt = time.time()
        message = set_image(kubectl, namespace, "deployment/web", "nginx:2")
        if message:
            denied_at = attempt
            break
        time.sleep(0.2)
    assert denied_at is not None, "never denied during the window"
    lag = denied_at - start.timestamp()
    print(f"denied {lag:+.2f} s from the window's start")
    assert -0.5 <= lag <= 2.0, f"denied {lag:.2f} s from the start"
    assert "ChangeWindow " + namespace + "/release-freeze" in message
    assert "quarter close CHG-77" in message
    assert end.strftime("%Y-%m-%dT%H:%M:%SZ") in message
    assert EXEMPT in message and "scaling is allowed" in message

    # Scaling passes; a workload the window does not select is not frozen.
    kubectl.run("-n", namespace, "scale", "deployment/web", "--replicas=2")
    assert kubectl.get("deployment", "web", namespace)["spec"]["replicas"] == 2
    assert set_image(kubectl, namespace, "deployment/batch", "nginx:2") == ""

    # The Rollout is frozen like the Deployment; scaling it passes.
    assert "release-freeze" in patch_image(kubectl, namespace, "rollout", "canary", "nginx:2")
    kubectl.run("-n", namespace, "patch", "rollout", "canary", "--type=merge",
                "-p", '{"spec":{"replicas":3}}')

    # The exemption: the annotation alone is not enough for an editor; with the permission it is.
    editor.run("-n", namespace, "annotate", "deployment/web", f"{EXEMPT}=INC-1")
    assert "release-freeze" in set_image(editor, namespace, "deployment/web", "nginx:3")
    assert set_image(releaser, namespace, "deployment/web", "nginx:3") == ""
    editor.run("-n", namespace, "annotate", "deployment/web", f"{EXEMPT}-")
    assert "release-freeze" in set_image(releaser, namespace, "deployment/web", "nginx:3")

    wait_until("a WindowStarted Event", lambda: events(kubectl, namespace, "WindowStarted"),
               timeout=10)
    status = kubectl.get("changewindow", "release-freeze", namespace)["status"]
    assert status["active"] is True
    assert status["currentWindow"]["end"] == end.strftime("%Y-%m-%dT%H:%M:%SZ")

    # After the end: allowed again, through status (within 2 s) and the binding's removal.
    remaining = end.timestamp() - time.time()
    if remaining > 0:
        time.sleep(remaining)
    allowed_at = wait_until("the change to pass after the end", lambda: set_image(
        kubectl, namespace, "deployment/web", "nginx:2") == "" and time.time(),
        timeout=10, interval=0.2)
    print(f"allowed {allowed_at - end.timestamp():+.2f} s from the window's end")
    assert allowed_at - end.timestamp() <= 2.0
    assert patch_image(kubectl, namespace, "rollout", "canary", "nginx:2") == ""
    wait_until("a WindowEnded Event", lambda: events(kubectl, namespace, "WindowEnded"),
               timeout=10)
    binding = f"relops.dev-changewindow.{namespace}.release-freeze"
    wait_until("the binding to go", lambda: not kubectl.exists(
        "validatingadmissionpolicybinding", binding), timeout=10)
