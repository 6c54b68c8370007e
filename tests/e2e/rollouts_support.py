"""Argo Rollouts for the freeze tests: the Rollout CRD from the Argo Rollouts Go module (through
the Go module proxy, as the Velero CRDs are fetched), and a pod-template change of a custom
resource. No Argo controller runs here: a Rollout is only stored, which is all admission needs.
The CRD is applied server-side and left installed (other tests may be using it)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from kube import Kubectl, KubectlError, wait_until

ARGO_ROLLOUTS_MODULE = "github.com/argoproj/argo-rollouts@v1.8.3"


def install_rollout_crd(kubectl: Kubectl) -> None:
    module = json.loads(subprocess.run(
        ["go", "mod", "download", "-json", ARGO_ROLLOUTS_MODULE],
        check=True, capture_output=True, text=True, timeout=600,
    ).stdout)
    crd = Path(module["Dir"]) / "manifests" / "crds" / "rollout-crd.yaml"
    kubectl.run("apply", "--server-side", "-f", str(crd))

    def established() -> bool:
        status = kubectl.get("crd", "rollouts.argoproj.io").get("status") or {}
        conditions = status.get("conditions") or []
        return any(c["type"] == "Established" and c["status"] == "True" for c in conditions)

    wait_until("the Rollout CRD established", established, timeout=60)
    wait_until("Rollouts in discovery", lambda: "rollouts" in kubectl.run(
        "api-resources", "--api-group=argoproj.io").stdout, timeout=30)


def patch_image(kubectl: Kubectl, namespace: str, resource: str, name: str, image: str) -> str:
    """'' when the API server accepts a new image for the first container of the pod template
    (a server-side dry run: admission runs, nothing is stored), else its refusal. `kubectl set
    image` knows only built-in kinds."""
    patch = json.dumps([{"op": "replace", "path": "/spec/template/spec/containers/0/image",
                         "value": image}])
    try:
        kubectl.run("-n", namespace, "patch", resource, name, "--type=json", "-p", patch,
                    "--dry-run=server")
        return ""
    except KubectlError as error:
        return str(error)


def rollout(namespace: str, name: str, labels: dict[str, str]) -> str:
    """A Rollout (canary, one step) whose pods are never scheduled."""
    return json.dumps({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                 "strategy": {"canary": {"steps": [{"setWeight": 20}]}},
                 "template": {"metadata": {"labels": {"app": name}},
                              "spec": {"nodeSelector": {"relops.dev/e2e": "nowhere"},
                                       "containers": [{"name": "app", "image": "nginx:1"}]}}}})
