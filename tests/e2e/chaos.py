"""What the fault tests (test_chaos_*.py) share: a seeded churn of spec edits,
creates and deletes across the relops kinds; a sentinel object whose next
reconcile times the recovery from each fault; the convergence check that
compares every object's status with what its kind's pure logic computes
offline (the relops CLI); a recorder of every DRDrillRun the API server
announces; and the after-the-fact checks on what relops did (crashes, the
client rate limit as the API server's audit log saw it).

Randomness comes from one seed, printed, and settable with RELOPS_CHAOS_SEED
to replay a run's choices."""

from __future__ import annotations

import base64
import contextlib
import copy
import datetime as dt
import json
import os
import random
import re
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest

from kube import Kubectl, KubectlError, wait_until
from relops_process import Operator, audit_log

UTC = dt.timezone.utc
CLUSTER_DIR = Path(__file__).resolve().parent.parent / "cluster"
FIELD_MANAGER = "chaos-churn"
# relops runs with client-go's default limits in these tests, so the limiter
# binds while relops catches up after a fault.
KUBE_API_QPS = 5.0
KUBE_API_BURST = 10
RELOPS_FLAGS = ("--kube-api-qps", str(KUBE_API_QPS), "--kube-api-burst", str(KUBE_API_BURST),
                "--rule-output", "configmap")
KINDS = ("servicelevelobjectives", "errorbudgetpolicies", "oncallrotations", "drdrills")
# Most objects alive at once per kind, and names reused after a delete, so a
# create often re-creates a name relops saw deleted moments ago.
POOL = {"servicelevelobjectives": 8, "errorbudgetpolicies": 3, "oncallrotations": 6,
        "drdrills": 3}
PREFIX = {"servicelevelobjectives": "slo", "errorbudgetpolicies": "policy",
          "oncallrotations": "rota", "drdrills": "drill"}
PEOPLE = ["ana", "ben", "cai", "dee"]
ZONES = ["Europe/Berlin", "America/New_York", "Asia/Kolkata", "UTC", "Australia/Sydney"]


_capsys = None  # set by the scenario fixture: what the tests say shows even when they pass


def say(message: str) -> None:
    """Progress, seeds and recovery times, on the terminal (and so in ctest's
    output) whether the test passes or fails."""
    line = f"[chaos] {message}"
    if _capsys is None:
        print(line, flush=True)
        return
    with _capsys.disabled():
        print(line, flush=True)


def seed(test_name: str) -> int:
    value = int(os.environ.get("RELOPS_CHAOS_SEED", "0")) or random.SystemRandom().randrange(
        1, 2**31)
    say(f"{test_name}: seed {value} (replay with RELOPS_CHAOS_SEED={value})")
    return value


def utc_now() -> dt.datetime:
    return dt.datetime.now(UTC).replace(microsecond=0)


def rfc3339(t: dt.datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


# --- the objects the churn writes --------------------------------------------------------


def slo(namespace: str, name: str, rng: random.Random) -> dict:
    return {
        "apiVersion": "relops.dev/v1alpha1", "kind": "ServiceLevelObjective",
        "metadata": {"name": name, "namespace": namespace,
                     "labels": {"tier": rng.choice(["1", "2"])}},
        "spec": {
            "service": name,
            "objective": rng.choice(["95", "99", "99.5", "99.9", "99.95"]),
            "window": rng.choice(["1h", "7d", "28d", "30d", "4w"]),
            "indicator": {"ratio": {
                "errors": f'http_requests_total{{job="{name}",code=~"5.."}}',
                "total": f'http_requests_total{{job="{name}"}}'}},
            "alerting": {"labels": {"team": rng.choice(["payments", "search"])}},
        },
    }


def policy(namespace: str, name: str, rng: random.Random) -> dict:
    return {
        "apiVersion": "relops.dev/v1alpha1", "kind": "ErrorBudgetPolicy",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "sloSelector": {"matchLabels": {"tier": rng.choice(["1", "2"])}},
            "rules": [
                {"name": "budget-low", "budgetRemainingBelow": rng.choice(["25", "50"]),
                 "severity": "Normal"},
                {"name": "budget-exhausted", "budgetRemainingBelow": "0", "hysteresis": "5",
                 "freeze": True},
            ],
        },
    }


def rotation(namespace: str, name: str, rng: random.Random) -> dict:
    layers = [{"name": "primary", "members": rng.sample(PEOPLE, rng.randint(2, 4)),
               "start": f"2026-01-0{rng.randint(1, 9)}T{rng.choice(['09', '10', '18'])}:00:00",
               "turnLength": rng.choice(["12h", "1d", "3d", "1w"])}]
    if rng.random() < 0.4:
        layers.append({"name": "weekend", "members": rng.sample(PEOPLE, 2),
                       "start": "2026-01-03T00:00:00", "turnLength": "1w",
                       "restrictions": [{"days": ["Sat", "Sun"]}]})
    return {
        "apiVersion": "relops.dev/v1alpha1", "kind": "OnCallRotation",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"timeZone": rng.choice(ZONES),
                 "participants": [{"name": p} for p in PEOPLE],
                 "layers": layers,
                 "horizon": rng.choice(["1w", "2w", "4w"])},
    }


def drill(namespace: str, name: str, rng: random.Random) -> dict:
    return {
        "apiVersion": "relops.dev/v1alpha1", "kind": "DRDrill",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "schedule": rng.choice(["* * * * *"] * 3 + ["*/2 * * * *"]),
            "suspend": rng.random() < 0.15,
            "objectives": {"rto": rng.choice(["5m", "10m"])},
            "successfulRunsHistoryLimit": rng.randint(1, 3),
            "job": {"template": {"spec": {
                "backoffLimit": 0,
                "template": {"spec": {"restartPolicy": "Never",
                                      "containers": [{"name": "check", "image": "busybox"}]}},
            }}},
        },
    }


# A Deployment that never becomes available and a workload SLO on it that the
# churn leaves alone: 98.5% over 1h allows 0.9 bad minutes, so its budget is
# spent a minute or two in, and every churned policy selecting tier 1 freezes the
# Deployment (a freeze binding) from then on.
FROZEN_APP = "frozen-app"
WORKLOAD_SLO = "workload-slo"


def frozen_app(namespace: str) -> dict:
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": FROZEN_APP, "namespace": namespace},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": FROZEN_APP}},
                 "template": {"metadata": {"labels": {"app": FROZEN_APP}},
                              "spec": {"nodeSelector": {"relops.dev/e2e": "nowhere"},
                                       "containers": [{"name": "app", "image": "busybox"}]}}},
    }


def workload_slo(namespace: str) -> dict:
    return {
        "apiVersion": "relops.dev/v1alpha1", "kind": "ServiceLevelObjective",
        "metadata": {"name": WORKLOAD_SLO, "namespace": namespace, "labels": {"tier": "1"}},
        "spec": {"service": FROZEN_APP, "objective": "98.5", "window": "1h",
                 "budgetingMethod": "Timeslices",
                 "indicator": {"workload": {"kind": "Deployment", "name": FROZEN_APP}}},
    }


def budget_spent(slo_obj: dict) -> bool:
    return conditions(slo_obj).get("BudgetExhausted", {}).get("status") == "True"


MAKERS: dict[str, Callable[[str, str, random.Random], dict]] = {
    "servicelevelobjectives": slo, "errorbudgetpolicies": policy,
    "oncallrotations": rotation, "drdrills": drill,
}


def apply(kubectl: Kubectl, obj: dict) -> None:
    kubectl.run("apply", "--server-side", f"--field-manager={FIELD_MANAGER}", "--force-conflicts",
                "-f", "-", input=json.dumps(obj), timeout=30)


class Churn:
    """A bounded stream of spec edits, creates and deletes across the kinds,
    one kubectl call at a time, in a thread. Calls that fail (the API server is
    down, a delete raced) are counted and the stream goes on: what counts at the
    end is what the API server holds."""

    def __init__(self, kubectl: Kubectl, namespace: str, rng: random.Random):
        self.kubectl = kubectl
        self.namespace = namespace
        self.rng = rng
        self.present: dict[str, set[str]] = {kind: set() for kind in KINDS}
        self.counts = {"create": 0, "edit": 0, "delete": 0, "run-now": 0, "failed": 0}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def paused(self):
        with self._lock:
            yield

    def apply_now(self, kind: str, obj: dict) -> None:
        """An object of the test's choosing, part of the churn from then on
        (call it while paused)."""
        apply(self.kubectl, obj)
        self.present[kind].add(obj["metadata"]["name"])

    def seed_objects(self) -> None:
        """Half of every pool, so there is something to edit from the start."""
        for kind in KINDS:
            for i in range(POOL[kind] // 2 + 1):
                self._create(kind, f"{PREFIX[kind]}-{i}")

    def step(self) -> None:
        kind = self.rng.choices(KINDS, weights=[4, 2, 3, 2])[0]
        present = sorted(self.present[kind])
        absent = [f"{PREFIX[kind]}-{i}" for i in range(POOL[kind])
                  if f"{PREFIX[kind]}-{i}" not in self.present[kind]]
        roll = self.rng.random()
        try:
            if absent and (roll < 0.25 or not present):
                self._create(kind, self.rng.choice(absent))
            elif present and kind == "drdrills" and roll < 0.45:
                self.run_now(self.rng.choice(present))
            elif present and roll < 0.45:
                name = self.rng.choice(present)
                self.kubectl.run("delete", kind, name, "-n", self.namespace, "--wait=false",
                                 "--ignore-not-found", timeout=30)
                self.present[kind].discard(name)
                self.counts["delete"] += 1
            elif present:
                apply(self.kubectl, MAKERS[kind](self.namespace, self.rng.choice(present),
                                                 self.rng))
                self.counts["edit"] += 1
        except (KubectlError, subprocess.TimeoutExpired):
            self.counts["failed"] += 1

    def run_now(self, drill_name: str) -> None:
        """A run now, through the annotation (a new token each time)."""
        self.counts["run-now"] += 1
        self.kubectl.run("annotate", "--overwrite", "drdrill", drill_name, "-n", self.namespace,
                         f"relops.dev/run-now=t{self.counts['run-now']}", timeout=30)

    def _create(self, kind: str, name: str) -> None:
        apply(self.kubectl, MAKERS[kind](self.namespace, name, self.rng))
        self.present[kind].add(name)
        self.counts["create"] += 1

    def start(self, pause: float = 0.15) -> None:
        def loop() -> None:
            while not self._stop.is_set():
                with self._lock:
                    self.step()
                self._stop.wait(pause)

        self._thread = threading.Thread(target=loop, daemon=True)
        self._thread.start()

    def stop(self) -> float:
        """Stops the stream; returns the monotonic time of its last change."""
        if not self._stop.is_set():
            self._stop.set()
            if self._thread:
                self._thread.join(timeout=60)
            say(f"churn: {self.counts}")
        return time.monotonic()


# --- a sentinel that times each recovery ------------------------------------------------


class Sentinel:
    """An OnCallRotation the churn never touches. bump() changes its spec
    (a new generation); recovered() is true once relops has observed it."""

    NAME = "sentinel"

    def __init__(self, kubectl: Kubectl, namespace: str):
        self.kubectl = kubectl
        self.namespace = namespace
        self.horizon = 1
        apply(kubectl, self._manifest())

    def _manifest(self) -> dict:
        return {
            "apiVersion": "relops.dev/v1alpha1", "kind": "OnCallRotation",
            "metadata": {"name": self.NAME, "namespace": self.namespace},
            "spec": {"timeZone": "UTC", "participants": [{"name": "ana"}, {"name": "ben"}],
                     "layers": [{"name": "primary", "members": ["ana", "ben"],
                                 "start": "2026-01-05T09:00:00", "turnLength": "1w"}],
                     "horizon": f"{self.horizon}w"},
        }

    def bump(self) -> None:
        """Retries through an API server that is still coming back."""
        self.horizon = self.horizon % 8 + 1
        deadline = time.monotonic() + 60
        while True:
            try:
                apply(self.kubectl, self._manifest())
                return
            except (KubectlError, subprocess.TimeoutExpired):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def recovered(self) -> bool:
        obj = self.kubectl.get("oncallrotation", self.NAME, self.namespace)
        status = obj.get("status", {})
        ready = any(c["type"] == "Ready" and c["status"] == "True"
                    for c in status.get("conditions", []))
        return ready and status.get("observedGeneration") == obj["metadata"]["generation"]

    def time_recovery(self, fault_ended: float, what: str, timeout: float = 120) -> float:
        """Seconds from the end of a fault until relops has reconciled a
        change made after it."""
        self.bump()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.recovered():
                    seconds = time.monotonic() - fault_ended
                    say(f"recovery after {what}: {seconds:.1f}s")
                    return seconds
            except (KubectlError, subprocess.TimeoutExpired):
                pass
            time.sleep(0.2)
        raise AssertionError(f"relops did not reconcile the sentinel within {timeout}s "
                             f"after {what}")


# --- every DRDrillRun the API server announces -----------------------------------------


class RunRecorder:
    """Watches DRDrillRuns through kubectl (re-opening the watch when the API
    server restarts) and keeps every run uid seen per drill uid and scheduled
    time or run-now token: two uids for one means a run was created twice."""

    def __init__(self, kubectl: Kubectl, namespace: str):
        self.kubectl = kubectl
        self.namespace = namespace
        self.seen: dict[tuple[str, str], set[str]] = {}
        self.names: dict[str, str] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._process: subprocess.Popen | None = None
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _record(self, run: dict) -> None:
        owner = next((o["uid"] for o in run["metadata"].get("ownerReferences", [])
                      if o.get("kind") == "DRDrill"), "")
        spec = run.get("spec", {})
        # One run per scheduled time, and one per run-now token.
        when = (spec.get("scheduledTime", "") if spec.get("trigger") == "Schedule"
                else f"run-now {spec.get('runNowToken', '')}")
        key = (owner or spec.get("drillName", ""), when)
        with self._lock:
            self.seen.setdefault(key, set()).add(run["metadata"]["uid"])
            self.names[run["metadata"]["uid"]] = run["metadata"]["name"]

    def _loop(self) -> None:
        decoder = json.JSONDecoder()
        while not self._stop.is_set():
            try:
                for run in self.kubectl.get("drdrillruns", namespace=self.namespace)["items"]:
                    self._record(run)
            except (KubectlError, subprocess.TimeoutExpired, json.JSONDecodeError):
                self._stop.wait(1)
                continue
            self._process = subprocess.Popen(
                ["kubectl", "--kubeconfig", self.kubectl.kubeconfig, "get", "drdrillruns",
                 "-n", self.namespace, "--watch-only", "-o", "json"],
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            buffer = ""
            assert self._process.stdout
            for line in self._process.stdout:
                buffer += line
                while buffer.strip():
                    try:
                        obj, end = decoder.raw_decode(buffer.lstrip())
                    except json.JSONDecodeError:
                        break
                    buffer = buffer.lstrip()[end:]
                    if obj.get("kind") == "DRDrillRun":
                        self._record(obj)
            self._process.wait()
            self._stop.wait(0.5)

    def stop(self) -> None:
        self._stop.set()
        if self._process and self._process.poll() is None:
            self._process.kill()
        self._thread.join(timeout=10)

    def duplicates(self) -> list[str]:
        with self._lock:
            return [f"drill {owner} at {at}: runs {sorted(self.names[u] for u in uids)}"
                    for (owner, at), uids in self.seen.items() if len(uids) > 1]

    def total(self) -> int:
        with self._lock:
            return sum(len(uids) for uids in self.seen.values())


# --- convergence ------------------------------------------------------------------------


def relops_cli(*args: str, input: str) -> str:
    result = subprocess.run([os.environ["RELOPS_BINARY"], *args], input=input,
                            capture_output=True, text=True, timeout=30)
    if result.returncode != 0:
        raise AssertionError(f"relops {' '.join(args)} exited {result.returncode}: "
                             f"{result.stderr.strip()}")
    return result.stdout


def conditions(obj: dict) -> dict[str, dict]:
    return {c["type"]: c for c in obj.get("status", {}).get("conditions", [])}


def as_user_wrote_it(obj: dict) -> dict:
    """The object without what the server adds, as a user's file would hold it."""
    clean = copy.deepcopy(obj)
    clean.pop("status", None)
    for key in ("managedFields", "resourceVersion", "generation", "creationTimestamp"):
        clean["metadata"].pop(key, None)
    return clean


def expected_on_call(rotation_obj: dict, at: dt.datetime) -> str:
    """`relops oncall who` for the object as the server holds it (its status
    carries the rotation positions relops keeps)."""
    out = relops_cli("oncall", "who", "-f", "-", "--at", rfc3339(at),
                     input=json.dumps(rotation_obj))
    line = next(line for line in out.splitlines() if line.startswith("On call:"))
    who = line.removeprefix("On call:").strip()
    return "" if who.startswith("nobody") else who.split(" ", 1)[0]


def expected_rule_data(slo_obj: dict) -> dict:
    """The ConfigMap data `relops generate --format configmap` makes of the SLO."""
    out = relops_cli("generate", "-f", "-", "--format", "configmap", "-o", "json",
                     input=json.dumps(as_user_wrote_it(slo_obj)))
    generated = json.loads(out)
    items = generated.get("items", generated) if isinstance(generated, dict) else generated
    if isinstance(items, dict):
        items = [items]
    return items[0]["data"]


def expected_next_fire(drill_obj: dict, at: dt.datetime) -> str | None:
    if drill_obj["spec"].get("suspend"):
        return None
    out = json.loads(relops_cli("drill", "next", "-f", "-", "--from", rfc3339(at), "-n", "1",
                                "--format", "json", input=json.dumps(as_user_wrote_it(drill_obj))))
    return out["fires"][0]["time"] if out["fires"] else None


def selected(policy_obj: dict, slos: list[dict]) -> int:
    match = policy_obj["spec"]["sloSelector"].get("matchLabels", {})
    return sum(all(s["metadata"].get("labels", {}).get(k) == v for k, v in match.items())
               for s in slos)


TERMINAL = ("Succeeded", "Failed", "Error")


def differences(kubectl: Kubectl, namespace: str) -> list[str]:
    """Everything in the namespace that is not yet what its kind's logic says
    for its current spec; empty once relops has converged."""
    problems: list[str] = []
    now = utc_now()
    items = kubectl.get(",".join(KINDS + ("drdrillruns", "configmaps", "jobs.batch")),
                        namespace=namespace)["items"]
    by_kind: dict[str, list[dict]] = {}
    for item in items:
        if "deletionTimestamp" in item["metadata"] and item["kind"] in (
                "ServiceLevelObjective", "ErrorBudgetPolicy", "OnCallRotation"):
            problems.append(f"{item['kind']} {item['metadata']['name']} is stuck deleting")
            continue
        by_kind.setdefault(item["kind"], []).append(item)
    uids = {item["metadata"]["uid"]: item for item in items}

    def check_status(obj: dict) -> bool:
        name = f"{obj['kind']} {obj['metadata']['name']}"
        observed = obj.get("status", {}).get("observedGeneration")
        if observed != obj["metadata"]["generation"]:
            problems.append(f"{name}: observedGeneration {observed}, generation "
                            f"{obj['metadata']['generation']}")
            return False
        ready = conditions(obj).get("Ready", {})
        if ready.get("status") != "True":
            problems.append(f"{name}: Ready {ready.get('status')} ({ready.get('reason')}: "
                            f"{ready.get('message')})")
            return False
        return True

    slos = by_kind.get("ServiceLevelObjective", [])
    configmaps = {c["metadata"]["name"]: c for c in by_kind.get("ConfigMap", [])}
    for obj in slos:
        if not check_status(obj) or "workload" in obj["spec"]["indicator"]:
            continue
        name = obj["metadata"]["name"]
        child = configmaps.get(f"relops-slo-{name}")
        if child is None:
            problems.append(f"SLO {name}: no rule ConfigMap")
        elif child.get("data") != expected_rule_data(obj):
            problems.append(f"SLO {name}: the rule ConfigMap differs from relops generate")
        elif not any(o["uid"] == obj["metadata"]["uid"]
                     for o in child["metadata"].get("ownerReferences", [])):
            problems.append(f"SLO {name}: the rule ConfigMap is not owned by it")
    for name, child in configmaps.items():
        owners = child["metadata"].get("ownerReferences", [])
        if name.startswith("relops-slo-") and not any(o["uid"] in uids for o in owners):
            problems.append(f"ConfigMap {name} is orphaned (its SLO is gone)")

    # A policy freezes the selected SLOs whose budget is spent (only the workload
    # SLO's can be: the others have no Prometheus); its binding exists exactly then.
    bindings = {b["metadata"]["name"]: b
                for b in kubectl.get("validatingadmissionpolicybindings")["items"]}
    for obj in by_kind.get("ErrorBudgetPolicy", []):
        if not check_status(obj):
            continue
        name = obj["metadata"]["name"]
        spent = [s for s in slos if budget_spent(s) and selected(obj, [s])]
        want = f"{selected(obj, slos)} SLO(s) selected, {len(spent)} frozen"
        message = conditions(obj)["Ready"].get("message", "")
        if not message.startswith(want):
            problems.append(f"policy {name}: Ready says {message!r}, want {want!r}")
        if obj["status"].get("frozenCount", 0) != len(spent):
            problems.append(f"policy {name}: frozenCount {obj['status'].get('frozenCount')}, "
                            f"{len(spent)} selected SLO(s) have spent their budget")
        binding = bindings.get(f"relops.dev-freeze.{namespace}.{name}")
        if spent and binding is None:
            problems.append(f"policy {name} freezes {FROZEN_APP} but has no binding")
        elif spent and FROZEN_APP not in json.dumps(binding["spec"]):
            problems.append(f"policy {name}: its binding does not name {FROZEN_APP}")

    for obj in by_kind.get("OnCallRotation", []):
        if not check_status(obj):
            continue
        want = expected_on_call(obj, now)
        have = obj["status"].get("onCall", {}).get("participant", "")
        if have != want:
            problems.append(f"rotation {obj['metadata']['name']}: onCall {have!r}, "
                            f"relops oncall who says {want!r}")

    drills = by_kind.get("DRDrill", [])
    for obj in drills:
        if "deletionTimestamp" in obj["metadata"]:
            problems.append(f"DRDrill {obj['metadata']['name']} is stuck deleting")
            continue
        if not check_status(obj):
            continue
        want = expected_next_fire(obj, now)
        have = obj["status"].get("nextScheduleTime")
        if have != want:
            problems.append(f"drill {obj['metadata']['name']}: nextScheduleTime {have}, "
                            f"relops drill next says {want}")
    for run in by_kind.get("DRDrillRun", []):
        name = run["metadata"]["name"]
        owners = run["metadata"].get("ownerReferences", [])
        if not any(o["uid"] in uids for o in owners):
            problems.append(f"DRDrillRun {name} is orphaned (its DRDrill is gone)")
        age = (now - parse_time(run["metadata"]["creationTimestamp"])).total_seconds()
        phase = run.get("status", {}).get("phase")
        if phase not in TERMINAL and age > 180:
            problems.append(f"DRDrillRun {name} is {phase} after {age:.0f}s")
    for job in by_kind.get("Job", []):
        owners = job["metadata"].get("ownerReferences", [])
        if owners and not any(o["uid"] in uids for o in owners):
            problems.append(f"Job {job['metadata']['name']} is orphaned (its run is gone)")

    # Cluster-scoped leftovers: freeze bindings and drill sandboxes of this namespace.
    policies = {p["metadata"]["name"]: p for p in by_kind.get("ErrorBudgetPolicy", [])}
    prefix = f"relops.dev-freeze.{namespace}."
    for name in bindings:
        if not name.startswith(prefix):
            continue
        owner = policies.get(name.removeprefix(prefix))
        if owner is None or owner.get("status", {}).get("frozenCount", 0) == 0:
            problems.append(f"freeze binding {name} is orphaned")
    runs_by_name = {r["metadata"]["name"]: r for r in by_kind.get("DRDrillRun", [])}
    for sandbox in kubectl.run("get", "namespaces", "-l",
                               f"relops.dev/drill-namespace={namespace}", "-o",
                               "jsonpath={.items[*].metadata.name}").stdout.split():
        live = [r for r in runs_by_name.values()
                if r.get("status", {}).get("sandboxNamespace") == sandbox
                and r["status"].get("phase") not in TERMINAL]
        if not live:
            problems.append(f"drill sandbox namespace {sandbox} is orphaned")
    return problems


def converge(kubectl: Kubectl, namespace: str, since: float, what: str,
             timeout: float = 150, logs: list[Operator] = ()) -> float:
    """Waits until differences() is empty; returns seconds since `since`."""
    deadline = time.monotonic() + timeout
    last: list[str] = []
    while time.monotonic() < deadline:
        try:
            last = differences(kubectl, namespace)
        except (KubectlError, subprocess.TimeoutExpired) as error:
            last = [f"kubectl: {error}"]
        if not last:
            seconds = time.monotonic() - since
            say(f"converged {seconds:.1f}s after {what}")
            return seconds
        time.sleep(1)
    tails = "\n".join(f"--- {op.log_path.name} (last 20 lines)\n" +
                      "\n".join(op.log().splitlines()[-20:]) for op in logs)
    raise AssertionError(f"not converged {timeout}s after {what}:\n  " + "\n  ".join(last) +
                         "\n" + tails)


def inventory(kubectl: Kubectl, namespace: str) -> str:
    items = kubectl.get(",".join(KINDS + ("drdrillruns",)), namespace=namespace)["items"]
    counts: dict[str, int] = {}
    for item in items:
        counts[item["kind"]] = counts.get(item["kind"], 0) + 1
    return ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))


# --- what relops did ---------------------------------------------------------------------

CRASH = re.compile(r"terminate called|Segmentation fault|Aborted|core dumped|AddressSanitizer|"
                   r"runtime error:|stack smashing|double free|\"level\":\"fatal\"|"
                   r"std::bad_alloc|assertion .* failed", re.IGNORECASE)


@dataclass
class Lifetime:
    """One relops process: its wall-clock span and how it ended."""

    operator: Operator
    user: str
    started: float = field(default_factory=time.time)
    ended: float | None = None
    exit_code: int | None = None
    killed: bool = False  # by the test, with SIGKILL
    stopping: bool = False  # the test has sent it a signal


def crashes(lifetimes: list[Lifetime]) -> list[str]:
    found = []
    for life in lifetimes:
        for line in life.operator.log().splitlines():
            if CRASH.search(line):
                found.append(f"{life.operator.log_path.name}: {line[:300]}")
        if life.exit_code is not None and not life.killed and life.exit_code != 0:
            found.append(f"{life.operator.log_path.name}: exited {life.exit_code}")
    return found


def identity(kubectl: Kubectl, user: str, workdir: Path) -> tuple[str, dict]:
    """A kubeconfig (path, parsed) for a user of its own, with a client
    certificate the cluster's CA signs (group system:masters): the API server's
    audit log then tells one relops process's requests from another's."""
    config = json.loads(kubectl.run("config", "view", "--raw", "-o", "json").stdout)
    pki = Path(kubectl.kubeconfig).resolve().parent / "pki"
    key, csr, crt = (workdir / f"{user}.{ext}" for ext in ("key", "csr", "crt"))
    subprocess.run(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
                    "-out", str(csr), "-subj", f"/O=system:masters/CN={user}"],
                   check=True, capture_output=True)
    subprocess.run(["openssl", "x509", "-req", "-in", str(csr), "-CA", str(pki / "ca.crt"),
                    "-CAkey", str(pki / "ca.key"), "-CAcreateserial", "-CAserial",
                    str(workdir / "ca.srl"), "-days", "1", "-out", str(crt)],
                   check=True, capture_output=True)
    config["users"][0]["user"] = {
        "client-certificate-data": base64.b64encode(crt.read_bytes()).decode(),
        "client-key-data": base64.b64encode(key.read_bytes()).decode(),
    }
    path = workdir / f"{user}.kubeconfig"
    path.write_text(json.dumps(config))
    return str(path), config


def requests_audited(kubeconfig: str, user: str) -> list[float]:
    """Wall-clock times at which the API server received a write from `user`
    (the audit log records every write, and only writes)."""
    times = []
    needle = f'"username":"{user}"'
    with open(audit_log(kubeconfig)) as log:
        for line in log:
            if needle in line:
                times.append(parse_time(json.loads(line)["requestReceivedTimestamp"]).timestamp())
    return sorted(times)


@dataclass
class BucketCheck:
    requests: int
    peak_excess: float  # most requests beyond what the bucket allowed, at any moment
    peak_per_second: int

    def describe(self, qps: float, burst: int) -> str:
        return (f"{self.requests} requests, peak {self.peak_per_second} in one second, "
                f"at most {self.peak_excess:.1f} beyond a token bucket of {qps:g} qps, "
                f"burst {burst}")


def token_bucket(times: list[float], qps: float, burst: int) -> BucketCheck:
    """Replays request arrival times through client-go's token bucket; the
    debt at the deepest point is how far the client went over its limit."""
    tokens, last, deepest = float(burst), None, 0.0
    for t in sorted(times):
        if last is not None:
            tokens = min(float(burst), tokens + (t - last) * qps)
        tokens -= 1
        deepest = min(deepest, tokens)
        last = t
    per_second: dict[int, int] = {}
    for t in times:
        per_second[int(t)] = per_second.get(int(t), 0) + 1
    return BucketCheck(len(times), max(0.0, -deepest), max(per_second.values(), default=0))


# Arrival times at the server are the client's send times plus a latency that
# varies (the machines here are shared): a request delayed by up to JITTER
# seconds can make the bucket look that much emptier.
JITTER = 1.0


def rate_limit_slack(qps: float) -> float:
    return 1 + qps * JITTER


def restart_component(kubeconfig: str, component: str, kill: bool = False) -> None:
    path = Path(kubeconfig).resolve().parent
    subprocess.run([str(CLUSTER_DIR / "restart"), path.name, component,
                    *(["--kill"] if kill else [])],
                   check=True, timeout=240,
                   env={**os.environ, "RELOPS_CLUSTER_ROOT": str(path.parent)})


def report(recoveries: dict[str, float]) -> None:
    say("recovery times (from the end of each fault until relops reconciled a change):")
    for what, seconds in recoveries.items():
        say(f"  {what:<40} {seconds:6.1f}s")


class Scenario:
    """One fault test's frame: relops processes (each with a client identity
    of its own), the churn, the sentinel, the run recorder, and the checks
    after the churn stops."""

    def __init__(self, kubectl: Kubectl, namespace: str, workdir: Path, name: str):
        self.kubectl = kubectl
        self.namespace = namespace
        self.workdir = workdir
        self.rng = random.Random(seed(name))
        self.lifetimes: list[Lifetime] = []
        self.recoveries: dict[str, float] = {}
        self.sentinel: Sentinel | None = None
        self.churn: Churn | None = None
        self.recorder: RunRecorder | None = None

    def start_relops(self, *flags: str,
                     route: Callable[[dict], str] | None = None) -> Lifetime:
        """`route` turns the process's kubeconfig into another (through a proxy)."""
        n = len(self.lifetimes)
        user = f"relops-{self.namespace}-{n}"
        path, config = identity(self.kubectl, user, self.workdir)
        if route:
            path = route(config)
        op = Operator(path, self.workdir / f"relops-{n}.log", "--watch-namespace",
                      self.namespace, *RELOPS_FLAGS, *flags)
        life = Lifetime(op, user)
        self.lifetimes.append(life)
        return life

    def stop(self, life: Lifetime, sig: int = signal.SIGTERM) -> int:
        assert life.operator.alive(), (
            f"{life.operator.log_path.name} exited {life.operator.process.returncode} "
            "on its own:\n" + "\n".join(life.operator.log().splitlines()[-20:]))
        life.killed = sig == signal.SIGKILL
        life.stopping = True
        life.exit_code = life.operator.stop(sig)
        life.ended = time.time()
        return life.exit_code

    def alive(self) -> list[Lifetime]:
        return [life for life in self.lifetimes if life.ended is None]

    def operators(self) -> list[Operator]:
        return [life.operator for life in self.lifetimes]

    def begin(self) -> None:
        """The first objects, converged before any fault (the check passes on a
        calm cluster), then the churn starts."""
        self.sentinel = Sentinel(self.kubectl, self.namespace)
        self.churn = Churn(self.kubectl, self.namespace, self.rng)
        self.churn.seed_objects()
        self.recorder = RunRecorder(self.kubectl, self.namespace)
        self.churn.run_now("drill-0")  # at least one run, whatever the schedules do
        converge(self.kubectl, self.namespace, time.monotonic(), "creating the first objects",
                 timeout=120, logs=self.operators())
        self.churn.start()

    def start_budget_clock(self) -> None:
        """The unavailable Deployment and its workload SLO, first thing, so
        the budget is spent while the faults go on."""
        apply(self.kubectl, frozen_app(self.namespace))
        apply(self.kubectl, workload_slo(self.namespace))

    def freeze(self, timeout: float = 180) -> float:
        """Waits for the workload SLO's budget to be spent, then makes sure a
        policy selects it (policy-0, tier 1; the churn goes on editing and
        deleting it); returns when relops has applied its freeze binding."""
        assert self.churn
        began = time.monotonic()
        wait_until("the workload SLO's budget to be spent", lambda: budget_spent(
            self.kubectl.get("servicelevelobjective", WORKLOAD_SLO, self.namespace)),
            timeout=timeout, interval=1)
        chosen = policy(self.namespace, "policy-0", self.rng)
        chosen["spec"]["sloSelector"]["matchLabels"]["tier"] = "1"
        with self.churn.paused():  # until the binding is there
            self.churn.apply_now("errorbudgetpolicies", chosen)
            wait_until("relops to apply the freeze binding of policy-0", lambda: self.kubectl.exists(
                "validatingadmissionpolicybinding", f"relops.dev-freeze.{self.namespace}.policy-0"),
                timeout=120, interval=0.5)
        say(f"budget spent and a freeze binding applied "
              f"{time.monotonic() - began:.1f}s into waiting for it")
        return time.monotonic() - began

    def recovered(self, fault_ended: float, what: str) -> None:
        assert self.sentinel
        self.recoveries[what] = self.sentinel.time_recovery(fault_ended, what)

    def finish(self) -> None:
        assert self.churn and self.recorder
        ended = self.churn.stop()
        self.recoveries["churn stopped: every object converged"] = converge(
            self.kubectl, self.namespace, ended, "the churn stopped", logs=self.operators())
        say(f"at the end: {inventory(self.kubectl, self.namespace)}; "
              f"{self.recorder.total()} DRDrillRuns seen")
        # Deleting the drills ends their runs: relops lifts its cleanup finalizers.
        self.kubectl.run("delete", "drdrills", "--all", "-n", self.namespace, "--wait=false")
        wait_until("the DRDrillRuns to go with their drills", lambda: not self.kubectl.get(
            "drdrillruns", namespace=self.namespace)["items"], timeout=120)
        # Deleting the policies lifts their freezes: relops deletes the bindings.
        self.kubectl.run("delete", "errorbudgetpolicies", "--all", "-n", self.namespace,
                         "--wait=false")
        wait_until("the freeze bindings to go with their policies", lambda: not [
            b for b in self.kubectl.get("validatingadmissionpolicybindings")["items"]
            if b["metadata"]["name"].startswith(f"relops.dev-freeze.{self.namespace}.")],
            timeout=60)
        self.recorder.stop()
        for life in self.alive():
            code = self.stop(life)
            assert code == 0, f"{life.operator.log_path.name}: SIGTERM exit code {code}"
        report(self.recoveries)

        assert not crashes(self.lifetimes), crashes(self.lifetimes)
        assert not self.recorder.duplicates(), self.recorder.duplicates()
        assert self.recorder.total() > 0, "no DRDrillRun was created: nothing to check for twins"
        for life in self.lifetimes:
            self.check_rate(life.user, requests_audited(self.kubectl.kubeconfig, life.user),
                            "writes the API server audited")

    def check_rate(self, who: str, times: list[float], source: str) -> None:
        check = token_bucket(times, KUBE_API_QPS, KUBE_API_BURST)
        say(f"client rate limit, {who} ({source}): "
              f"{check.describe(KUBE_API_QPS, KUBE_API_BURST)}")
        assert check.peak_excess <= rate_limit_slack(KUBE_API_QPS), (
            f"{who} went {check.peak_excess:.1f} requests beyond its limit of "
            f"{KUBE_API_QPS:g} qps, burst {KUBE_API_BURST}")

    def close(self) -> None:
        if self.churn:
            self.churn.stop()
        if self.recorder:
            self.recorder.stop()
        for life in self.alive():
            life.operator.stop(signal.SIGKILL)
            life.ended = time.time()


@pytest.fixture
def scenario(request, capsys, kubectl: Kubectl, namespace: str, crds, tmp_path: Path):
    global _capsys
    _capsys = capsys
    frame = Scenario(kubectl, namespace, tmp_path, request.node.name)
    yield frame
    frame.close()
    _capsys = None
