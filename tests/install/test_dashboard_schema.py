"""The chart's Grafana dashboards validate against Grafana's dashboard schema of the
schemaVersion they declare.

The schema comes at test time from the Go module proxy: grafana_schema/ is a Go module that
pins Grafana's foundation SDK (go.mod, go.sum), whose dashboard, panel and Prometheus query
types Grafana generates from its schemas; grafana_schema/main.go decodes each file strictly
with them and checks the schema's constraints and the schemaVersion (see its comment). The
module is built with this machine's Go toolchain, as tests/cluster/binaries.sh builds the
control plane. Planted faults show that the check rejects what the schema forbids.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
DASHBOARDS = sorted((REPO / "helm" / "relops" / "dashboards").glob("*.json"))
ENV = {**os.environ, "GOTOOLCHAIN": "local", "GOFLAGS": "-mod=readonly"}


@pytest.fixture(scope="module")
def validator(tmp_path_factory) -> Path:
    binary = tmp_path_factory.mktemp("grafana-schema") / "validate"
    subprocess.run(["go", "build", "-o", str(binary), "."], cwd=HERE / "grafana_schema",
                   env=ENV, check=True, timeout=540)
    return binary


def validate(validator: Path, *paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(validator), *map(str, paths)], capture_output=True, text=True,
                          timeout=60)


def test_every_dashboard_validates(validator: Path):
    assert len(DASHBOARDS) == 5
    result = validate(validator, *DASHBOARDS)
    assert result.returncode == 0, result.stderr
    for path in DASHBOARDS:
        assert f"{path}: valid, schemaVersion {json.loads(path.read_text())['schemaVersion']}" \
            in result.stdout, result.stdout
    print(result.stdout)


def plant(document: dict, fault: str) -> dict:
    broken = copy.deepcopy(document)
    panel = broken["panels"][0]
    if fault == "unknown panel field":
        panel["colour"] = "red"
    elif fault == "another schemaVersion":
        broken["schemaVersion"] -= 3
    elif fault == "option of the wrong type":
        panel["options"]["displayMode"] = 7
    elif fault == "unknown field in a Prometheus target":
        panel["targets"][0]["query"] = panel["targets"][0]["expr"]
    elif fault == "missing required field":
        del broken["templating"]["list"][0]["name"]
    elif fault == "constraint":
        broken["fiscalYearStartMonth"] = 12
    return broken


@pytest.mark.parametrize("fault", ["unknown panel field", "another schemaVersion",
                                   "option of the wrong type",
                                   "unknown field in a Prometheus target",
                                   "missing required field", "constraint"])
def test_a_planted_fault_is_rejected(validator: Path, tmp_path: Path, fault: str):
    source = json.loads((REPO / "helm" / "relops" / "dashboards" /
                         "relops-overview.json").read_text())
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(plant(source, fault)))
    result = validate(validator, path)
    assert result.returncode == 1, (fault, result.stdout)
    print(fault, "->", result.stderr.strip())
