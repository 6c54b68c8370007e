"""Velero for the drill e2e tests: its real Backup and Restore CRDs, and a TEST ACTOR that plays
the Velero server (no Velero runs in these tests), shared by test_drill_controller.py and
test_tenant_drills.py.

The actor does with a Restore what Velero documents it does, for the parts relops relies on:
- `includedNamespaces` (empty or `*`: all) selects which of the Backup's namespaces are
  restored, and only namespaces the Backup's own `includedNamespaces` covered exist in it;
- `namespaceMapping` renames them (the sandbox);
- `excludedResources` in Velero's `resource.group` format (`ingresses.networking.k8s.io`;
  core kinds by their plural alone) keeps kinds out;
- `includeClusterResources: false` restores no cluster-scoped object except the volumes of
  restored claims, which carry `velero.io/restore-name` (here: one PersistentVolume per restore
  when `restorePVs`, standing in for a claim's volume);
- `resourceModifier` names a ConfigMap in the Velero namespace with exactly one data key, a
  `version: v1` document of `resourceModifierRules` whose `conditions` (`groupResource`,
  `namespaces`, `resourceNameRegex`, `matches` of JSON pointer path and value) pick objects and
  whose `patches` (RFC 6902) and `mergePatches` (RFC 7386) change them before they are created.

"Backup contents" are the source namespace's live objects of the kinds in RESTORED_KINDS at
restore time; restored objects get the labels velero.io/restore-name and velero.io/backup-name.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from kube import Kubectl, wait_until

VELERO_MODULE = "github.com/vmware-tanzu/velero@v1.17.0"
VELERO_CRDS = ["velero.io_backups.yaml", "velero.io_restores.yaml"]

# (kubectl resource, Velero resource.group, fields copied) of what the actor restores.
RESTORED_KINDS = [
    ("deployments.apps", "deployments.apps", ("spec",)),
    ("services", "services", ("spec",)),
    ("cronjobs.batch", "cronjobs.batch", ("spec",)),
    ("ingresses.networking.k8s.io", "ingresses.networking.k8s.io", ("spec",)),
    ("drdrills.relops.dev", "drdrills.relops.dev", ("spec",)),
]
# Fields the API server fills in that a restore does not carry over (Velero resets them too).
SERVICE_ALLOCATED = ("clusterIP", "clusterIPs")


def install_velero_crds(kubectl: Kubectl) -> None:
    module = json.loads(subprocess.run(
        ["go", "mod", "download", "-json", VELERO_MODULE],
        check=True, capture_output=True, text=True, timeout=600,
    ).stdout)
    bases = Path(module["Dir"]) / "config" / "crd" / "v1" / "bases"
    for crd in VELERO_CRDS:
        kubectl.run("apply", "--server-side", "-f", str(bases / crd))
    kubectl.run("wait", "--for=condition=Established", "--timeout=60s",
                "crd/backups.velero.io", "crd/restores.velero.io", timeout=70)
    wait_until("Velero kinds in discovery", lambda: "restores" in kubectl.run(
        "api-resources", "--api-group=velero.io").stdout, timeout=30)


@pytest.fixture(scope="module")
def velero(kubectl: Kubectl):
    """Velero's Backup and Restore CRDs from its Go module, and its namespace."""
    install_velero_crds(kubectl)
    kubectl.run("create", "namespace", "velero", check=False)
    return "velero"


def backup(kubectl: Kubectl, name: str, schedule: str, phase: str, started: str,
           included: list[str], velero_namespace: str = "velero") -> None:
    kubectl.run("apply", "-f", "-", input=json.dumps({
        "apiVersion": "velero.io/v1", "kind": "Backup",
        "metadata": {"name": name, "namespace": velero_namespace,
                     "labels": {"velero.io/schedule-name": schedule}},
        "spec": {"includedNamespaces": included},
        "status": {"phase": phase, "startTimestamp": started},
    }))


def _pointer(obj: Any, path: str) -> tuple[Any, str]:
    """The parent container and last key of a JSON pointer (RFC 6901)."""
    parts = [p.replace("~1", "/").replace("~0", "~") for p in path.split("/")[1:]]
    for part in parts[:-1]:
        obj = obj[int(part)] if isinstance(obj, list) else obj[part]
    return obj, parts[-1]


def _get(obj: Any, path: str) -> Any:
    try:
        parent, key = _pointer(obj, path)
        return parent[int(key)] if isinstance(parent, list) else parent[key]
    except (KeyError, IndexError, ValueError, TypeError):
        return None


def json_patch(obj: dict[str, Any], patches: list[dict[str, Any]]) -> None:
    for patch in patches:
        parent, key = _pointer(obj, patch["path"])
        op = patch["operation"] if "operation" in patch else patch["op"]
        if op in ("add", "replace"):
            value = patch["value"]
            if isinstance(value, str):  # Velero's values are YAML scalars or JSON text
                try:
                    value = json.loads(value)
                except ValueError:
                    pass
            if isinstance(parent, list):
                parent.insert(int(key), value) if op == "add" else parent.__setitem__(
                    int(key), value)
            else:
                if op == "replace" and key not in parent:
                    raise KeyError(f"replace of a missing {patch['path']}")
                parent[key] = value
        elif op == "remove":
            del parent[int(key) if isinstance(parent, list) else key]
        else:
            raise ValueError(f"unsupported operation {op}")


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _matches_group_resource(condition: str, group_resource: str) -> bool:
    return condition == group_resource or (condition == "*")


def apply_modifiers(rules: list[dict[str, Any]], group_resource: str, source: str,
                    obj: dict[str, Any]) -> dict[str, Any]:
    for rule in rules:
        cond = rule.get("conditions", {})
        if not _matches_group_resource(cond.get("groupResource", ""), group_resource):
            continue
        if cond.get("namespaces") and source not in cond["namespaces"]:
            continue
        regex = cond.get("resourceNameRegex")
        if regex and not re.search(regex, obj["metadata"]["name"]):
            continue
        if any(_get(obj, m["path"]) != m["value"] for m in cond.get("matches", [])):
            continue
        json_patch(obj, rule.get("patches", []))
        for merge in rule.get("mergePatches", []):
            obj = merge_patch(obj, yaml.safe_load(merge["patchData"]))
        if rule.get("strategicPatches"):
            raise ValueError("strategicPatches are not played by the test actor")
    return obj


class VeleroServerActor:
    """TEST ACTOR playing the Velero server's part (no Velero runs in these tests): see the
    module's docstring for what of Velero's documented behaviour it plays.

    For each new Restore in its Velero namespace it sets phase InProgress, restores (copies) the
    selected objects into the mapped namespaces, and sets the terminal phase. It records what it
    saw in each target namespace before restoring (its NetworkPolicies, labels, quotas and limit
    ranges) and what it restored.
    """

    def __init__(self, kubectl: Kubectl, hold: threading.Event | None = None,
                 namespace: str = "velero"):
        self.kubectl = kubectl
        self.namespace = namespace
        self.hold = hold  # when set, Restores wait in InProgress until it is cleared
        self.done: dict[str, dict[str, Any]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> "VeleroServerActor":
        # The API server's clock, to the second, as creationTimestamp is written.
        self.started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 1))
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                restores = self.kubectl.get("restores.velero.io",
                                            namespace=self.namespace)["items"]
            except Exception as error:  # keep playing; the test asserts on outcomes
                print(f"velero actor: {error}")
                restores = []
            for restore in restores:
                name = restore["metadata"]["name"]
                # Restores of earlier tests (their sandboxes gone) are not this test's.
                if name in self.done or restore.get("metadata", {}).get(
                        "creationTimestamp", "") < self.started:
                    continue
                try:
                    self._mark(name, "InProgress")
                    if self.hold is not None and self.hold.is_set():
                        continue
                    self.done[name] = self._restore(restore)
                    self._mark(name, "Completed")
                except Exception as error:  # Velero ends such a restore PartiallyFailed
                    print(f"velero actor: {name}: {error}")
                    self.done[name] = {"error": str(error)}
                    self._mark(name, "PartiallyFailed")
            time.sleep(0.3)

    def _mark(self, name: str, phase: str) -> None:
        self.kubectl.run("patch", "restores.velero.io", name, "-n", self.namespace,
                         "--type=merge", "-p", json.dumps({"status": {"phase": phase}}))

    def _modifier_rules(self, spec: dict[str, Any]) -> list[dict[str, Any]]:
        ref = spec.get("resourceModifier")
        if not ref:
            return []
        assert ref["kind"].lower() == "configmap", ref
        cm = self.kubectl.get("configmap", ref["name"], self.namespace)
        data = cm.get("data", {})
        assert len(data) == 1, f"Velero wants exactly one key in {ref['name']}: {list(data)}"
        document = yaml.safe_load(next(iter(data.values())))
        assert document["version"] == "v1", document
        return document["resourceModifierRules"]

    def _restore(self, restore: dict[str, Any]) -> dict[str, Any]:
        name = restore["metadata"]["name"]
        spec = restore["spec"]
        backup_obj = self.kubectl.get("backups.velero.io", spec["backupName"], self.namespace)
        in_backup = backup_obj.get("spec", {}).get("includedNamespaces") or ["*"]
        included = spec.get("includedNamespaces") or ["*"]
        excluded = set(spec.get("excludedResources") or [])
        mapping = spec.get("namespaceMapping", {})
        rules = self._modifier_rules(spec)
        record: dict[str, Any] = {"networkPolicies": [], "targets": [], "restored": [],
                                  "objects": {}, "excludedResources": sorted(excluded),
                                  "sandbox": {}}
        for source, target in mapping.items():
            if "*" not in in_backup and source not in in_backup:
                continue  # not in the backup
            if "*" not in included and source not in included:
                continue
            record["targets"].append(target)
            ns = self.kubectl.get("namespace", target)
            record["sandbox"][target] = {
                "labels": ns["metadata"].get("labels", {}),
                "resourceQuotas": [q["spec"] for q in self.kubectl.get(
                    "resourcequotas", namespace=target)["items"]],
                "limitRanges": [r["spec"] for r in self.kubectl.get(
                    "limitranges", namespace=target)["items"]],
            }
            policies = self.kubectl.get("networkpolicies", namespace=target)["items"]
            record["networkPolicies"] += [p["spec"] for p in policies]
            for resource, group_resource, fields in RESTORED_KINDS:
                if group_resource in excluded or resource in excluded:
                    continue
                for item in self.kubectl.get(resource, namespace=source)["items"]:
                    obj = {
                        "apiVersion": item["apiVersion"], "kind": item["kind"],
                        "metadata": {"name": item["metadata"]["name"], "namespace": target,
                                     "labels": {**item["metadata"].get("labels", {}),
                                                "velero.io/restore-name": name,
                                                "velero.io/backup-name": spec["backupName"]}},
                        **{f: copy.deepcopy(item[f]) for f in fields if f in item},
                    }
                    if item["kind"] == "Service":
                        for field in SERVICE_ALLOCATED:
                            obj["spec"].pop(field, None)
                        for port in obj["spec"].get("ports", []):
                            port.pop("nodePort", None)  # Velero drops allocated node ports
                    obj = apply_modifiers(rules, group_resource, source, obj)
                    self.kubectl.run("apply", "-f", "-", input=json.dumps(obj))
                    key = f"{group_resource}/{obj['metadata']['name']}"
                    record["restored"].append(key)
                    # As the API server stored it.
                    record["objects"][key] = self.kubectl.get(resource, obj["metadata"]["name"],
                                                              target)
        if spec.get("restorePVs"):
            # The volume of a restored claim: cluster-scoped, labelled with the restore.
            self.kubectl.run("apply", "-f", "-", input=json.dumps({
                "apiVersion": "v1", "kind": "PersistentVolume",
                "metadata": {"name": f"restored-{name}"[:63],
                             "labels": {"velero.io/restore-name": name}},
                "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                         "persistentVolumeReclaimPolicy": "Retain",
                         "hostPath": {"path": f"/tmp/{name}"}},
            }))
            record["volume"] = f"restored-{name}"[:63]
        return record
