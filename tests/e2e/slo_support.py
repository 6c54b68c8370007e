"""Helpers the SLO and freeze e2e suites share: Events by reason, conditions, the rule file
relops generated for an SLO, and whether the API server denies a pod-template change."""

from __future__ import annotations

import json
from typing import Any

import yaml

from kube import Kubectl, KubectlError


def events(kubectl: Kubectl, namespace: str, reason: str) -> list[dict]:
    items = kubectl.get("events.events.k8s.io", namespace=namespace)["items"]
    return [e for e in items if e.get("reason") == reason]


def condition(obj: dict[str, Any], kind: str) -> dict[str, Any]:
    for item in obj.get("status", {}).get("conditions", []):
        if item["type"] == kind:
            return item
    return {}


def rule_groups(kubectl: Kubectl, namespace: str, slo: str) -> list[dict[str, Any]] | None:
    """The rule groups of the ConfigMap relops generated for an SLO (--rule-output
    configmap), or None while there is none."""
    if not kubectl.exists("configmap", f"relops-slo-{slo}", namespace):
        return None
    configmap = kubectl.get("configmap", f"relops-slo-{slo}", namespace)
    return yaml.safe_load(configmap["data"][f"{slo}.rules.yaml"])["groups"]


def pod_template_change(kubectl: Kubectl, namespace: str, deployment: str, image: str,
                        annotations: dict[str, str | None] | None = None,
                        dry_run: bool = False) -> str:
    """Changes the first container's image (and sets `annotations` in the same patch, None
    removing one); returns "" when the API server accepts it, its refusal otherwise."""
    patch: dict[str, Any] = {"spec": {"template": {"spec": {"containers": [
        {"name": "app", "image": image}]}}}}
    if annotations:
        patch["metadata"] = {"annotations": annotations}
    args = ["-n", namespace, "patch", "deployment", deployment, "--type=strategic",
            "-p", json.dumps(patch)]
    if dry_run:
        args.append("--dry-run=server")
    try:
        kubectl.run(*args)
    except KubectlError as error:
        return error.result.stderr.strip() or str(error)
    return ""


def workload_status(kubectl: Kubectl, namespace: str, slo: str) -> dict[str, Any] | None:
    """The SLO's status once it carries a workload ledger, else None."""
    status = kubectl.get("servicelevelobjective", slo, namespace).get("status", {})
    return status if status.get("workload") else None
