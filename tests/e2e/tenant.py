"""A shared cluster as a tenant sees it: relops installed from the chart (its RBAC on the chart's
defaults) and running as the chart's ServiceAccount, two team namespaces, and a tenant who holds
only the built-in `edit` role in `team_a`. The test_tenant_*.py suites act as that tenant and try
to make relops do what RBAC forbids them.

relops runs out of cluster, authenticated with a token of its ServiceAccount, watching only the
two team namespaces so that other e2e tests running at the same time are not touched.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pytest

from install_support import (CHART, documents, helm, service_account_kubeconfig, wait_ready)
from kube import Kubectl, unique_name, wait_until
from relops_process import Operator

# The objects of the chart that make up relops's identity and RBAC; the Deployment is replaced
# by the out-of-cluster process, and the Service, PDB and NetworkPolicy play no part here.
IDENTITY_KINDS = {"ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"}


@dataclass
class Tenancy:
    admin: Kubectl                 # cluster admin: sets the scene and checks what happened
    tenant: Kubectl                # the tenant: `edit` in team_a, nothing else
    team_a: str                    # the tenant's namespace
    team_b: str                    # another team's namespace
    system: str                    # where relops's ServiceAccount lives
    release: str                   # the chart's release name (prefix of its cluster objects)
    relops_kubeconfig: str         # authenticates as relops's ServiceAccount
    chart: list[dict[str, Any]]    # the rendered chart
    workdir: Path
    started: list[Operator] = field(default_factory=list)

    def deployment_args(self) -> list[str]:
        """The relops container's flags as the chart renders them, without bind addresses."""
        [deployment] = [d for d in self.chart if d["kind"] == "Deployment"]
        [container] = deployment["spec"]["template"]["spec"]["containers"]
        return [arg for arg in container["args"] if not arg.startswith(
            ("--metrics-bind-address", "--health-probe-bind-address", "--watch-namespace"))]

    def start_relops(self, *flags: str, metrics_secure: bool = False) -> Operator:
        """relops as the chart's ServiceAccount with the chart's flags plus `flags`, watching
        the two team namespaces; waits for /readyz. `metrics_secure`: the test reaches the
        metrics listener over HTTPS, as the chart serves it."""
        op = Operator(self.relops_kubeconfig, self.workdir / f"relops-{len(self.started)}.log",
                      *self.deployment_args(), "--watch-namespace", self.team_a,
                      "--watch-namespace", self.team_b, *flags,
                      env={"POD_NAMESPACE": self.system}, metrics_secure=metrics_secure)
        self.started.append(op)
        wait_ready(op)
        return op

    def tenant_may(self, verb: str, resource: str, namespace: str) -> bool:
        result = self.tenant.run("auth", "can-i", verb, resource, "-n", namespace, check=False)
        return result.stdout.strip() == "yes"


def refused(result) -> str:
    """The API server's refusal text of a failed kubectl call (asserts it failed)."""
    assert result.returncode != 0, f"expected a refusal, got success:\n{result.stdout}"
    return result.stderr


@pytest.fixture(scope="module")
def tenancy(kubectl: Kubectl, crds, tmp_path_factory) -> Tenancy:
    workdir = tmp_path_factory.mktemp("tenancy")
    release = unique_name("relops")
    system = unique_name("relops-system")
    team_a = unique_name("team-a")
    team_b = unique_name("team-b")
    for ns in (system, team_a, team_b):
        kubectl.run("create", "namespace", ns)

    chart = documents(helm("template", release, str(CHART), "-n", system,
                           "--set", "crds.enabled=false").stdout)
    identity = [d for d in chart if d["kind"] in IDENTITY_KINDS]
    for doc in identity:
        if doc["kind"] in ("ServiceAccount", "Role", "RoleBinding"):
            doc["metadata"]["namespace"] = system
    kubectl.run("apply", "-f", "-", input="\n---\n".join(_dump(d) for d in identity))
    [sa] = [d for d in identity if d["kind"] == "ServiceAccount"]
    relops_kubeconfig = service_account_kubeconfig(kubectl, system, sa["metadata"]["name"],
                                                   workdir / "relops.kubeconfig")

    # The tenant: a ServiceAccount bound to the built-in `edit` ClusterRole in team_a only.
    kubectl.run("create", "serviceaccount", "tenant", "-n", team_a)
    kubectl.run("create", "rolebinding", "tenant-edit", "--clusterrole=edit",
                f"--serviceaccount={team_a}:tenant", "-n", team_a)
    tenant = Kubectl(service_account_kubeconfig(kubectl, team_a, "tenant",
                                                workdir / "tenant.kubeconfig"))
    found = Tenancy(admin=kubectl, tenant=tenant, team_a=team_a, team_b=team_b, system=system,
                    release=release, relops_kubeconfig=relops_kubeconfig, chart=chart,
                    workdir=workdir)
    # The chart's roles aggregate into `edit` through the controller manager's aggregation
    # controller: wait until the tenant holds them.
    wait_until("relops kinds aggregated into edit",
               lambda: found.tenant_may("create", "drdrills.relops.dev", team_a), timeout=60)
    yield found

    for op in found.started:
        if op.alive():
            op.stop()
    for ns in (team_a, team_b, system):
        kubectl.run("delete", "namespace", ns, "--wait=false", check=False)
    for doc in identity:
        if doc["kind"] in ("ClusterRole", "ClusterRoleBinding"):
            kubectl.run("delete", doc["kind"], doc["metadata"]["name"], "--ignore-not-found",
                        check=False)


def _dump(doc: dict[str, Any]) -> str:
    import yaml
    return yaml.safe_dump(doc)


def never(what: str, condition: Callable[[], Any], seconds: float = 5) -> None:
    """Asserts that `condition` stays falsy for `seconds` (something must not happen)."""
    import time
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        assert not value, f"{what}: {value}"
        time.sleep(0.5)
