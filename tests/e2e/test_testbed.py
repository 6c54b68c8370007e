"""The test bed is a real cluster: each test checks one behaviour later e2e
tests rely on, against the real kube-apiserver, controller manager, scheduler,
etcd and kwok nodes started by tests/cluster/up."""

from __future__ import annotations

import base64
import json
import subprocess
import textwrap

import pytest

from kube import Kubectl, KubectlError, unique_name, wait_until


def deployment(name: str, namespace: str, replicas: int, image: str = "example/app:1") -> str:
    return textwrap.dedent(
        f"""\
        apiVersion: apps/v1
        kind: Deployment
        metadata: {{name: {name}, namespace: {namespace}}}
        spec:
          replicas: {replicas}
          selector: {{matchLabels: {{app: {name}}}}}
          template:
            metadata: {{labels: {{app: {name}}}}}
            spec:
              containers: [{{name: app, image: "{image}"}}]
        """
    )


def test_deployment_gets_ready_replicas_on_kwok_nodes_and_children_are_garbage_collected(
    kubectl: Kubectl, namespace: str
):
    kubectl.apply(deployment("web", namespace, replicas=3))

    def ready() -> bool:
        status = kubectl.get("deployment", "web", namespace)["status"]
        return status.get("readyReplicas") == 3 and status.get("availableReplicas") == 3

    wait_until("3 ready replicas", ready, timeout=90)
    pods = kubectl.get("pods", namespace=namespace)["items"]
    assert len(pods) == 3
    nodes = {pod["spec"]["nodeName"] for pod in pods}
    assert nodes and all(node.startswith("kwok-node-") for node in nodes), nodes
    assert all(pod["status"]["phase"] == "Running" for pod in pods)

    kubectl.run("delete", "deployment", "web", "-n", namespace, "--wait=false")
    wait_until(
        "the garbage collector to delete the ReplicaSet and its Pods",
        lambda: not kubectl.get("replicasets", namespace=namespace)["items"]
        and not kubectl.get("pods", namespace=namespace)["items"],
        timeout=90,
    )


def test_job_completes(kubectl: Kubectl, namespace: str):
    kubectl.apply(
        textwrap.dedent(
            f"""\
            apiVersion: batch/v1
            kind: Job
            metadata: {{name: once, namespace: {namespace}}}
            spec:
              backoffLimit: 0
              template:
                spec:
                  restartPolicy: Never
                  containers: [{{name: work, image: "example/work:1"}}]
            """
        )
    )
    kubectl.run(
        "wait", "--for=condition=Complete", "job/once", "-n", namespace, "--timeout=90s",
        timeout=100,
    )
    status = kubectl.get("job", "once", namespace)["status"]
    assert status["succeeded"] == 1
    assert "completionTime" in status


CRD_GROUP = "testbed.relops.dev"


@pytest.fixture
def widget_crd(kubectl: Kubectl):
    plural = unique_name("widgets").replace("-", "")
    name = f"{plural}.{CRD_GROUP}"
    kubectl.apply(
        textwrap.dedent(
            f"""\
            apiVersion: apiextensions.k8s.io/v1
            kind: CustomResourceDefinition
            metadata: {{name: {name}}}
            spec:
              group: {CRD_GROUP}
              scope: Namespaced
              names: {{plural: {plural}, singular: {plural[:-1]}, kind: W{plural[1:-1]}}}
              versions:
              - name: v1
                served: true
                storage: true
                schema:
                  openAPIV3Schema:
                    type: object
                    properties:
                      spec:
                        type: object
                        properties:
                          min: {{type: integer}}
                          max: {{type: integer}}
                        x-kubernetes-validations:
                        - rule: "self.min <= self.max"
                          message: "min must not exceed max"
            """
        )
    )
    kubectl.run("wait", "--for=condition=Established", f"crd/{name}", "--timeout=30s")
    yield plural, f"W{plural[1:-1]}"
    kubectl.run("delete", "crd", name, "--wait=false", check=False)


def test_crd_cel_rule_rejects_bad_object_with_its_message(
    kubectl: Kubectl, namespace: str, widget_crd
):
    plural, kind = widget_crd

    def widget(name: str, low: int, high: int) -> str:
        return (
            f"apiVersion: {CRD_GROUP}/v1\nkind: {kind}\n"
            f"metadata: {{name: {name}, namespace: {namespace}}}\n"
            f"spec: {{min: {low}, max: {high}}}\n"
        )

    # Discovery of a new CRD takes a moment to reach kubectl's cache.
    wait_until("the CRD to be served", lambda: kubectl.apply(widget("good", 1, 2)), timeout=30)
    with pytest.raises(KubectlError) as rejected:
        kubectl.apply(widget("bad", 5, 2))
    message = rejected.value.result.stderr
    assert "min must not exceed max" in message
    assert "Invalid value" in message
    assert not kubectl.exists(plural, "bad", namespace)


def test_validating_admission_policy_binding_freezes_pod_template(
    kubectl: Kubectl, namespace: str
):
    policy = unique_name("freeze")
    kubectl.apply(deployment("api", namespace, replicas=1))
    kubectl.apply(
        textwrap.dedent(
            f"""\
            apiVersion: admissionregistration.k8s.io/v1
            kind: ValidatingAdmissionPolicy
            metadata: {{name: {policy}}}
            spec:
              failurePolicy: Fail
              matchConstraints:
                resourceRules:
                - apiGroups: [apps]
                  apiVersions: [v1]
                  operations: [UPDATE]
                  resources: [deployments]
              validations:
              - expression: "object.spec.template == oldObject.spec.template"
                message: "pod template is frozen by the test policy"
            ---
            apiVersion: admissionregistration.k8s.io/v1
            kind: ValidatingAdmissionPolicyBinding
            metadata: {{name: {policy}}}
            spec:
              policyName: {policy}
              validationActions: [Deny]
              matchResources:
                namespaceSelector:
                  matchLabels: {{kubernetes.io/metadata.name: {namespace}}}
            """
        )
    )
    try:

        attempts = iter(range(2, 1000))

        def set_image() -> subprocess.CompletedProcess[str]:
            # A new tag on every attempt: re-setting the same image is no change
            # to the template, which the policy rightly lets through.
            return kubectl.run(
                "set", "image", "deployment/api", f"app=example/app:{next(attempts)}",
                "-n", namespace, check=False,
            )

        # Admission policies reach the API server's admission chain
        # asynchronously, so changes may pass until the policy is in force.
        denied = wait_until(
            "the policy to deny a pod template change",
            lambda: (r := set_image()).returncode != 0 and r,
            timeout=30,
        )
        assert "pod template is frozen by the test policy" in denied.stderr
        assert f"ValidatingAdmissionPolicy '{policy}' with binding '{policy}' denied" in denied.stderr
        frozen_image = kubectl.get("deployment", "api", namespace)["spec"]["template"]["spec"][
            "containers"][0]["image"]
        for _ in range(3):  # denied every time, not by chance
            assert set_image().returncode != 0
        template = kubectl.get("deployment", "api", namespace)["spec"]["template"]
        assert template["spec"]["containers"][0]["image"] == frozen_image

        # A change outside the pod template passes the same policy.
        kubectl.run("scale", "deployment/api", "--replicas=2", "-n", namespace)

        kubectl.run("delete", "validatingadmissionpolicybinding", policy)
        wait_until(
            "the pod template change to be allowed without the binding",
            lambda: set_image().returncode == 0,
            timeout=30,
        )
        template = kubectl.get("deployment", "api", namespace)["spec"]["template"]
        assert template["spec"]["containers"][0]["image"] != frozen_image
    finally:
        kubectl.run("delete", "validatingadmissionpolicybinding", policy, "--ignore-not-found",
                    check=False)
        kubectl.run("delete", "validatingadmissionpolicy", policy, "--ignore-not-found",
                    check=False)


def test_service_account_token_is_refused_what_its_role_does_not_grant(
    kubectl: Kubectl, namespace: str, tmp_path
):
    kubectl.apply(
        textwrap.dedent(
            f"""\
            apiVersion: v1
            kind: ServiceAccount
            metadata: {{name: reader, namespace: {namespace}}}
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: Role
            metadata: {{name: pod-reader, namespace: {namespace}}}
            rules:
            - apiGroups: [""]
              resources: [pods]
              verbs: [get, list, watch]
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: RoleBinding
            metadata: {{name: reader, namespace: {namespace}}}
            subjects: [{{kind: ServiceAccount, name: reader, namespace: {namespace}}}]
            roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-reader}}
            """
        )
    )
    token = kubectl.run("create", "token", "reader", "-n", namespace, "--duration=10m").stdout
    config = json.loads(kubectl.run("config", "view", "--raw", "-o", "json").stdout)
    cluster = config["clusters"][0]["cluster"]
    ca_file = tmp_path / "ca.crt"
    ca_file.write_bytes(base64.b64decode(cluster["certificate-authority-data"]))
    # An empty kubeconfig plus flags: the token is the only credential.
    as_reader = Kubectl(
        "/dev/null",
        ("--server", cluster["server"], "--certificate-authority", str(ca_file),
         "--token", token.strip()),
    )
    who = json.loads(as_reader.run("auth", "whoami", "-o", "json").stdout)
    assert who["status"]["userInfo"]["username"] == f"system:serviceaccount:{namespace}:reader"

    as_reader.run("get", "pods", "-n", namespace)  # granted

    for denied_args in (
        ("get", "secrets", "-n", namespace),
        ("create", "configmap", "x", "-n", namespace),
        ("get", "pods", "-n", "default"),
        ("delete", "pod", "any", "-n", namespace),
    ):
        result = as_reader.run(*denied_args, check=False)
        assert result.returncode != 0, denied_args
        assert "forbidden" in result.stderr.lower(), result.stderr
        assert f"system:serviceaccount:{namespace}:reader" in result.stderr
