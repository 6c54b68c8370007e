"""The chart ships relops's Grafana dashboards as ConfigMaps for Grafana's dashboard sidecar:
one per helm/relops/dashboards/*.json, labelled and annotated as the values say, none when
`grafana.dashboards.enabled` is false; and each dashboard's layout and queries are well formed
(what Grafana's schema cannot say: unique panel ids, panels inside the 24-column grid, every
panel on the `datasource` variable, every target with a query)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent.parent
CHART = REPO / "helm" / "relops"
DASHBOARDS = sorted((CHART / "dashboards").glob("*.json"))


def helm() -> str:
    """helm comes from the control-plane binaries cache (tests/cluster/binaries.sh)."""
    bin_dir = subprocess.run([str(REPO / "tests" / "cluster" / "binaries.sh")], check=True,
                             capture_output=True, text=True).stdout.strip()
    return str(Path(bin_dir) / "helm")


def configmaps(*sets: str) -> list[dict]:
    argv = [helm(), "template", "r", str(CHART), "--namespace", "ops"]
    for value in sets:
        argv += ["--set", value]
    out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
    return [d for d in yaml.safe_load_all(out) if d and d["kind"] == "ConfigMap"]


def test_every_dashboard_file_is_a_labelled_configmap_by_default():
    assert len(DASHBOARDS) == 5, DASHBOARDS
    rendered = configmaps()
    assert len(rendered) == len(DASHBOARDS)
    by_file = {name: (cm, text) for cm in rendered for name, text in cm["data"].items()}
    assert sorted(by_file) == [p.name for p in DASHBOARDS]
    for path in DASHBOARDS:
        cm, text = by_file[path.name]
        meta = cm["metadata"]
        assert meta["namespace"] == "ops"
        assert meta["labels"]["grafana_dashboard"] == "1"
        assert meta["labels"]["app.kubernetes.io/name"] == "relops"
        assert meta["annotations"] == {"grafana_folder": "relops"}
        assert meta["name"] == "r-relops-dashboard-" + path.stem.removeprefix("relops-")
        # Byte for byte the committed file: nothing in it went through the template engine.
        assert text == path.read_text().rstrip("\n")


def test_label_folder_and_namespace_follow_the_values():
    rendered = configmaps("grafana.dashboards.label=dashboards",
                          "grafana.dashboards.labelValue=relops",
                          "grafana.dashboards.folder=SRE",
                          "grafana.dashboards.folderAnnotation=k8s-sidecar-target-directory",
                          "grafana.dashboards.namespace=monitoring",
                          "grafana.dashboards.labels.team=platform",
                          "grafana.dashboards.annotations.note=shipped")
    assert len(rendered) == len(DASHBOARDS)
    for cm in rendered:
        meta = cm["metadata"]
        assert meta["namespace"] == "monitoring"
        assert meta["labels"]["dashboards"] == "relops"
        assert meta["labels"]["team"] == "platform"
        assert "grafana_dashboard" not in meta["labels"]
        assert meta["annotations"] == {"k8s-sidecar-target-directory": "SRE", "note": "shipped"}


def test_no_folder_annotation_when_it_is_empty():
    for cm in configmaps("grafana.dashboards.folderAnnotation="):
        assert "annotations" not in cm["metadata"], cm["metadata"]


def test_none_when_disabled():
    assert configmaps("grafana.dashboards.enabled=false") == []


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_layout_and_queries_are_well_formed(path: Path):
    dashboard = json.loads(path.read_text())
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    assert dashboard["uid"] == path.stem and len(dashboard["uid"]) <= 40
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids)), ids
    cells: set[tuple[int, int]] = set()
    for panel in dashboard["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["w"] > 0 and grid["x"] + grid["w"] <= 24, panel["title"]
        covered = {(x, y) for x in range(grid["x"], grid["x"] + grid["w"])
                   for y in range(grid["y"], grid["y"] + grid["h"])}
        assert not covered & cells, f"{panel['title']} overlaps another panel"
        cells |= covered
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        assert panel["targets"], panel["title"]
        ref_ids = [t["refId"] for t in panel["targets"]]
        assert len(ref_ids) == len(set(ref_ids)), panel["title"]
        for target in panel["targets"]:
            assert target["expr"].strip(), panel["title"]
            assert target["datasource"] == panel["datasource"]
            # Every variable a query names is defined.
            for name in ("namespace", "slo", "rotation", "drill", "job"):
                if f"${name}" in target["expr"]:
                    assert name in variables, (panel["title"], name)
