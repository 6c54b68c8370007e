"""An Argo Rollouts `Rollout` under the error-budget freeze: an ErrorBudgetPolicy with a
workloadSelector freezes the Rollouts it selects (its `….rollouts` binding) once an SLO it
selects spends its budget, as it freezes the SLO's Deployment; scaling the Rollout passes."""

from __future__ import annotations

import textwrap

import pytest

from kube import Kubectl, wait_until
from rollouts_support import install_rollout_crd, patch_image, rollout
from test_slo_freeze import deployment, slo


def policy(namespace: str) -> str:
    return textwrap.dedent(f"""\
        apiVersion: relops.dev/v1alpha1
        kind: ErrorBudgetPolicy
        metadata: {{name: tier1, namespace: {namespace}}}
        spec:
          sloSelector: {{matchLabels: {{tier: "1"}}}}
          workloadSelector: {{matchLabels: {{tier: "1"}}}}
          rules:
          - {{name: budget-exhausted, budgetRemainingBelow: "0", hysteresis: "5", freeze: true}}
        """)


@pytest.fixture
def relops(namespace: str, crds, operators):
    return operators("--watch-namespace", namespace)


def test_a_spent_budget_freezes_the_rollouts_the_policy_selects(
    kubectl: Kubectl, namespace: str, relops
):
    install_rollout_crd(kubectl)
    kubectl.apply(rollout(namespace, "canary", {"tier": "1"}))
    kubectl.apply(deployment(namespace))
    kubectl.apply(slo(namespace, "98.5"))
    kubectl.apply(policy(namespace))
    assert patch_image(kubectl, namespace, "rollout", "canary", "nginx:2") == ""
    # The SLO's Deployment never becomes available: its first minute spends the budget.
    kubectl.run("-n", namespace, "patch", "deployment", "web", "--type=merge", "-p",
                '{"spec":{"template":{"spec":{"nodeSelector":{"relops.dev/e2e":"nowhere"}}}}}')
    wait_until("the freeze", lambda: kubectl.get("errorbudgetpolicy", "tier1", namespace)
               .get("status", {}).get("frozenCount") == 1, timeout=200, interval=2)
    wait_until("the rollouts binding", lambda: kubectl.exists(
        "validatingadmissionpolicybinding", f"relops.dev-freeze.{namespace}.tier1.rollouts"),
        timeout=30)
    message = wait_until("the Rollout frozen", lambda: patch_image(
        kubectl, namespace, "rollout", "canary", "nginx:2"), timeout=30, interval=0.5)
    assert "web-availability" in message and "ErrorBudgetPolicy tier1" in message
    kubectl.run("-n", namespace, "patch", "rollout", "canary", "--type=merge",
                "-p", '{"spec":{"replicas":2}}')
