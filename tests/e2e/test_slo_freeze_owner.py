"""No freeze outlives relops: every freeze binding is owned by the ValidatingAdmissionPolicy
`relops.dev-freeze`, and that policy by the ErrorBudgetPolicy CRD. With relops gone, removing
its CRDs, or deleting the admission policy, lets garbage collection remove every binding, and
changes are allowed again.

Serial: it deletes the cluster-wide admission policy every freeze on the cluster uses, and
the ErrorBudgetPolicy CRD.
"""

from __future__ import annotations

import signal
import time

from kube import Kubectl, wait_until
from relops_process import REPO
from slo_support import pod_template_change
from test_slo_history import frozen_slo, policy, unavailable_deployment

ADMISSION_POLICY = "relops.dev-freeze"
POLICY_CRD = "errorbudgetpolicies.relops.dev"


def freeze_with_relops_gone(kubectl: Kubectl, namespace: str, operators) -> str:
    """A freeze relops enforced and then left behind: relops is stopped. The binding's name."""
    op = operators("--watch-namespace", namespace)
    kubectl.apply(unavailable_deployment(namespace))
    kubectl.apply(frozen_slo(namespace))
    kubectl.apply(policy(namespace))
    binding = f"relops.dev-freeze.{namespace}.tier1"
    wait_until("the freeze binding", lambda: kubectl.exists(
        "validatingadmissionpolicybinding", binding), timeout=200, interval=1)
    wait_until("the rollout denied", lambda: "web-availability" in pod_template_change(
        kubectl, namespace, "web", "nginx:2", dry_run=True), timeout=30, interval=0.5)
    assert op.stop(signal.SIGTERM) == 0, op.log()[-3000:]
    assert "web-availability" in pod_template_change(kubectl, namespace, "web", "nginx:2",
                                                     dry_run=True)
    return binding


def change_allowed_once_collected(kubectl: Kubectl, namespace: str, binding: str,
                                  since: float, what: str) -> None:
    wait_until("the binding collected", lambda: not kubectl.exists(
        "validatingadmissionpolicybinding", binding), timeout=60, interval=0.2)
    collected = time.time() - since
    allowed = wait_until("the change allowed", lambda: pod_template_change(
        kubectl, namespace, "web", "nginx:2") == "", timeout=30, interval=0.5)
    print(f"\nbinding garbage-collected {collected:.1f} s after {what}; change allowed "
          f"{time.time() - since:.1f} s after")
    assert allowed
    image = kubectl.get("deployment", "web", namespace)["spec"]["template"]["spec"][
        "containers"][0]["image"]
    assert image == "nginx:2", image


def test_removing_the_crds_removes_every_freeze(kubectl: Kubectl, crds, namespace: str,
                                                operators):
    binding = freeze_with_relops_gone(kubectl, namespace, operators)
    crd = kubectl.get("customresourcedefinition", POLICY_CRD)
    owners = kubectl.get("validatingadmissionpolicy", ADMISSION_POLICY)["metadata"].get(
        "ownerReferences", [])
    assert [(o["kind"], o["name"], o["uid"]) for o in owners] == [
        ("CustomResourceDefinition", POLICY_CRD, crd["metadata"]["uid"])], owners

    deleted = time.time()
    try:
        kubectl.run("delete", "customresourcedefinition", POLICY_CRD, timeout=120)
        wait_until("the admission policy collected", lambda: not kubectl.exists(
            "validatingadmissionpolicy", ADMISSION_POLICY), timeout=60, interval=0.2)
        change_allowed_once_collected(kubectl, namespace, binding, deleted, "the CRD was deleted")
    finally:
        kubectl.run("apply", "--server-side", "-f", str(REPO / "crds"))
        kubectl.run("wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")


def test_deleting_the_admission_policy_removes_every_freeze_binding(
        kubectl: Kubectl, crds, namespace: str, operators):
    binding = freeze_with_relops_gone(kubectl, namespace, operators)
    owner = kubectl.get("validatingadmissionpolicy", ADMISSION_POLICY)
    owners = kubectl.get("validatingadmissionpolicybinding", binding)["metadata"].get(
        "ownerReferences", [])
    assert [(o["kind"], o["name"], o["uid"]) for o in owners] == [
        ("ValidatingAdmissionPolicy", ADMISSION_POLICY, owner["metadata"]["uid"])], owners

    # The README's way out with the CRDs kept: delete the admission policy.
    deleted = time.time()
    kubectl.run("delete", "validatingadmissionpolicy", ADMISSION_POLICY)
    change_allowed_once_collected(kubectl, namespace, binding, deleted,
                                  "the admission policy was deleted")
