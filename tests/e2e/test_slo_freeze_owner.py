"""No freeze outlives relops: every freeze binding is owned by the ValidatingAdmissionPolicy
`relops.dev-freeze`, so with relops gone (uninstalled, its CRDs removed) deleting that one
object lets garbage collection remove every binding, and changes are allowed again.

Serial: it deletes the cluster-wide admission policy every freeze on the cluster uses.
"""

from __future__ import annotations

import signal
import time

from kube import Kubectl, wait_until
from slo_support import pod_template_change
from test_slo_history import frozen_slo, policy, unavailable_deployment

ADMISSION_POLICY = "relops.dev-freeze"


def test_deleting_the_admission_policy_removes_every_freeze_binding(
        kubectl: Kubectl, crds, namespace: str, operators):
    op = operators("--watch-namespace", namespace)
    kubectl.apply(unavailable_deployment(namespace))
    kubectl.apply(frozen_slo(namespace))
    kubectl.apply(policy(namespace))
    binding = f"relops.dev-freeze.{namespace}.tier1"
    wait_until("the freeze binding", lambda: kubectl.exists(
        "validatingadmissionpolicybinding", binding), timeout=200, interval=1)
    wait_until("the rollout denied", lambda: "web-availability" in pod_template_change(
        kubectl, namespace, "web", "nginx:2", dry_run=True), timeout=30, interval=0.5)

    owner = kubectl.get("validatingadmissionpolicy", ADMISSION_POLICY)
    owners = kubectl.get("validatingadmissionpolicybinding", binding)["metadata"].get(
        "ownerReferences", [])
    assert [(o["kind"], o["name"], o["uid"]) for o in owners] == [
        ("ValidatingAdmissionPolicy", ADMISSION_POLICY, owner["metadata"]["uid"])], owners

    # relops goes away with the freeze active: nothing will thaw it.
    assert op.stop(signal.SIGTERM) == 0, op.log()[-3000:]
    assert "web-availability" in pod_template_change(kubectl, namespace, "web", "nginx:2",
                                                     dry_run=True)

    # The README's way out: delete the admission policy; its bindings are collected.
    deleted = time.time()
    kubectl.run("delete", "validatingadmissionpolicy", ADMISSION_POLICY)
    wait_until("the binding collected", lambda: not kubectl.exists(
        "validatingadmissionpolicybinding", binding), timeout=60, interval=0.2)
    collected = time.time() - deleted
    allowed = wait_until("the change allowed", lambda: pod_template_change(
        kubectl, namespace, "web", "nginx:2") == "", timeout=30, interval=0.5)
    print(f"\nbinding garbage-collected {collected:.1f} s after the admission policy was "
          f"deleted; change allowed {time.time() - deleted:.1f} s after")
    assert allowed
    image = kubectl.get("deployment", "web", namespace)["spec"]["template"]["spec"][
        "containers"][0]["image"]
    assert image == "nginx:2", image
