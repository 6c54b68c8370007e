"""The chart with `controller.watchNamespaces`: relops's rights inside namespaces come from a Role
in each watched namespace instead of a cluster-wide grant, and that is enough for every controller.
With `controller.ruleOutput=prometheusrule` relops cannot write a ConfigMap anywhere.

relops runs out of cluster as the chart's ServiceAccount, with the rendered Deployment's flags.
"""

from __future__ import annotations

import yaml

from install_support import (CHART, assert_controllers_make_ready, assert_no_forbidden_requests,
                             documents, helm, service_account_kubeconfig, start_as_service_account,
                             wait_ready)
from kube import Kubectl, unique_name

IDENTITY_KINDS = {"ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"}


def render(release: str, system: str, *values: str) -> list[dict]:
    return documents(helm("template", release, str(CHART), "-n", system,
                          "--set", "crds.enabled=false", *values).stdout)


def can_i(as_sa: Kubectl, verb: str, resource: str, *scope: str) -> bool:
    result = as_sa.run("auth", "can-i", verb, resource, *scope, check=False)
    return result.stdout.strip() == "yes"


def test_watched_namespaces_get_roles_and_nothing_else(kubectl: Kubectl, crds, tmp_path):
    release, system = unique_name("relops"), unique_name("relops-system")
    watched, other = unique_name("e2e-watched"), unique_name("e2e-other")
    for ns in (system, watched, other):
        kubectl.run("create", "namespace", ns)
    docs = render(release, system, "--set", f"controller.watchNamespaces={{{watched}}}")
    identity = [d for d in docs if d["kind"] in IDENTITY_KINDS]
    roles = [d for d in identity if d["kind"] == "Role"
             and d["metadata"]["namespace"] == watched]
    assert len(roles) == 1, "one Role in the watched namespace"
    try:
        for doc in identity:
            if doc["kind"] in ("ServiceAccount", "Role", "RoleBinding"):
                doc["metadata"].setdefault("namespace", system)
        kubectl.run("apply", "-f", "-",
                    input="\n---\n".join(yaml.safe_dump(d) for d in identity))
        [sa] = [d for d in identity if d["kind"] == "ServiceAccount"]
        as_sa = Kubectl(service_account_kubeconfig(kubectl, system, sa["metadata"]["name"],
                                                   tmp_path / "sa.kubeconfig"))
        # Inside the watched namespace it may do its work; outside it, not the namespaced part.
        for verb, resource, *sub in [("create", "jobs.batch"), ("patch", "configmaps"),
                                     ("patch", "servicelevelobjectives.relops.dev",
                                      "--subresource=status"),
                                     ("patch", "deployments.apps", "--subresource=scale"),
                                     ("list", "drdrills.relops.dev")]:
            assert can_i(as_sa, verb, resource, *sub, "-n", watched), (verb, resource)
            assert not can_i(as_sa, verb, resource, *sub, "-n", other), (verb, resource)
            assert not can_i(as_sa, verb, resource, *sub, "-A"), (verb, resource)
        assert not can_i(as_sa, "get", "secrets", "-n", watched)

        [deployment] = [d for d in docs if d["kind"] == "Deployment"]
        op = start_as_service_account(kubectl, as_sa.kubeconfig, deployment, system,
                                      tmp_path / "relops.log")
        wait_ready(op)
        assert_controllers_make_ready(kubectl, watched)
        assert_no_forbidden_requests(op)
        op.stop()
    finally:
        for ns in (watched, other, system):
            kubectl.run("delete", "namespace", ns, "--wait=false", check=False)
        for doc in identity:
            if doc["kind"] in ("ClusterRole", "ClusterRoleBinding"):
                kubectl.run("delete", doc["kind"], doc["metadata"]["name"], "--ignore-not-found",
                            check=False)


def test_configmap_writes_only_where_an_output_may_use_them():
    # SLO rules and on-call routing may each go to ConfigMaps; only with both outputs set to
    # their CRDs can relops write no ConfigMap.
    for docs, expect in [(render("relops", "relops-system"), True),
                         (render("relops", "relops-system", "--set",
                                 "controller.ruleOutput=prometheusrule"), True),
                         (render("relops", "relops-system", "--set",
                                 "controller.routingOutput=alertmanagerconfig"), True),
                         (render("relops", "relops-system", "--set",
                                 "controller.ruleOutput=prometheusrule", "--set",
                                 "controller.routingOutput=alertmanagerconfig"), False)]:
        [role] = [d for d in docs if d["kind"] == "ClusterRole"
                  and d["metadata"]["name"] == "relops"]
        writes = [r for r in role["rules"] if "configmaps" in r.get("resources", [])
                  and {"create", "patch", "delete"} & set(r["verbs"])]
        assert bool(writes) == expect, role["rules"]
