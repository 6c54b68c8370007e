"""The DRDrill and DRDrillRun CRDs on a real API server: the examples are accepted
with their schema defaults, the printer columns and category work, and every CEL
rule rejects what it should with a message a person can act on, as kubectl shows
it (run pytest with -s to see each message).

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
DRILL_CRD = ROOT / "crds" / "relops.dev_drdrills.yaml"
RUN_CRD = ROOT / "crds" / "relops.dev_drdrillruns.yaml"
EXAMPLES = sorted((ROOT / "crds" / "examples").glob("drdrill-*.yaml"))


@pytest.fixture(scope="module", autouse=True)
def crds(kubectl: Kubectl):
    kubectl.run("apply", "--server-side", "--force-conflicts",
                "-f", str(DRILL_CRD), "-f", str(RUN_CRD))
    kubectl.run(
        "wait", "--for=condition=Established", "crd/drdrills.relops.dev",
        "crd/drdrillruns.relops.dev", "--timeout=60s", timeout=70,
    )
    wait_until(
        "kubectl to know the drill resources",
        lambda: all(
            kubectl.run("get", kind, "-A", check=False).returncode == 0
            for kind in ("drdrills", "drdrillruns")
        ),
        timeout=60,
    )


def load_example(kubectl: Kubectl, path: Path) -> dict[str, Any]:
    return json.loads(
        kubectl.run("create", "--dry-run=client", "-o", "json", "-f", str(path)).stdout
    )


def apply(kubectl: Kubectl, obj: dict[str, Any]):
    return kubectl.run("apply", "--server-side", "-f", "-", input=json.dumps(obj), check=False)


def drill(namespace: str, name: str = "drill", **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "schedule": "*/5 * * * *",
        "timeZone": "America/New_York",
        "objectives": {"rto": "5m", "rpo": "24h"},
        "job": {"template": {"spec": {"template": {"spec": {
            "restartPolicy": "Never",
            "containers": [{"name": "check", "image": "busybox"}],
        }}}}},
    }
    body.update(spec)
    return {
        "apiVersion": "relops.dev/v1alpha1",
        "kind": "DRDrill",
        "metadata": {"name": name, "namespace": namespace},
        "spec": body,
    }


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_examples_are_accepted(kubectl: Kubectl, namespace: str, example: Path):
    obj = load_example(kubectl, example)
    obj["metadata"]["namespace"] = namespace
    result = apply(kubectl, obj)
    assert result.returncode == 0, result.stderr
    stored = kubectl.get("drdrill", obj["metadata"]["name"], namespace)["spec"]
    assert stored["schedule"] == obj["spec"]["schedule"]
    assert stored["concurrencyPolicy"] in ("Forbid", "Replace")
    assert stored["successfulRunsHistoryLimit"] >= 0


def test_schema_defaults_short_name_category_and_columns(kubectl: Kubectl, namespace: str):
    obj = drill(namespace, "defaults")
    del obj["spec"]["timeZone"]
    assert apply(kubectl, obj).returncode == 0
    spec = kubectl.get("drill", "defaults", namespace)["spec"]
    assert spec["timeZone"] == "UTC"
    assert spec["suspend"] is False
    assert spec["concurrencyPolicy"] == "Forbid"
    assert spec["runTimeout"] == "1h"
    assert spec["successfulRunsHistoryLimit"] == 3
    assert spec["failedRunsHistoryLimit"] == 5
    assert "startingDeadlineSeconds" not in spec

    kubectl.run(
        "patch", "drdrill", "defaults", "-n", namespace, "--subresource=status",
        "--type=merge", "-p", json.dumps({"status": {
            "nextScheduleTime": "2026-03-10T14:05:00Z",
            "lastRun": {"name": "defaults-29554080", "verdict": "Pass", "rtoSeconds": 42,
                        "rto": "42s", "rpoSeconds": 3600, "rpo": "1h0m0s",
                        "objectivesMet": True},
            "conditions": [{"type": "Ready", "status": "True", "reason": "Scheduled",
                            "message": "next run at 2026-03-10T14:05:00Z",
                            "lastTransitionTime": "2026-03-10T14:00:00Z"}],
        }}),
    )
    table = kubectl.run("get", "drdrills", "-n", namespace).stdout.splitlines()
    assert table[0].split() == ["NAME", "SCHEDULE", "LAST", "RESULT", "RTO", "NEXT", "READY",
                                "AGE"], table
    row = kubectl.run("get", "drill", "defaults", "-n", namespace, "--no-headers").stdout
    assert row.split()[:10] == ["defaults", "*/5", "*", "*", "*", "*", "Pass", "42s",
                                "2026-03-10T14:05:00Z", "True"], row
    everything = kubectl.run("get", "relops", "-n", namespace, "-o", "name").stdout
    assert "drdrill.relops.dev/defaults" in everything


def run_object(namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": "relops.dev/v1alpha1",
        "kind": "DRDrillRun",
        "metadata": {"name": "defaults-29554080", "namespace": namespace},
        "spec": {
            "drillName": "defaults",
            "scheduledTime": "2026-03-10T14:00:00Z",
            "trigger": "Schedule",
            "runTimeout": "1h",
            "objectives": {"rto": "5m"},
            "failover": {"target": {"kind": "Deployment", "name": "a"},
                         "standby": {"kind": "Service", "name": "b"}},
        },
    }


def test_run_columns_status_and_immutable_spec(kubectl: Kubectl, namespace: str):
    run = run_object(namespace)
    assert apply(kubectl, run).returncode == 0
    kubectl.run(
        "patch", "drdrillrun", run["metadata"]["name"], "-n", namespace,
        "--subresource=status", "--type=merge", "-p", json.dumps({"status": {
            "phase": "Succeeded", "verdict": "Pass", "rtoSeconds": 42, "rto": "42s",
            "objectivesMet": True, "startTime": "2026-03-10T14:00:03Z",
            "cleanup": {"result": "Succeeded"},
        }}),
    )
    table = kubectl.run("get", "drillrun", "-n", namespace).stdout.splitlines()
    assert table[0].split() == ["NAME", "DRILL", "PHASE", "VERDICT", "RTO", "RPO", "AGE"]
    assert table[1].split()[:5] == ["defaults-29554080", "defaults", "Succeeded", "Pass", "42s"]
    changed = copy.deepcopy(run)
    changed["spec"]["runTimeout"] = "2h"
    result = apply(kubectl, changed)
    assert result.returncode != 0
    assert "a DRDrillRun's spec is immutable" in result.stderr, result.stderr


Mutation = Callable[[dict[str, Any]], None]


def spec_set(**fields: Any) -> Mutation:
    def mutate(obj: dict[str, Any]) -> None:
        obj["spec"].update(fields)
    return mutate


def spec_del(field: str) -> Mutation:
    def mutate(obj: dict[str, Any]) -> None:
        del obj["spec"][field]
    return mutate


def rename(name: str) -> Mutation:
    def mutate(obj: dict[str, Any]) -> None:
        obj["metadata"]["name"] = name
    return mutate


FAILOVER = {"target": {"kind": "Deployment", "name": "primary"},
            "standby": {"kind": "Deployment", "name": "standby"}}

# (rule, mutation of a valid drill, field kubectl names, message it shows)
REJECTIONS = [
    ("name at most 52", rename("d" * 53),
     "<nil>", "a DRDrill's name must be at most 52 characters"),
    ("exactly one type: none", spec_del("job"),
     "spec", "exactly one of job, failover or veleroRestore must be set"),
    ("exactly one type: two", spec_set(failover=FAILOVER),
     "spec", "exactly one of job, failover or veleroRestore must be set"),
    ("rto within runTimeout", spec_set(runTimeout="10m", objectives={"rto": "15m"}),
     "spec.objectives.rto", "objectives.rto must not exceed runTimeout"),
    ("no TZ= prefix", spec_set(schedule="TZ=Europe/Berlin 0 3 * * *"),
     "spec.schedule", "schedule must not start with TZ= or CRON_TZ="),
    ("no CRON_TZ= prefix", spec_set(schedule="CRON_TZ=UTC 0 3 * * *"),
     "spec.schedule", "schedule must not start with TZ= or CRON_TZ="),
    ("five fields", spec_set(schedule="0 3 * *"),
     "spec.schedule", "schedule must be five cron fields"),
    ("six fields", spec_set(schedule="0 0 3 * * *"),
     "spec.schedule", "schedule must be five cron fields"),
    ("unknown macro", spec_set(schedule="@reboot"),
     "spec.schedule", "schedule must be five cron fields"),
    ("time zone shape", spec_set(timeZone="Eastern Time"),
     "spec.timeZone", "timeZone must be an IANA time zone name"),
    ("runTimeout format", spec_set(runTimeout="1 hour"),
     "spec.runTimeout", "runTimeout must be a duration such as 30m or 1h30m"),
    ("runTimeout at least 1m", spec_set(runTimeout="30s"),
     "spec.runTimeout", "runTimeout must be a duration such as 30m or 1h30m"),
    ("runTimeout at most 168h", spec_set(runTimeout="169h"),
     "spec.runTimeout", "runTimeout must be a duration such as 30m or 1h30m"),
    ("objectives not empty", spec_set(objectives={}),
     "spec.objectives", "objectives needs rto, rpo or both"),
    ("rto format", spec_set(objectives={"rto": "5 minutes"}),
     "spec.objectives.rto", "must be a positive duration such as 15m"),
    ("rto positive", spec_set(objectives={"rto": "0s"}),
     "spec.objectives.rto", "must be a positive duration such as 15m"),
    ("rpo format", spec_set(objectives={"rpo": "1d"}),
     "spec.objectives.rpo", "must be a positive duration such as 15m"),
    ("failover standby differs",
     lambda o: (o["spec"].pop("job"), o["spec"].update(failover={
         "target": {"kind": "Deployment", "name": "a"},
         "standby": {"kind": "Deployment", "name": "a"}})),
     "spec.failover", "failover standby must differ from the target"),
    ("velero backup or schedule",
     lambda o: (o["spec"].pop("job"), o["spec"].update(veleroRestore={
         "backupName": "b", "scheduleName": "s"})),
     "spec.veleroRestore", "veleroRestore needs exactly one of backupName or scheduleName"),
    ("velero needs one",
     lambda o: (o["spec"].pop("job"), o["spec"].update(veleroRestore={})),
     "spec.veleroRestore", "veleroRestore needs exactly one of backupName or scheduleName"),
    # Structural schema, not CEL, but part of the same contract.
    ("starting deadline at least 10", spec_set(startingDeadlineSeconds=5),
     "spec.startingDeadlineSeconds", "should be greater than or equal to 10"),
    ("concurrency policy enum", spec_set(concurrencyPolicy="Allow"),
     "spec.concurrencyPolicy", "Unsupported value"),
    ("history limit bounded", spec_set(successfulRunsHistoryLimit=101),
     "spec.successfulRunsHistoryLimit", "should be less than or equal to 100"),
    ("failover kind enum",
     lambda o: (o["spec"].pop("job"), o["spec"].update(failover={
         "target": {"kind": "Pod", "name": "a"},
         "standby": {"kind": "Deployment", "name": "b"}})),
     "spec.failover.target.kind", "Unsupported value"),
]


@pytest.mark.parametrize(
    "mutate,field,message", [r[1:] for r in REJECTIONS], ids=[r[0] for r in REJECTIONS]
)
def test_invalid_drill_is_rejected_with_a_clear_message(
    kubectl: Kubectl, namespace: str, mutate: Mutation, field: str, message: str
):
    obj = drill(namespace, "invalid")
    assert apply(kubectl, copy.deepcopy(obj)).returncode == 0, "the base drill must be valid"
    kubectl.run("delete", "drdrill", "invalid", "-n", namespace)
    mutate(obj)
    result = apply(kubectl, obj)
    print(f"kubectl says: {result.stderr.strip()}")
    assert result.returncode != 0, "the API server accepted an invalid DRDrill"
    assert f"{field}:" in result.stderr, result.stderr
    assert message in result.stderr, result.stderr
    assert not kubectl.exists("drdrill", obj["metadata"]["name"], namespace)
