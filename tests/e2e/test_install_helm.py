"""Installing relops with Helm, on the test cluster, the way a platform team does.

In order: `helm install` creates every object of the chart (CRDs included); relops then runs out
of cluster authenticated as the chart's ServiceAccount (a `kubectl create token` token), takes
its Lease, and its controllers make every controlled kind Ready, while that ServiceAccount
cannot read Secrets; `helm upgrade` to a chart whose CRD changed applies the change; `helm
uninstall` with `crds.keep` leaves the CRDs and the users' objects.

Helm takes ownership of the CRDs, so the module starts by deleting the relops CRDs other tests
applied, and ends by re-applying crds/ server-side; it runs alone (RUN_SERIAL).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from install_support import (CHART, CONTROLLED_KINDS, CRDS, RELOPS_RESOURCES,
                             assert_cannot_read_secrets, assert_controllers_make_ready,
                             assert_no_forbidden_requests, documents, find, helm,
                             service_account_kubeconfig, start_as_service_account, wait_ready)
from kube import Kubectl, unique_name, wait_until

CRD_NAMES = sorted(yaml.safe_load(p.read_text())["metadata"]["name"]
                   for p in CRDS.glob("*.yaml"))


def delete_relops_crds(kubectl: Kubectl) -> None:
    kubectl.run("delete", "crd", *CRD_NAMES, "--ignore-not-found", "--timeout=120s",
                timeout=150)


@pytest.fixture(scope="module")
def release(kubectl: Kubectl, tmp_path_factory):
    """A release name and namespace; the CRDs are Helm's for the module's duration."""
    delete_relops_crds(kubectl)
    name = unique_name("relops")
    namespace = unique_name("relops-system")
    users = unique_name("e2e-team")
    kubectl.run("create", "namespace", users)
    yield {"name": name, "namespace": namespace, "users": users,
           "tmp": tmp_path_factory.mktemp("helm")}
    helm("uninstall", name, "-n", namespace, "--wait", check=False,
         kubeconfig=kubectl.kubeconfig)
    for ns in (namespace, users):
        kubectl.run("delete", "namespace", ns, "--wait=false", check=False)
    # Leave the cluster as the other e2e tests expect it: crds/ applied server-side, whatever
    # Helm or the upgrade below left.
    kubectl.run("apply", "--server-side", "--force-conflicts", "-f", str(CRDS))


def installed_manifest(kubectl: Kubectl, release) -> list[dict]:
    return documents(helm("get", "manifest", release["name"], "-n", release["namespace"],
                          kubeconfig=kubectl.kubeconfig).stdout)


def test_install_creates_everything(kubectl: Kubectl, release):
    helm("install", release["name"], str(CHART), "-n", release["namespace"], "--create-namespace",
         # Two replicas: leader election on, so the Lease Role is exercised below.
         "--set", "replicaCount=2,podDisruptionBudget.enabled=true,networkPolicy.enabled=true",
         "--wait", "--timeout=180s", timeout=240, kubeconfig=kubectl.kubeconfig)
    manifest = installed_manifest(kubectl, release)
    kinds = sorted({d["kind"] for d in manifest})
    assert kinds == sorted(["CustomResourceDefinition", "ServiceAccount", "ClusterRole",
                            "ClusterRoleBinding", "Role", "RoleBinding", "Service", "Deployment",
                            "PodDisruptionBudget", "NetworkPolicy",
                            "ConfigMap"])  # the Grafana dashboards
    for doc in manifest:
        namespace = doc["metadata"].get("namespace")
        assert kubectl.exists(doc["kind"], doc["metadata"]["name"], namespace), doc["metadata"]
    crds = [d["metadata"]["name"] for d in manifest if d["kind"] == "CustomResourceDefinition"]
    assert sorted(crds) == CRD_NAMES
    kubectl.run("wait", "--for=condition=Established", "--timeout=60s",
                *[f"crd/{name}" for name in crds], timeout=70)
    # kwok's nodes run the pods (Running and Ready without a container runtime).
    kubectl.run("rollout", "status", f"deployment/{release['name']}", "-n", release["namespace"],
                "--timeout=120s", timeout=130)
    # `kubectl get relops` lists every kind, through the category the CRDs declare.
    names = kubectl.run("api-resources", "--categories=relops", "-o", "name").stdout.split()
    assert sorted(names) == sorted(f"{r}.relops.dev" for r in RELOPS_RESOURCES), names


def test_relops_runs_as_the_service_account(kubectl: Kubectl, release):
    namespace = release["namespace"]
    manifest = installed_manifest(kubectl, release)
    deployment = find(manifest, "Deployment")
    service_account = deployment["spec"]["template"]["spec"]["serviceAccountName"]
    sa_kubeconfig = service_account_kubeconfig(kubectl, namespace, service_account,
                                               release["tmp"] / "sa.kubeconfig")
    assert_cannot_read_secrets(kubectl, sa_kubeconfig, namespace)

    assert "--leader-elect" in deployment["spec"]["template"]["spec"]["containers"][0]["args"]
    op = start_as_service_account(kubectl, sa_kubeconfig, deployment, namespace,
                                  release["tmp"] / "relops.log")
    try:
        wait_ready(op)
        wait_until("relops to lead", op.leading, timeout=60)
        lease = kubectl.get("lease", f"{release['name']}-leader.relops.dev", namespace)
        assert lease["spec"]["holderIdentity"]
        assert_controllers_make_ready(kubectl, release["users"])
        assert op.metric("rest_client_requests_total", code="200") > 0
        assert_no_forbidden_requests(op)
    finally:
        op.stop()


def changed_chart(tmp: Path) -> Path:
    """The chart with one CRD changed: OnCallRotation gets a Zone printer column."""
    chart = tmp / "relops"
    shutil.copytree(CHART, chart)
    crd = chart / "templates" / "crds" / "relops.dev_oncallrotations.yaml"
    text = crd.read_text()
    anchor = "      additionalPrinterColumns:\n"
    assert text.count(anchor) == 1
    crd.write_text(text.replace(anchor, anchor + (
        "        - name: Zone\n"
        "          type: string\n"
        "          jsonPath: .spec.timeZone\n")))
    chart_yaml = chart / "Chart.yaml"
    chart_yaml.write_text(chart_yaml.read_text().replace("version: 0.1.0", "version: 0.1.1"))
    return chart


def printer_columns(kubectl: Kubectl) -> list[str]:
    crd = kubectl.get("crd", "oncallrotations.relops.dev")
    return [c["name"] for c in crd["spec"]["versions"][0]["additionalPrinterColumns"]]


def test_upgrade_applies_a_changed_crd(kubectl: Kubectl, release):
    assert "Zone" not in printer_columns(kubectl)
    helm("upgrade", release["name"], str(changed_chart(release["tmp"])), "-n",
         release["namespace"], "--reuse-values", "--wait", "--timeout=180s", timeout=240,
         kubeconfig=kubectl.kubeconfig)
    assert "Zone" in printer_columns(kubectl)
    # The column is served: kubectl prints it for the rotation the controller test created.
    # The API server picks up a changed CRD a moment after the update.
    table = wait_until("the Zone column to be served", lambda: (t := kubectl.run(
        "get", "oncallrotations", "-n", release["users"]).stdout) and
        "ZONE" in t.splitlines()[0] and t, timeout=30)
    assert "Asia/Kolkata" in table, table


def test_uninstall_keeps_crds_and_objects(kubectl: Kubectl, release):
    users = release["users"]
    before = {c.resource: kubectl.get(c.resource, namespace=users)["items"]
              for c in CONTROLLED_KINDS}
    assert all(before.values())
    helm("uninstall", release["name"], "-n", release["namespace"], "--wait", timeout=180,
         kubeconfig=kubectl.kubeconfig)
    assert not kubectl.exists("deployment", release["name"], release["namespace"])
    assert not kubectl.exists("clusterrole", release["name"])
    for name in CRD_NAMES:
        assert kubectl.exists("crd", name), name
    for resource, items in before.items():
        after = kubectl.get(resource, namespace=users)["items"]
        assert [i["metadata"]["uid"] for i in after] == [i["metadata"]["uid"] for i in items]
