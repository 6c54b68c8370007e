"""The ChangeWindow CRD's schema and CEL rules on the real API server: each rule and bound
rejects what it is for (a server-side dry run, nothing stored), and the valid shapes pass."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from kube import Kubectl

CRD = Path(__file__).resolve().parents[2] / "crds" / "relops.dev_changewindows.yaml"
RECURRING = {"type": "Freeze", "schedule": "0 18 * * FRI", "duration": "62h",
             "timeZone": "Europe/Berlin"}
ABSOLUTE = {"type": "Freeze", "start": "2026-12-24T00:00:00Z", "end": "2026-12-27T00:00:00Z"}


def with_(base: dict, **changes) -> dict:
    spec = dict(base)
    for key, value in changes.items():
        if value is None:
            spec.pop(key, None)
        else:
            spec[key] = value
    return spec


# (name, spec, the message the API server must give)
REJECTED = [
    ("both-kinds", with_(RECURRING, start="2026-12-24T00:00:00Z", end="2026-12-27T00:00:00Z"),
     "exactly one of schedule (with duration) or start and end is required"),
    ("neither", {"type": "Freeze"},
     "exactly one of schedule (with duration) or start and end is required"),
    ("schedule-without-duration", with_(RECURRING, duration=None),
     "duration is required with schedule"),
    ("start-without-end", with_(ABSOLUTE, end=None), "start and end go together"),
    ("zone-with-absolute", with_(ABSOLUTE, timeZone="UTC"),
     "duration and timeZone go with schedule, not with start and end"),
    ("end-before-start", with_(ABSOLUTE, end="2026-12-23T00:00:00Z"), "end must be after start"),
    ("workload-selector-on-maintenance",
     with_(RECURRING, type="Maintenance", workloadSelector={"matchLabels": {"tier": "1"}}),
     "workloadSelector is for Freeze windows"),
    ("slo-selector-on-freeze", with_(RECURRING, sloSelector={"matchLabels": {"tier": "1"}}),
     "sloSelector is for Maintenance windows"),
    ("unknown-type", with_(RECURRING, type="Thaw"), "Unsupported value: \"Thaw\""),
    ("bad-duration", with_(RECURRING, duration="1h30m"), "spec.duration"),
    ("long-reason", with_(RECURRING, reason="x" * 257), "spec.reason"),
    ("bad-selector-operator",
     with_(RECURRING, workloadSelector={"matchExpressions": [{"key": "a", "operator": "Maybe"}]}),
     "spec.workloadSelector.matchExpressions[0].operator"),
]

ACCEPTED = [
    ("recurring", RECURRING),
    ("absolute", ABSOLUTE),
    ("maintenance", with_(ABSOLUTE, type="Maintenance",
                          sloSelector={"matchLabels": {"tier": "database"}},
                          reason="PostgreSQL upgrade")),
]


def dry_run(kubectl: Kubectl, namespace: str, name: str, spec: dict):
    manifest = json.dumps({"apiVersion": "relops.dev/v1alpha1", "kind": "ChangeWindow",
                           "metadata": {"name": name, "namespace": namespace}, "spec": spec})
    return kubectl.run("apply", "--dry-run=server", "-f", "-", input=manifest, check=False)


@pytest.mark.parametrize("name,spec,message", REJECTED, ids=[c[0] for c in REJECTED])
def test_rejected(kubectl: Kubectl, crds, namespace: str, name: str, spec: dict, message: str):
    result = dry_run(kubectl, namespace, name, spec)
    assert result.returncode != 0, result.stdout
    assert message in result.stderr, result.stderr


@pytest.mark.parametrize("name,spec", ACCEPTED, ids=[c[0] for c in ACCEPTED])
def test_accepted(kubectl: Kubectl, crds, namespace: str, name: str, spec: dict):
    result = dry_run(kubectl, namespace, name, spec)
    assert result.returncode == 0, result.stderr


def test_every_cel_rule_has_a_case():
    spec = yaml.safe_load(CRD.read_text())["spec"]["versions"][0]["schema"]["openAPIV3Schema"][
        "properties"]["spec"]
    messages = [rule["message"] for rule in spec["x-kubernetes-validations"]]
    covered = {case[2] for case in REJECTED}
    assert [m for m in messages if m not in covered] == []
