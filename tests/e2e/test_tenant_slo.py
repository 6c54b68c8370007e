"""SLOs and error budget policies as a tenant sees them (issue 13): a user bound only to the
built-in `edit` role in team_a tries to make relops read, route or freeze beyond team_a, and to
exempt a change from a freeze without the permission to. relops is installed from the chart and
runs as its ServiceAccount (tenant.py).

- PromQL: an SLO in team_a whose selectors name team_b's series gets rules confined to
  team_a — every selector carries namespace="<team_a>", whatever it said.
- onCallRef: a rotation that exists only in team_b is not routed to; the SLO says
  OnCallRotationResolved=False (OnCallRotationNotFound) with one Warning, and once team_a has
  a rotation of that name the label is <team_a>/<name>.
- Freeze: a policy in team_a whose workloadSelector also matches team_b's workloads freezes
  only team_a's; the exemption annotation, set in the same patch as the image change, is
  denied without verb `exempt` on errorbudgetpolicies and passes once an admin binds the
  chart's freeze-exempt ClusterRole to the tenant. A selection of more workloads than a
  freeze names (64) is frozen by label, not cut short.
"""

from __future__ import annotations

import copy
import json
import random
import re

import pytest

import chaos
from kube import Kubectl, wait_until
from slo_support import condition, events, pod_template_change, rule_groups
from tenant import Tenancy, never, tenancy  # noqa: F401  (tenancy is a fixture)

EXEMPT = "relops.dev/freeze-exempt"


@pytest.fixture(scope="module")
def relops(tenancy: Tenancy):
    # ConfigMap rule output: the test reads the generated rule file whatever other tests
    # install (a PrometheusRule CRD would switch `auto`).
    return tenancy.start_relops("--rule-output=configmap", "--slo-refresh-interval=5s")


def apply_as(kubectl: Kubectl, obj: dict) -> None:
    kubectl.run("apply", "-f", "-", input=json.dumps(obj))


def ratio_slo(namespace: str, name: str, errors: str, total: str,
              on_call: str | None = None) -> dict:
    spec = {"service": name, "objective": "99.9", "window": "28d",
            "indicator": {"ratio": {"errors": errors, "total": total}}}
    if on_call:
        spec["onCallRef"] = {"name": on_call}
    return {"apiVersion": "relops.dev/v1alpha1", "kind": "ServiceLevelObjective",
            "metadata": {"name": name, "namespace": namespace}, "spec": spec}


SELECTOR = re.compile(r'[a-zA-Z_:][a-zA-Z0-9_:]*\{[^}]*\}')


def test_promql_naming_another_namespace_is_confined_to_its_own(tenancy: Tenancy, relops):
    a, b = tenancy.team_a, tenancy.team_b
    apply_as(tenancy.tenant, ratio_slo(
        a, "steal", errors=f'http_requests_total{{namespace="{b}",code=~"5.."}}',
        total=f'http_requests_total{{namespace=~"{b}|{a}"}}'))
    groups = wait_until("the SLO's rules", lambda: rule_groups(tenancy.admin, a, "steal"),
                        timeout=60)
    exprs = [rule["expr"] for group in groups for rule in group["rules"]]
    text = "\n".join(exprs)
    # Nowhere in the rule file — expressions, labels, annotations — is team_b named.
    configmap = tenancy.admin.get("configmap", "relops-slo-steal", a)
    assert b not in str(configmap["data"]), configmap["data"]
    # Every selector of the user's series (recorded series carry slo= instead) is confined.
    user = [s for s in SELECTOR.findall(text) if s.startswith("http_requests_total")]
    assert user and all(f'namespace="{a}"' in s for s in user), user
    assert all(s.count("namespace") == 1 for s in user), user
    slo = tenancy.admin.get("servicelevelobjective", "steal", a)
    assert condition(slo, "Ready").get("status") == "True", slo.get("status")


def rotation(namespace: str, name: str) -> dict:
    obj = chaos.rotation(namespace, name, random.Random(13))
    return obj


def test_on_call_ref_resolves_in_the_slos_namespace(tenancy: Tenancy, relops):
    a, b = tenancy.team_a, tenancy.team_b
    apply_as(tenancy.admin, rotation(b, "payments-primary"))
    apply_as(tenancy.tenant, ratio_slo(a, "routed", "http_requests_total{code=~\"5..\"}",
                                       "http_requests_total", on_call="payments-primary"))

    def not_found():
        slo = tenancy.admin.get("servicelevelobjective", "routed", a)
        resolved = condition(slo, "OnCallRotationResolved")
        return resolved if resolved.get("reason") == "OnCallRotationNotFound" else None

    resolved = wait_until("OnCallRotationResolved=False", not_found, timeout=60)
    assert resolved["status"] == "False"
    assert f"{a}/payments-primary does not exist" in resolved["message"]
    warnings = wait_until("the Warning", lambda: events(tenancy.admin, a,
                                                        "OnCallRotationNotFound"), timeout=30)
    assert [w["type"] for w in warnings] == ["Warning"]
    groups = rule_groups(tenancy.admin, a, "routed")
    labels = [rule.get("labels", {}) for group in groups for rule in group["rules"]
              if "alert" in rule]
    assert labels and not [lbl for lbl in labels if "oncall_rotation" in lbl], labels

    # The tenant's own rotation of that name: routed to it, by namespace and name.
    apply_as(tenancy.tenant, rotation(a, "payments-primary"))

    def routed():
        groups = rule_groups(tenancy.admin, a, "routed")
        values = {rule.get("labels", {}).get("oncall_rotation")
                  for group in groups for rule in group["rules"] if "alert" in rule}
        return values if values == {f"{a}/payments-primary"} else None

    wait_until("the label <team_a>/payments-primary", routed, timeout=60)
    slo = tenancy.admin.get("servicelevelobjective", "routed", a)
    assert condition(slo, "OnCallRotationResolved")["status"] == "True"
    assert len(events(tenancy.admin, a, "OnCallRotationNotFound")) == 1


def labelled_app(namespace: str) -> dict:
    app = copy.deepcopy(chaos.frozen_app(namespace))
    app["metadata"]["labels"] = {"tier": "1"}
    return app


@pytest.fixture(scope="module")
def frozen(tenancy: Tenancy, relops):
    """team_a and team_b each run an unavailable frozen-app labelled tier=1 with a spent
    workload SLO; only team_a has an ErrorBudgetPolicy, and its workloadSelector (tier=1)
    would match team_b's app too."""
    a, b = tenancy.team_a, tenancy.team_b
    apply_as(tenancy.tenant, labelled_app(a))
    apply_as(tenancy.tenant, chaos.workload_slo(a))
    apply_as(tenancy.admin, labelled_app(b))
    apply_as(tenancy.admin, chaos.workload_slo(b))
    policy = chaos.policy(a, "tier1", random.Random(1))
    policy["spec"]["sloSelector"]["matchLabels"]["tier"] = "1"
    policy["spec"]["workloadSelector"] = {"matchLabels": {"tier": "1"}}
    apply_as(tenancy.tenant, policy)

    def frozen_status():
        status = tenancy.admin.get("errorbudgetpolicy", "tier1", a).get("status", {})
        return status if status.get("frozenCount") == 1 else None

    status = wait_until("team_a's freeze", frozen_status, timeout=200, interval=2)
    assert condition({"status": status}, "Frozen").get("status") == "True", status
    # The budget of team_b's SLO is spent as well: only a policy could freeze its app.
    wait_until("team_b's budget spent", lambda: chaos.budget_spent(
        tenancy.admin.get("servicelevelobjective", chaos.WORKLOAD_SLO, b)), timeout=120)
    return status


def test_a_freeze_freezes_only_its_own_namespace(tenancy: Tenancy, frozen):
    a, b = tenancy.team_a, tenancy.team_b
    assert frozen["activeFreezes"][0]["workloads"] == [f"Deployment/{chaos.FROZEN_APP}"]
    bindings = [item for item in tenancy.admin.get("validatingadmissionpolicybindings")["items"]
                if item["metadata"].get("labels", {}).get("relops.dev/policy-namespace")
                in (a, b)]
    # The named binding and, the policy having a workloadSelector, the one for Argo Rollouts:
    # both select team_a only.
    assert sorted(item["metadata"]["name"].rsplit(".", 1)[-1] for item in bindings) == [
        "rollouts", "tier1"], bindings
    assert [item["spec"]["matchResources"]["namespaceSelector"] for item in bindings] == [
        {"matchLabels": {"kubernetes.io/metadata.name": a}}] * 2, bindings

    # team_a's app is frozen for the tenant ...
    message = wait_until("team_a's rollout to be denied", lambda: pod_template_change(
        tenancy.tenant, a, chaos.FROZEN_APP, "busybox:2", dry_run=True), timeout=30, interval=1)
    assert "change freeze" in message and chaos.WORKLOAD_SLO in message, message
    # ... and team_b's, matched by the same labels, is not.
    never("team_b's rollout denied", lambda: pod_template_change(
        tenancy.admin, b, chaos.FROZEN_APP, "busybox:2", dry_run=True), seconds=3)


def test_an_exemption_needs_the_exempt_permission(tenancy: Tenancy, frozen):
    a = tenancy.team_a
    assert not tenancy.tenant_may("exempt", "errorbudgetpolicies.relops.dev", a)
    # The annotation in the very patch that changes the image: denied without the permission.
    message = wait_until("the exempted rollout to be denied", lambda: pod_template_change(
        tenancy.tenant, a, chaos.FROZEN_APP, "busybox:2", {EXEMPT: "INC-1"}, dry_run=True),
        timeout=30, interval=1)
    assert "change freeze" in message and "exempt errorbudgetpolicies.relops.dev" in message
    image = tenancy.admin.get("deployment", chaos.FROZEN_APP, a)["spec"]["template"]["spec"][
        "containers"][0]["image"]
    assert image == "busybox"

    # An admin grants the chart's freeze-exempt ClusterRole to the tenant in team_a.
    [role] = [d for d in tenancy.chart if d["kind"] == "ClusterRole"
              and d["metadata"]["name"].endswith("-freeze-exempt")]
    tenancy.admin.run("create", "rolebinding", "tenant-freeze-exempt", "-n", a,
                      f"--clusterrole={role['metadata']['name']}",
                      f"--serviceaccount={a}:tenant")
    wait_until("the tenant may exempt", lambda: tenancy.tenant_may(
        "exempt", "errorbudgetpolicies.relops.dev", a), timeout=30)
    wait_until("the exempted rollout to pass", lambda: pod_template_change(
        tenancy.tenant, a, chaos.FROZEN_APP, "busybox:2", {EXEMPT: "INC-1"}) == "",
        timeout=30, interval=1)
    image = tenancy.admin.get("deployment", chaos.FROZEN_APP, a)["spec"]["template"]["spec"][
        "containers"][0]["image"]
    assert image == "busybox:2"
    # The permission alone exempts nothing: a change that drops the annotation is frozen.
    assert "change freeze" in pod_template_change(
        tenancy.tenant, a, chaos.FROZEN_APP, "busybox:3", {EXEMPT: None}, dry_run=True)


def test_a_selection_larger_than_a_binding_names_is_frozen_by_label(tenancy: Tenancy, frozen):
    """65 more workloads match the policy's workloadSelector: more than a freeze lists by
    name (64). The freeze is not cut short: a second binding freezes them by label, in
    team_a only."""
    a, b = tenancy.team_a, tenancy.team_b
    many = []
    for i in range(65):
        app = labelled_app(a)
        app["metadata"]["name"] = f"bulk-{i}"
        app["spec"]["replicas"] = 0
        app["spec"]["selector"]["matchLabels"]["app"] = f"bulk-{i}"
        app["spec"]["template"]["metadata"]["labels"]["app"] = f"bulk-{i}"
        many.append(app)
    apply_as(tenancy.tenant, {"apiVersion": "v1", "kind": "List", "items": many})

    def by_selector():
        status = tenancy.admin.get("errorbudgetpolicy", "tier1", a).get("status", {})
        freezes = status.get("activeFreezes", [])
        return freezes[0] if freezes and freezes[0].get("bySelector") else None

    freeze = wait_until("the freeze by selector", by_selector, timeout=60)
    assert freeze["workloads"] == [f"Deployment/{chaos.FROZEN_APP}"], freeze
    bindings = [item for item in tenancy.admin.get("validatingadmissionpolicybindings")["items"]
                if item["metadata"].get("labels", {}).get("relops.dev/policy-namespace") == a]
    selector = [item for item in bindings if item["metadata"]["name"].endswith(".selector")]
    assert len(selector) == 1, [item["metadata"]["name"] for item in bindings]
    match = selector[0]["spec"]["matchResources"]
    assert match["objectSelector"] == {"matchLabels": {"tier": "1"}}
    assert match["namespaceSelector"] == {"matchLabels": {"kubernetes.io/metadata.name": a}}

    # The 65th workload, which no list names, is frozen; team_b's look-alike is not.
    message = wait_until("bulk-64's rollout to be denied", lambda: pod_template_change(
        tenancy.tenant, a, "bulk-64", "busybox:2", dry_run=True), timeout=30, interval=1)
    assert "change freeze" in message, message
    assert not pod_template_change(tenancy.admin, b, chaos.FROZEN_APP, "busybox:2", dry_run=True)


def test_a_policy_named_253_characters_freezes_with_a_valid_binding(tenancy: Tenancy, frozen):
    """Policy names may be 253 characters; the binding's name and labels are cut and hashed
    so the API server accepts it, and the status says Frozen only once it is applied."""
    a = tenancy.team_a
    name = ("long-" + "x" * 240 + ".policy")[:253]
    policy = chaos.policy(a, name, random.Random(2))
    policy["spec"]["sloSelector"]["matchLabels"]["tier"] = "1"
    apply_as(tenancy.tenant, policy)

    def frozen_condition():
        found = condition(tenancy.admin.get("errorbudgetpolicy", name, a), "Frozen")
        return found if found.get("reason") in ("BudgetSpent", "FreezeNotEnforced") else None

    found = wait_until("the long-named policy's freeze", frozen_condition, timeout=60)
    assert found["status"] == "True" and found["reason"] == "BudgetSpent", found
    bindings = [item for item in tenancy.admin.get("validatingadmissionpolicybindings")["items"]
                if item["metadata"].get("annotations", {}).get("relops.dev/policy-name") == name]
    assert len(bindings) == 1, bindings
    binding = bindings[0]["metadata"]
    assert len(binding["name"]) <= 253 and binding["name"].startswith("relops.dev-freeze.")
    assert all(len(value) <= 63 for value in binding["labels"].values()), binding["labels"]
    assert not events(tenancy.admin, a, "FreezeNotEnforced")
