"""Installing relops with plain manifests, as the README says:

    kubectl apply --server-side -f crds/
    kubectl apply -k deploy/

then relops runs out of cluster as the `relops` ServiceAccount those manifests create, its
controllers make every controlled kind Ready (`kubectl wait --for=condition=Ready`, what Flux's
kstatus reads too), and the ServiceAccount cannot read Secrets. deploy/ installs the fixed
namespace relops-system and cluster-wide roles named relops, so the module runs alone
(RUN_SERIAL) and removes them with `kubectl delete -k deploy/` at the end.
"""

from __future__ import annotations

import pytest
import yaml

from install_support import (CRDS, DEPLOY, assert_cannot_read_secrets,
                             assert_controllers_make_ready, assert_no_forbidden_requests, find,
                             service_account_kubeconfig, start_as_service_account, wait_ready)
from kube import Kubectl, unique_name

NAMESPACE = "relops-system"


@pytest.fixture(scope="module")
def installed(kubectl: Kubectl, tmp_path_factory):
    # --force-conflicts: the CRDs may have been created by another field manager (Helm in
    # test_install_helm.py); the files in crds/ win, as they would in an upgrade.
    kubectl.run("apply", "--server-side", "--force-conflicts", "-f", str(CRDS))
    crds = [yaml.safe_load(p.read_text())["metadata"]["name"] for p in CRDS.glob("*.yaml")]
    kubectl.run("wait", "--for=condition=Established", "--timeout=60s",
                *[f"crd/{name}" for name in crds], timeout=70)
    kubectl.run("apply", "-k", str(DEPLOY))
    users = unique_name("e2e-team")
    kubectl.run("create", "namespace", users)
    yield {"users": users, "tmp": tmp_path_factory.mktemp("kustomize")}
    kubectl.run("delete", "namespace", users, "--wait=false", check=False)
    kubectl.run("delete", "-k", str(DEPLOY), "--ignore-not-found", "--timeout=120s",
                timeout=150, check=False)


def manifests() -> list[dict]:
    return [d for d in yaml.safe_load_all((DEPLOY / "relops.yaml").read_text()) if d]


def test_apply_creates_everything(kubectl: Kubectl, installed):
    objects = manifests()
    assert {d["kind"] for d in objects} >= {"ServiceAccount", "ClusterRole", "ClusterRoleBinding",
                                            "Role", "RoleBinding", "Service", "Deployment"}
    for doc in objects:
        assert kubectl.exists(doc["kind"], doc["metadata"]["name"],
                              doc["metadata"].get("namespace")), doc["metadata"]
    namespace = kubectl.get("namespace", NAMESPACE)
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    # The namespace enforces the restricted standard and the pods are still admitted and run.
    kubectl.run("rollout", "status", "deployment/relops", "-n", NAMESPACE, "--timeout=120s",
                timeout=130)


def test_relops_runs_as_the_service_account(kubectl: Kubectl, installed):
    deployment = find(manifests(), "Deployment")
    service_account = deployment["spec"]["template"]["spec"]["serviceAccountName"]
    sa_kubeconfig = service_account_kubeconfig(kubectl, NAMESPACE, service_account,
                                               installed["tmp"] / "sa.kubeconfig")
    assert_cannot_read_secrets(kubectl, sa_kubeconfig, NAMESPACE)
    op = start_as_service_account(kubectl, sa_kubeconfig, deployment, NAMESPACE,
                                  installed["tmp"] / "relops.log")
    try:
        wait_ready(op)
        assert_controllers_make_ready(kubectl, installed["users"])
        assert op.metric("rest_client_requests_total", code="200") > 0
        assert_no_forbidden_requests(op)
    finally:
        op.stop()
