"""The OnCallRotation CRD on a real API server: the examples are accepted with
their schema defaults, and every CEL rule rejects what it should with a
message a person can act on, as kubectl shows it.

Everything goes through kubectl (server-side apply); no relops code runs.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Callable

import pytest

from kube import Kubectl, wait_until

ROOT = Path(__file__).resolve().parents[2]
CRD = ROOT / "crds" / "relops.dev_oncallrotations.yaml"
EXAMPLES = sorted((ROOT / "crds" / "examples").glob("oncallrotation-*.yaml"))


@pytest.fixture(scope="module", autouse=True)
def crd(kubectl: Kubectl):
    kubectl.run("apply", "--server-side", "--force-conflicts", "-f", str(CRD))
    kubectl.run(
        "wait", "--for=condition=Established", "crd/oncallrotations.relops.dev",
        "--timeout=60s", timeout=70,
    )
    # Discovery of the new kind can lag the Established condition by a moment.
    wait_until(
        "kubectl to know the oncallrotations resource",
        lambda: kubectl.run("get", "oncallrotations", "-A", check=False).returncode == 0,
        timeout=60,
    )


def load_example(kubectl: Kubectl, path: Path) -> dict[str, Any]:
    """The example as JSON, parsed by kubectl itself (no YAML library needed)."""
    return json.loads(
        kubectl.run("create", "--dry-run=client", "-o", "json", "-f", str(path)).stdout
    )


def base(namespace: str, name: str = "rotation") -> dict[str, Any]:
    return {
        "apiVersion": "relops.dev/v1alpha1",
        "kind": "OnCallRotation",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "timeZone": "America/New_York",
            "participants": [{"name": "alice"}, {"name": "bob"}],
            "layers": [
                {
                    "name": "primary",
                    "members": ["alice", "bob"],
                    "start": "2026-01-05T09:00:00",
                    "turnLength": "1w",
                    "restrictions": [{"days": ["Mon"], "from": "18:00", "to": "09:00"}],
                }
            ],
            "overrides": [
                {
                    "participant": "bob",
                    "start": "2026-03-10T09:00:00",
                    "end": "2026-03-11T09:00:00",
                }
            ],
        },
    }


def apply(kubectl: Kubectl, obj: dict[str, Any]):
    return kubectl.run(
        "apply", "--server-side", "-f", "-", input=json.dumps(obj), check=False
    )


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_examples_are_accepted(kubectl: Kubectl, namespace: str, example: Path):
    obj = load_example(kubectl, example)
    obj["metadata"]["namespace"] = namespace
    result = apply(kubectl, obj)
    assert result.returncode == 0, result.stderr
    stored = kubectl.get("oncallrotation", obj["metadata"]["name"], namespace)
    assert stored["spec"]["timeZone"] == obj["spec"]["timeZone"]
    assert stored["spec"]["horizon"]  # defaulted when the example leaves it out
    assert stored["spec"]["fairness"]["lookBack"]


def test_schema_defaults_short_names_category_and_columns(kubectl: Kubectl, namespace: str):
    obj = base(namespace, "defaults")
    del obj["spec"]["overrides"]
    assert apply(kubectl, obj).returncode == 0
    spec = kubectl.get("ocr", "defaults", namespace)["spec"]
    assert spec["horizon"] == "4w"
    assert spec["fairness"] == {"lookBack": "4w", "allowedImbalance": "25"}

    table = kubectl.run("get", "oncall", "-n", namespace).stdout
    header = table.splitlines()[0].split()
    assert header == ["NAME", "ON", "CALL", "NEXT", "HANDOFF", "READY", "AGE"], table
    wide = kubectl.run("get", "oncallrotations", "-n", namespace, "-o", "wide").stdout
    assert "NEXT" in wide and "COVERED" in wide and "BALANCE" in wide, wide
    everything = kubectl.run("get", "relops", "-n", namespace, "-o", "name").stdout
    assert "oncallrotation.relops.dev/defaults" in everything


def test_status_subresource_takes_a_full_status(kubectl: Kubectl, namespace: str):
    obj = base(namespace, "with-status")
    assert apply(kubectl, obj).returncode == 0
    status = {
        "observedGeneration": 1,
        "conditions": [
            {"type": "Ready", "status": "True", "observedGeneration": 1,
             "lastTransitionTime": "2026-03-10T14:00:00Z", "reason": "Scheduled",
             "message": "bob is on call (override)"},
            {"type": "Covered", "status": "False", "observedGeneration": 1,
             "lastTransitionTime": "2026-03-10T14:00:00Z", "reason": "CoverageGap",
             "message": "nobody is on call"},
        ],
        "onCall": {"participant": "bob", "layer": "override",
                   "since": "2026-03-10T13:00:00Z", "until": "2026-03-11T13:00:00Z"},
        "layers": [{"name": "primary", "participant": "alice", "active": False,
                    "since": "2026-03-09T13:00:00Z", "until": "2026-03-16T13:00:00Z",
                    "rotation": {"members": ["alice", "bob"], "start": "2026-01-05T09:00:00",
                                 "turnLength": "1w", "offset": 0}}],
        "nextHandoff": {"time": "2026-03-11T13:00:00Z", "from": "bob"},
        "upcomingShifts": [{"participant": "bob", "layer": "override",
                            "start": "2026-03-10T13:00:00Z", "end": "2026-03-11T13:00:00Z"}],
        "gaps": [{"start": "2026-03-11T13:00:00Z", "end": "2026-03-16T22:00:00Z"}],
        "load": {"from": "2026-02-10T05:00:00Z", "to": "2026-04-07T04:00:00Z",
                 "participants": [{"participant": "alice", "hours": "90.0",
                                   "offHours": "90.0", "weekendHours": "0.0"}]},
        "balance": {"score": "75.0", "overloaded": ["alice"]},
    }
    kubectl.run(
        "patch", "oncallrotation", "with-status", "-n", namespace, "--subresource=status",
        "--type=merge", "-p", json.dumps({"status": status}),
    )
    stored = kubectl.get("oncallrotation", "with-status", namespace)
    assert stored["status"] == status
    row = kubectl.run("get", "oncall", "with-status", "-n", namespace, "--no-headers").stdout
    assert row.split()[1:4] == ["bob", "2026-03-11T13:00:00Z", "True"], row

    bad = copy.deepcopy(status)
    bad["conditions"][0]["status"] = "Maybe"
    result = kubectl.run(
        "patch", "oncallrotation", "with-status", "-n", namespace, "--subresource=status",
        "--type=merge", "-p", json.dumps({"status": bad}), check=False,
    )
    assert result.returncode != 0
    assert 'Unsupported value: "Maybe"' in result.stderr


Mutation = Callable[[dict[str, Any]], None]


def spec_set(**fields: Any) -> Mutation:
    def mutate(spec: dict[str, Any]) -> None:
        spec.update(fields)
    return mutate


def layer_set(**fields: Any) -> Mutation:
    def mutate(spec: dict[str, Any]) -> None:
        spec["layers"][0].update(fields)
    return mutate


def restriction(value: dict[str, Any]) -> Mutation:
    return layer_set(restrictions=[value])


def override(**fields: Any) -> Mutation:
    def mutate(spec: dict[str, Any]) -> None:
        spec["overrides"][0].update(fields)
    return mutate


# (rule, mutation of a valid object, field kubectl names, message it shows)
REJECTIONS = [
    ("unique participants",
     spec_set(participants=[{"name": "alice"}, {"name": "alice"}, {"name": "bob"}]),
     "spec.participants", "participant names must be unique"),
    ("unique layers",
     lambda s: s["layers"].append(dict(s["layers"][0])),
     "spec.layers", "layer names must be unique"),
    ("members are participants", layer_set(members=["alice", "carol"]),
     "spec.layers", "every layer member must be listed in participants"),
    ("override participant exists", override(participant="carol"),
     "spec.overrides", "every override's participant must be listed in participants"),
    ("time zone shape", spec_set(timeZone="Eastern Time"),
     "spec.timeZone", "timeZone must be an IANA time zone name"),
    ("start needs seconds", layer_set(start="2026-01-05T09:00"),
     "spec.layers[0].start", "start must be a valid local date and time"),
    ("start day exists", layer_set(start="2026-02-29T09:00:00"),
     "spec.layers[0].start", "start must be a valid local date and time"),
    ("start has no offset", layer_set(start="2026-01-05T09:00:00Z"),
     "spec.layers[0].start", "start must be a valid local date and time"),
    ("turn length format", layer_set(turnLength="1 week"),
     "spec.layers[0].turnLength", "turnLength must be a whole number and a unit"),
    ("turn length not zero", layer_set(turnLength="0d"),
     "spec.layers[0].turnLength", "turnLength must be a whole number and a unit"),
    ("restriction range complete", restriction({"from": "09:00"}),
     "spec.layers[0].restrictions[0]", "a restriction's from and to must be set together"),
    ("restriction range non-empty", restriction({"from": "09:00", "to": "09:00"}),
     "spec.layers[0].restrictions[0]", "a restriction's from and to must differ"),
    ("restriction says something", restriction({}),
     "spec.layers[0].restrictions[0]", "a restriction needs days, a from/to range, or both"),
    ("restriction from format", restriction({"from": "9am", "to": "17:00"}),
     "spec.layers[0].restrictions[0].from", "from must be a local time of day HH:MM"),
    ("restriction to format", restriction({"from": "09:00", "to": "24:00"}),
     "spec.layers[0].restrictions[0].to", "to must be a local time of day HH:MM"),
    ("override forms match", override(end="2026-03-11T09:00:00Z"),
     "spec.overrides[0]", "must both be local times or both carry a UTC offset"),
    ("override ends after start (local)", override(end="2026-03-10T08:00:00"),
     "spec.overrides[0]", "an override's end must be after its start"),
    ("override ends after start (offset)",
     override(start="2026-03-10T09:00:00-04:00", end="2026-03-10T12:59:00Z"),
     "spec.overrides[0]", "an override's end must be after its start"),
    ("override time format", override(start="next tuesday"),
     "spec.overrides[0].start", "must be a local time YYYY-MM-DDTHH:MM:SS or an RFC 3339"),
    ("horizon at most a year", spec_set(horizon="53w"),
     "spec.horizon", "must be Nd or Nw, from 1d to one year"),
    ("horizon in days or weeks", spec_set(horizon="12h"),
     "spec.horizon", "must be Nd or Nw, from 1d to one year"),
    ("look-back at most a year", spec_set(fairness={"lookBack": "367d"}),
     "spec.fairness.lookBack", "must be Nd or Nw, from 1d to one year"),
    ("imbalance is a percent string", spec_set(fairness={"allowedImbalance": "lots"}),
     "spec.fairness.allowedImbalance", "allowedImbalance must be a percentage as a string"),
    ("shifts bounded: 10 layers of 1m turns over two years",
     spec_set(layers=[{"name": f"l{i}", "members": ["alice", "bob"],
                       "start": "2026-01-05T09:00:00", "turnLength": "1m"} for i in range(10)],
              horizon="366d", fairness={"lookBack": "366d"}),
     "spec.layers", "too many shifts"),
    ("shifts bounded: one layer of 1m turns over 105 days",
     spec_set(horizon="52d", fairness={"lookBack": "52d"},
              layers=[{"name": "l", "members": ["alice"], "start": "2026-01-05T09:00:00",
                       "turnLength": "1m"}]),
     "spec.layers", "too many shifts"),
    # Structural schema, not CEL, but part of the same contract.
    ("participant name pattern", spec_set(participants=[{"name": "Alice"}, {"name": "bob"}]),
     "spec.participants[0].name", "should match"),
    ("day enum", restriction({"days": ["Funday"]}),
     "spec.layers[0].restrictions[0].days[0]", "Unsupported value"),
    ("participants bounded",
     spec_set(participants=[{"name": f"p{i}"} for i in range(51)]),
     "spec.participants", "must have at most 50 items"),
]


def test_shift_bound_accepts_a_rotation_at_it(kubectl: Kubectl, namespace: str):
    """One layer of 1m turns over 102 days (146,880 minutes + 1 turn) is just inside the bound
    of 150,000 shifts the 105-day rotation above exceeds."""
    obj = base(namespace, "at-bound")
    obj["spec"].update(horizon="50d", fairness={"lookBack": "50d"},
                       layers=[{"name": "l", "members": ["alice"],
                                "start": "2026-01-05T09:00:00", "turnLength": "1m"}])
    result = apply(kubectl, obj)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "mutate,field,message", [r[1:] for r in REJECTIONS], ids=[r[0] for r in REJECTIONS]
)
def test_invalid_spec_is_rejected_with_a_clear_message(
    kubectl: Kubectl, namespace: str, mutate: Mutation, field: str, message: str
):
    obj = base(namespace, "invalid")
    assert apply(kubectl, copy.deepcopy(obj)).returncode == 0, "the base object must be valid"
    kubectl.run("delete", "oncallrotation", "invalid", "-n", namespace)
    mutate(obj["spec"])
    result = apply(kubectl, obj)
    print(f"kubectl says: {result.stderr.strip()}")
    assert result.returncode != 0, "the API server accepted an invalid OnCallRotation"
    assert f"{field}:" in result.stderr, result.stderr
    assert message in result.stderr, result.stderr
    assert not kubectl.exists("oncallrotation", "invalid", namespace)
