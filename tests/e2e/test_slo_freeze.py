"""The change freeze, end to end on the test cluster: a workload SLO spends its error
budget, its ErrorBudgetPolicy freezes the Deployment, and the API server itself (a
ValidatingAdmissionPolicy and the binding relops creates) denies `kubectl set image` with a
message naming the SLO, its budget and the way out. The exemption annotation lets a hotfix
through, scaling works throughout, and a recovered budget lifts the freeze."""

from __future__ import annotations

import textwrap

import pytest

from kube import Kubectl, KubectlError, wait_until
from slo_support import events

EXEMPT = "relops.dev/freeze-exempt"


def deployment(namespace: str) -> str:
    # Recreate, so a pod template that cannot be scheduled leaves nothing available.
    return textwrap.dedent(f"""\
        apiVersion: apps/v1
        kind: Deployment
        metadata: {{name: web, namespace: {namespace}}}
        spec:
          replicas: 2
          strategy: {{type: Recreate}}
          selector: {{matchLabels: {{app: web}}}}
          template:
            metadata: {{labels: {{app: web}}}}
            spec:
              containers: [{{name: app, image: "nginx:1"}}]
        """)


def slo(namespace: str, objective: str) -> str:
    # 98.5% over 1h allows 0.9 bad minutes: one unavailable minute spends the budget.
    return textwrap.dedent(f"""\
        apiVersion: relops.dev/v1alpha1
        kind: ServiceLevelObjective
        metadata: {{name: web-availability, namespace: {namespace}, labels: {{tier: "1"}}}}
        spec:
          service: web
          objective: "{objective}"
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


def binding_name(namespace: str) -> str:
    return f"relops.dev-freeze.{namespace}.tier1"


@pytest.fixture
def relops(namespace: str, crds, operators):
    return operators("--watch-namespace", namespace)


def test_spent_budget_freezes_rollouts_but_not_scaling_or_exempt_hotfixes(
    kubectl: Kubectl, namespace: str, relops
):
    kubectl.apply(deployment(namespace))
    wait_until("web available", lambda: kubectl.get("deployment", "web", namespace)["status"]
               .get("availableReplicas") == 2, timeout=90)
    kubectl.apply(slo(namespace, "98.5"))
    kubectl.apply(policy(namespace))
    wait_until("the policy reconciled", lambda: kubectl.get("errorbudgetpolicy", "tier1", namespace)
               .get("status", {}).get("observedGeneration") == 1, timeout=30)
    assert not kubectl.exists("validatingadmissionpolicybinding", binding_name(namespace))

    # Take the workload down: its pods can no longer be scheduled.
    kubectl.run("-n", namespace, "patch", "deployment", "web", "--type=merge", "-p",
                '{"spec":{"template":{"spec":{"nodeSelector":{"relops.dev/e2e":"nowhere"}}}}}')

    def frozen():
        status = kubectl.get("errorbudgetpolicy", "tier1", namespace).get("status", {})
        return status if status.get("frozenCount") == 1 else None

    status = wait_until("the freeze", frozen, timeout=200, interval=2)
    freeze = status["activeFreezes"][0]
    assert freeze["slo"] == "web-availability"
    assert freeze["workloads"] == ["Deployment/web"]
    assert float(freeze["budgetRemaining"]) < 0
    # relops applies the binding first, then writes the status that says Frozen (the
    # admission policy reads it); its Events are sent after that.
    wait_until("the freeze binding", lambda: kubectl.exists(
        "validatingadmissionpolicybinding", binding_name(namespace)), timeout=30)
    wait_until("a Frozen Event", lambda: events(kubectl, namespace, "Frozen"), timeout=30)

    # A rollout is denied by the API server, with the message a person needs.
    # A server-side dry run passes admission without changing the Deployment.
    def denied() -> str:
        try:
            kubectl.run("-n", namespace, "set", "image", "deployment/web", "app=nginx:2",
                        "--dry-run=server")
        except KubectlError as error:
            return str(error) if "web-availability" in str(error) else ""
        return ""

    # The binding is enforced once the API server's admission informers have seen it.
    message = wait_until("the rollout to be denied", denied, timeout=30, interval=1)
    assert "web-availability" in message
    assert "% left" in message
    assert EXEMPT in message
    assert "scaling is allowed" in message

    # Scaling is not frozen.
    kubectl.run("-n", namespace, "scale", "deployment/web", "--replicas=3")
    assert kubectl.get("deployment", "web", namespace)["spec"]["replicas"] == 3

    # A hotfix carrying the exemption annotation passes.
    kubectl.run("-n", namespace, "annotate", "deployment/web", f"{EXEMPT}=INC-4711")
    kubectl.run("-n", namespace, "patch", "deployment", "web", "--type=json", "-p",
                '[{"op":"remove","path":"/spec/template/spec/nodeSelector"}]')
    kubectl.run("-n", namespace, "annotate", "deployment/web", f"{EXEMPT}-")
    wait_until("web available again", lambda: kubectl.get("deployment", "web", namespace)["status"]
               .get("availableReplicas") == 3, timeout=90)

    # Still frozen without the annotation.
    with pytest.raises(KubectlError):
        kubectl.run("-n", namespace, "set", "image", "deployment/web", "app=nginx:2")

    # The budget recovers (a looser objective leaves budget above threshold + hysteresis):
    # the freeze is lifted and rollouts pass again.
    kubectl.apply(slo(namespace, "50"))
    wait_until("the thaw", lambda: kubectl.get("errorbudgetpolicy", "tier1", namespace)
               .get("status", {}).get("frozenCount") == 0, timeout=60, interval=1)
    wait_until("the binding to go", lambda: not kubectl.exists(
        "validatingadmissionpolicybinding", binding_name(namespace)), timeout=30)
    wait_until("a Thawed Event", lambda: events(kubectl, namespace, "Thawed"), timeout=30)

    def rolled_out() -> bool:
        try:
            kubectl.run("-n", namespace, "set", "image", "deployment/web", "app=nginx:2")
            return True
        except KubectlError:
            return False

    wait_until("a rollout to pass", rolled_out, timeout=30, interval=1)


def test_deleting_the_policy_removes_its_binding(kubectl: Kubectl, namespace: str, relops):
    kubectl.apply(deployment(namespace))
    kubectl.apply(slo(namespace, "98.5"))
    kubectl.apply(policy(namespace))
    # A Deployment that never becomes available from the start.
    kubectl.run("-n", namespace, "patch", "deployment", "web", "--type=merge", "-p",
                '{"spec":{"template":{"spec":{"nodeSelector":{"relops.dev/e2e":"nowhere"}}}}}')
    wait_until("the binding", lambda: kubectl.exists(
        "validatingadmissionpolicybinding", binding_name(namespace)), timeout=200, interval=2)
    kubectl.run("-n", namespace, "delete", "errorbudgetpolicy", "tier1")
    wait_until("the binding to go", lambda: not kubectl.exists(
        "validatingadmissionpolicybinding", binding_name(namespace)), timeout=30)
