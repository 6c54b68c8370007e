"""Every YAML file relops ships parses the way strict tools read it.

PyYAML and kubectl's client-side decoding keep the last of two equal keys; kustomize (and so
Flux's kustomize-controller and `kubectl kustomize`) refuses the file. A duplicate key is a
silent loss of half a schema to one tool and a hard failure to another, so none is allowed.
The Flux and `kubectl apply -k` paths are then built exactly as they are documented.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent.parent
CHART = REPO / "helm" / "relops"


class DuplicateKeyError(yaml.constructor.ConstructorError):
    pass


class StrictLoader(yaml.SafeLoader):
    """A SafeLoader that refuses a mapping with two equal keys (YAML 1.2 requires unique keys)."""

    def construct_mapping(self, node, deep=False):
        seen: dict = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if key in seen:
                raise DuplicateKeyError(
                    None, None,
                    f"duplicate key {key!r} (first at line {seen[key].line + 1})",
                    key_node.start_mark)
            seen[key] = key_node.start_mark
        return super().construct_mapping(node, deep=deep)


def strict_load_all(text: str) -> list:
    return [doc for doc in yaml.load_all(text, Loader=StrictLoader) if doc is not None]


def tracked_yaml() -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "*.yaml", "*.yml"], cwd=REPO, check=True,
                            capture_output=True, text=True).stdout.split()
    # Chart templates are Go templates, not YAML: they are checked rendered, below.
    return [REPO / p for p in listed if not p.startswith("helm/relops/templates/")]


def binary(name: str) -> str:
    """kubectl and helm come from the control-plane binaries cache (tests/cluster/binaries.sh)."""
    bin_dir = subprocess.run([str(REPO / "tests" / "cluster" / "binaries.sh")], check=True,
                             capture_output=True, text=True).stdout.strip()
    return str(Path(bin_dir) / name)


def test_strict_loader_catches_a_planted_duplicate():
    with pytest.raises(DuplicateKeyError, match="duplicate key 'status'"):
        strict_load_all("properties:\n  status: {type: object}\n  spec: {}\n  status: {}\n")


@pytest.mark.parametrize("path", tracked_yaml(), ids=lambda p: str(p.relative_to(REPO)))
def test_no_duplicate_keys(path: Path):
    strict_load_all(path.read_text())


# Value sets that switch on every optional template of the chart.
CHART_VALUES = {
    "defaults": [],
    "everything": ["--set", "replicaCount=2,podDisruptionBudget.enabled=true,"
                   "networkPolicy.enabled=true,serviceMonitor.enabled=true,"
                   "calendars.enabled=true,leaderElection.enabled=true,"
                   "rbac.veleroNamespaceRole=true"],
    "watch-namespaces": ["--set", "controller.watchNamespaces={team-a,team-b}"],
    "no-crds": ["--set", "crds.enabled=false,rbac.aggregateClusterRoles=false"],
}


@pytest.mark.parametrize("values", CHART_VALUES.values(), ids=CHART_VALUES.keys())
def test_rendered_chart_has_no_duplicate_keys(values: list[str]):
    rendered = subprocess.run([binary("helm"), "template", "relops", str(CHART),
                               "--namespace", "relops-system", *values],
                              check=True, capture_output=True, text=True).stdout
    assert strict_load_all(rendered)


def kustomize(directory: Path) -> list[dict]:
    result = subprocess.run([binary("kubectl"), "kustomize", str(directory)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return strict_load_all(result.stdout)


def test_flux_builds_the_crds(tmp_path: Path):
    """Flux's kustomize-controller builds a path without a kustomization.yaml by generating one
    that lists its manifests; the README's GitRepository `ignore` leaves only crds/*.yaml."""
    crds = sorted((REPO / "crds").glob("*.yaml"))
    for crd in crds:
        shutil.copy(crd, tmp_path / crd.name)
    (tmp_path / "kustomization.yaml").write_text(yaml.safe_dump({
        "apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
        "resources": [crd.name for crd in crds]}))
    built = kustomize(tmp_path)
    assert sorted(d["metadata"]["name"] for d in built) == sorted(
        yaml.safe_load(crd.read_text())["metadata"]["name"] for crd in crds)


def test_kubectl_apply_k_builds_deploy():
    built = kustomize(REPO / "deploy")
    kinds = {d["kind"] for d in built}
    assert {"Namespace", "ServiceAccount", "ClusterRole", "Deployment"} <= kinds, kinds
