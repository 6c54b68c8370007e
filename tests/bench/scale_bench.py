#!/usr/bin/env python3
"""Scale benchmark: one relops replica against a real control plane holding
N ServiceLevelObjectives (ratio indicators, rules only), OnCallRotations and
suspended DRDrills across many namespaces, next to a bare-write baseline of the
writes relops must make, and beside it the peer SLO operators Pyrra and Sloth
on the same N SLOs, each with a baseline of its own rules.

It reports figures and never passes or fails on them: one Markdown table, a
column per tool, on standard output and in --output. It exits non-zero only
when the benchmark could not run (the cluster did not come up, relops exited, a
setup step failed); a peer that fails says so in its column.

    tests/bench/scale_bench.py --relops build/release/app/relops \
        --objectives 1000 --cluster bench-scale --output build/release/bench/scale-1000.md \
        --peer pyrra=/tmp/relops-peers/bin/pyrra --peer sloth=/tmp/relops-peers/bin/sloth

Every tool runs alone on a fresh cluster (tests/cluster/down NAME, then up
NAME), one after the other; the cluster is stopped at the end. Peers are built
by tests/bench/build-peers.sh; a peer's CRD is read from the source tree it was
built from (--peer-src, or the layout that script writes). Peers get only the
N SLOs, in their own kinds (Pyrra: pyrra.dev/v1alpha1 ServiceLevelObjective;
Sloth: sloth.slok.dev/v1 PrometheusServiceLevel): ratio indicator, objective
99.9, window 28d, the same namespaces.

What is measured, and where it comes from:
  - converge: from the process starting until every generated PrometheusRule
    is present and every status written, seen through watches this script
    holds on the API server (not through the tool). relops: every object has
    Ready=True with status.observedGeneration equal to metadata.generation;
    Pyrra: its rule exists and status.type is set; Sloth: its rule exists and
    status.observedGeneration is current with promOpRulesGenerated;
  - baseline: relops: the N rules `relops generate` renders, by one `kubectl
    apply --server-side`, and a status of relops's shape on every SLO, rotation
    and drill by `kubectl patch --subresource=status -f` (one per kind); a
    peer: its own rules, dumped from its converged cluster, stripped of server
    fields, deleted and applied again by one `kubectl apply --server-side`;
  - memory: VmHWM (peak) and VmRSS (steady: the mean over the idle window) from
    /proc/<pid>/status; CPU seconds: utime + stime from /proc/<pid>/stat;
  - API requests by verb: writes from the API server's audit log
    (<cluster>/logs/audit.log, every write, with the client's User-Agent:
    `relops...`, and for a peer client-go's default, which starts with the
    binary's file name, `pyrra/...`, `sloth/...`); reads from the API server's
    apiserver_request_total on the groups under test, the difference over the
    phase (the counter does not name clients: see read_requests), with relops's
    own rest_client_requests_total beside it;
  - latency: a spec change (PATCH of the objective) sent by this script, until
    the watch shows, for relops, status.observedGeneration at the new
    generation with Ready, and for a peer, its PrometheusRule's spec changed;
    a watch event reaches this script a few milliseconds after the write;
    one change at a time, with the whole load in the cluster;
  - idle writes: writes audited for the tool during the idle window (--idle),
    and during a late window from the idle window's end until --late-idle
    seconds after converge (default 16 minutes: Sloth re-handles every object
    every 15).
"""

from __future__ import annotations

import argparse
import base64
import collections
import datetime
import hashlib
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Iterator

REPO = Path(__file__).resolve().parent.parent.parent
CLUSTER_SCRIPTS = REPO / "tests" / "cluster"
# The PrometheusRule CRD comes from the Prometheus Operator's Go module at run
# time, as in tests/e2e/test_slo_crd.py.
PROMETHEUS_OPERATOR_MODULE = "github.com/prometheus-operator/prometheus-operator@v0.85.0"
PROMETHEUS_RULE_CRD = "example/prometheus-operator-crd/monitoring.coreos.com_prometheusrules.yaml"
RELOPS_GROUP = "/apis/relops.dev/v1alpha1"
RULES_GROUP = "/apis/monitoring.coreos.com/v1"
READ_GROUPS = ("relops.dev", "monitoring.coreos.com")
KINDS = {  # plural -> what the table calls it
    "servicelevelobjectives": "ServiceLevelObjective",
    "oncallrotations": "OnCallRotation",
    "drdrills": "DRDrill",
}


def log(message: str) -> None:
    stamp = datetime.datetime.now().strftime("%H:%M:%S")
    print(f"[{stamp}] {message}", file=sys.stderr, flush=True)


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


# --- the API server, through an HTTPS client of this script's own ------------


class Api:
    """A minimal HTTPS client authenticated with the kubeconfig's client
    certificate. Independent of relops's client, so relops cannot vouch for
    itself."""

    def __init__(self, kubeconfig: str, kubectl: str):
        config = json.loads(subprocess.run(
            [kubectl, "--kubeconfig", kubeconfig, "config", "view", "--raw", "--minify",
             "-o", "json"], check=True, capture_output=True, text=True).stdout)
        cluster = config["clusters"][0]["cluster"]
        user = config["users"][0]["user"]
        server = cluster["server"].removeprefix("https://")
        self.host, port = server.rsplit(":", 1)
        self.port = int(port)
        self._files = tempfile.TemporaryDirectory(prefix="scale-bench-")
        files = Path(self._files.name)
        (files / "ca.crt").write_bytes(base64.b64decode(cluster["certificate-authority-data"]))
        (files / "client.crt").write_bytes(base64.b64decode(user["client-certificate-data"]))
        (files / "client.key").write_bytes(base64.b64decode(user["client-key-data"]))
        self.context = ssl.create_default_context(cafile=str(files / "ca.crt"))
        self.context.load_cert_chain(str(files / "client.crt"), str(files / "client.key"))
        self._local = threading.local()

    def connection(self, timeout: float | None = 60) -> http.client.HTTPSConnection:
        return http.client.HTTPSConnection(self.host, self.port, context=self.context,
                                           timeout=timeout)

    def request(self, method: str, path: str, body: Any = None,
                content_type: str = "application/json") -> tuple[int, Any]:
        headers = {"Accept": "application/json", "User-Agent": "scale-bench"}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = content_type
        # A kept-alive connection the server has closed while idle fails on
        # first use: the request is sent again once on a new connection.
        for attempt in (1, 2):
            conn = getattr(self._local, "conn", None)
            if conn is None:
                conn = self._local.conn = self.connection()
            try:
                conn.request(method, path, body=payload, headers=headers)
                response = conn.getresponse()
                data = response.read()
                break
            except (OSError, http.client.HTTPException):
                conn.close()
                self._local.conn = None
                if attempt == 2:
                    raise
        return response.status, json.loads(data) if data.startswith(b"{") else data.decode()

    def metrics(self) -> dict[tuple[str, str, str, str], float]:
        """apiserver_request_total summed by (verb, group, resource, subresource)."""
        status, text = self.request("GET", "/metrics")
        if status != 200:
            raise RuntimeError(f"GET /metrics: {status}")
        totals: dict[tuple[str, str, str, str], float] = collections.defaultdict(float)
        for line in text.splitlines():
            if not line.startswith("apiserver_request_total{"):
                continue
            sample, value = line.rsplit(" ", 1)
            labels = dict(
                part.split("=", 1) for part in sample[len("apiserver_request_total{"):-1]
                .replace('"', "").split(","))
            key = (labels.get("verb", ""), labels.get("group", ""), labels.get("resource", ""),
                   labels.get("subresource", ""))
            totals[key] += float(value)
        return totals


def read_requests(before: dict, after: dict, groups: tuple[str, ...]) -> collections.Counter:
    """Read requests (GET, LIST, WATCH) made between two metric snapshots on the
    API groups of the objects under test (relops.dev, monitoring.coreos.com, a
    peer's group).
    The counter does not tell clients apart: kube-controller-manager's metadata
    informers (garbage collector, quota) re-open their watches on these groups
    every few minutes too, and the API server counts a watch when it ends."""
    counts: collections.Counter = collections.Counter()
    for key, value in after.items():
        verb, group, resource, _ = key
        if verb not in ("GET", "LIST", "WATCH") or group not in groups:
            continue
        delta = value - before.get(key, 0.0)
        if delta > 0:
            counts[verb] += int(delta)
    return counts


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def client_requests(metrics_port: int) -> collections.Counter:
    """relops's own count of its requests, rest_client_requests_total by method."""
    counts: collections.Counter = collections.Counter()
    conn = http.client.HTTPConnection("127.0.0.1", metrics_port, timeout=10)
    conn.request("GET", "/metrics")
    for line in conn.getresponse().read().decode().splitlines():
        if line.startswith("rest_client_requests_total{"):
            sample, value = line.rsplit(" ", 1)
            method = sample.split('method="', 1)[1].split('"', 1)[0]
            counts[method] += int(float(value))
    return counts


class Audit:
    """The API server's audit log: every write, with the client's User-Agent."""

    def __init__(self, path: Path):
        self.path = path

    def writes(self, user_agent_prefix: str, since: float = 0.0,
               until: float = float("inf")) -> collections.Counter:
        counts: collections.Counter = collections.Counter()
        with open(self.path) as lines:
            for line in lines:
                event = json.loads(line)
                if not event.get("userAgent", "").startswith(user_agent_prefix):
                    continue
                received = datetime.datetime.fromisoformat(
                    event["requestReceivedTimestamp"].replace("Z", "+00:00")).timestamp()
                if since <= received < until:
                    counts[event["verb"]] += 1
        return counts

    def user_agents(self, user_agent_prefix: str, since: float,
                    until: float) -> collections.Counter:
        """The full User-Agents of the writes counted by a prefix: what a
        client calls itself."""
        counts: collections.Counter = collections.Counter()
        with open(self.path) as lines:
            for line in lines:
                event = json.loads(line)
                agent = event.get("userAgent", "")
                if not agent.startswith(user_agent_prefix):
                    continue
                received = datetime.datetime.fromisoformat(
                    event["requestReceivedTimestamp"].replace("Z", "+00:00")).timestamp()
                if since <= received < until:
                    counts[agent] += 1
        return counts

    def writes_by_resource(self, user_agent_prefix: str, since: float,
                           until: float) -> collections.Counter:
        counts: collections.Counter = collections.Counter()
        with open(self.path) as lines:
            for line in lines:
                event = json.loads(line)
                if not event.get("userAgent", "").startswith(user_agent_prefix):
                    continue
                received = datetime.datetime.fromisoformat(
                    event["requestReceivedTimestamp"].replace("Z", "+00:00")).timestamp()
                if since <= received < until:
                    ref = event.get("objectRef", {})
                    resource = ref.get("resource", "?") + (
                        "/" + ref["subresource"] if ref.get("subresource") else "")
                    counts[f"{event['verb']} {resource}"] += 1
        return counts


# --- watches: the script's own view of every object --------------------------


class ObjectState:
    """What the script keeps of one watched object: relops's convergence
    fields, whether a peer wrote its status, the object it belongs to (its
    first owner, or itself) and a digest of its spec (a rule's content)."""

    __slots__ = ("generation", "observed", "ready", "written", "owner", "digest")

    def __init__(self) -> None:
        self.generation = 0
        self.observed = -1
        self.ready = ""
        self.written = False
        self.owner = ""
        self.digest = ""

    def converged(self) -> bool:
        return self.ready == "True" and self.observed == self.generation


class Watcher:
    """Watches one kind across all namespaces and keeps, per object, its
    generation, observedGeneration and Ready status (see ObjectState). Calls
    on_change for every event after updating the state. `written` says whether
    an object's status counts as written (peers' kinds have no Ready)."""

    def __init__(self, api: Api, plural: str, on_change: Callable[[str, str, ObjectState], None],
                 group: str = RELOPS_GROUP, written: Callable[[dict], bool] | None = None):
        self.api = api
        self.plural = plural
        self.group = group
        self.written = written
        self.on_change = on_change
        self.states: dict[str, ObjectState] = {}
        self.lock = threading.Lock()
        self.synced = threading.Event()
        self._stop = False
        self._conn: http.client.HTTPSConnection | None = None
        self._thread = threading.Thread(target=self._run, name=f"watch-{plural}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop = True
        if self._conn is not None:
            try:
                self._conn.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _list(self) -> str:
        """Every object, in pages; returns the list's resourceVersion to watch from."""
        continue_token = ""
        while True:
            path = f"{self.group}/{self.plural}?limit=500"
            if continue_token:
                path += f"&continue={continue_token}"
            status, body = self.api.request("GET", path)
            if status != 200:
                raise RuntimeError(f"list {self.plural}: {status}")
            for obj in body["items"]:
                self._update("ADDED", obj)
            continue_token = body["metadata"].get("continue", "")
            if not continue_token:
                return body["metadata"]["resourceVersion"]

    def _events(self, resource_version: str) -> Iterator[dict]:
        path = (f"{self.group}/{self.plural}?watch=true&allowWatchBookmarks=true"
                f"&resourceVersion={resource_version}")
        self._conn = self.api.connection(timeout=None)
        self._conn.request("GET", path, headers={"Accept": "application/json",
                                                 "User-Agent": "scale-bench"})
        response = self._conn.getresponse()
        if response.status != 200:
            raise RuntimeError(f"watch {self.plural}: {response.status} {response.read()[:200]}")
        while True:
            line = response.readline()
            if not line:
                return
            yield json.loads(line)

    def _run(self) -> None:
        resource_version = ""
        while not self._stop:
            try:
                if not resource_version:
                    resource_version = self._list()
                    self.synced.set()
                for event in self._events(resource_version):
                    obj = event["object"]
                    if event["type"] == "ERROR":
                        resource_version = ""  # expired (410): list again
                        break
                    resource_version = obj["metadata"]["resourceVersion"]
                    if event["type"] != "BOOKMARK":
                        self._update(event["type"], obj)
            except (OSError, http.client.HTTPException, ValueError) as error:
                if self._stop:
                    return
                log(f"watch {self.plural}: {error}; reconnecting")
                time.sleep(0.5)

    def _update(self, kind: str, obj: dict) -> None:
        meta = obj["metadata"]
        key = f"{meta['namespace']}/{meta['name']}"
        with self.lock:
            if kind == "DELETED":
                self.states.pop(key, None)
                return
            state = self.states.setdefault(key, ObjectState())
            status = obj.get("status") or {}
            state.generation = meta.get("generation", 0)
            state.observed = status.get("observedGeneration", -1)
            state.ready = next((c.get("status", "") for c in status.get("conditions", [])
                                if c.get("type") == "Ready"), "")
            state.written = bool(self.written and self.written(obj))
            owners = meta.get("ownerReferences") or []
            state.owner = f"{meta['namespace']}/{owners[0]['name']}" if owners else key
            state.digest = hashlib.sha256(
                json.dumps(obj.get("spec"), sort_keys=True).encode()).hexdigest()[:16]
        self.on_change(self.plural, key, state)

    def summary(self) -> collections.Counter:
        with self.lock:
            return collections.Counter(
                "converged" if s.converged() else f"Ready={s.ready or 'absent'}"
                + ("" if s.observed == s.generation else ", observedGeneration behind")
                for s in self.states.values())


# --- the operator process (relops or a peer) ----------------------------------


class Process:
    """A process started by this script, sampled from /proc."""

    def __init__(self, argv: list[str], log_path: Path, env: dict[str, str] | None = None):
        self._log = open(log_path, "w")
        self.process = subprocess.Popen(argv, stdout=self._log, stderr=self._log,
                                        env={**os.environ, **(env or {})})
        self.pid = self.process.pid
        self.started = time.monotonic()
        self.ticks = os.sysconf("SC_CLK_TCK")
        self.samples: list[tuple[float, int]] = []  # (monotonic time, VmRSS KiB)
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()

    def status_kib(self, field: str) -> int:
        with open(f"/proc/{self.pid}/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        return 0

    def cpu_seconds(self) -> float:
        with open(f"/proc/{self.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / self.ticks  # utime, stime

    def _sample(self) -> None:
        while not self._stop.wait(0.25):
            try:
                self.samples.append((time.monotonic(), self.status_kib("VmRSS")))
            except OSError:
                return

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> int:
        self._stop.set()
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        self._log.close()
        return code


# --- the load -----------------------------------------------------------------


def namespace_of(index: int, namespaces: int) -> str:
    return f"scale-{index % namespaces:02d}"


def objective(index: int, namespaces: int) -> dict:
    service = f"svc-{index}"
    return {
        "apiVersion": "relops.dev/v1alpha1",
        "kind": "ServiceLevelObjective",
        "metadata": {"name": f"{service}-availability", "namespace": namespace_of(index, namespaces)},
        "spec": {
            "service": service,
            "description": f"{service} requests that do not fail with a 5xx.",
            "objective": "99.9",
            "window": "28d",
            "indicator": {"ratio": {
                "errors": f'http_requests_total{{job="{service}",code=~"5.."}}',
                "total": f'http_requests_total{{job="{service}"}}',
            }},
            "alerting": {"labels": {"team": f"team-{index % 37}"}},
        },
    }


def rotation(index: int, namespaces: int) -> dict:
    people = [f"person-{index}-{k}" for k in range(4)]
    return {
        "apiVersion": "relops.dev/v1alpha1",
        "kind": "OnCallRotation",
        "metadata": {"name": f"rotation-{index}", "namespace": namespace_of(index, namespaces)},
        "spec": {
            "timeZone": ["Europe/Berlin", "America/New_York", "Asia/Kolkata", "UTC"][index % 4],
            "participants": [{"name": p} for p in people],
            "layers": [{"name": "primary", "members": people,
                        "start": "2026-01-05T09:00:00", "turnLength": "1w"}],
        },
    }


def drill(index: int, namespaces: int) -> dict:
    return {
        "apiVersion": "relops.dev/v1alpha1",
        "kind": "DRDrill",
        "metadata": {"name": f"drill-{index}", "namespace": namespace_of(index, namespaces)},
        "spec": {
            "schedule": f"{index % 60} 2 * * *",
            "suspend": True,
            "objectives": {"rto": "20m", "rpo": "24h"},
            "job": {"template": {"spec": {"backoffLimit": 0, "template": {"spec": {
                "restartPolicy": "Never",
                "containers": [{"name": "restore", "image": "example.invalid/restore:1"}],
            }}}}},
        },
    }


def status_payloads(now: str) -> dict[str, dict]:
    """Per relops kind, a status of the shape and size relops writes for the
    objects above once converged (taken from a converged cluster): the
    baseline's status writes carry these."""
    def condition(kind: str, status: str, reason: str, message: str) -> dict:
        return {"type": kind, "status": status, "reason": reason, "message": message,
                "observedGeneration": 1, "lastTransitionTime": now}

    week = [("2026-11-30T08:00:00Z", "2026-12-07T08:00:00Z", "person-0-3"),
            ("2026-12-07T08:00:00Z", "2026-12-14T08:00:00Z", "person-0-0"),
            ("2026-12-14T08:00:00Z", "2026-12-21T08:00:00Z", "person-0-1"),
            ("2026-12-21T08:00:00Z", "2026-12-28T08:00:00Z", "person-0-2"),
            ("2026-12-28T08:00:00Z", "2027-01-02T23:00:00Z", "person-0-3")]
    members = [f"person-0-{k}" for k in range(4)]
    return {
        "servicelevelobjectives": {"observedGeneration": 1, "conditions": [condition(
            "Ready", "True", "RulesApplied",
            "rules applied to PrometheusRule scale-00/relops-slo-svc-0-availability; "
            "no Prometheus URL configured, so no live error budget")]},
        "oncallrotations": {
            "observedGeneration": 1,
            "conditions": [
                condition("Ready", "True", "Scheduled",
                          "person-0-3 is on call (primary) until 2026-12-07 09:00 CET"),
                condition("Covered", "True", "FullyCovered", "someone is on call at every "
                          "moment until 2027-01-03 00:00 CET (horizon 4w)"),
                condition("Balanced", "True", "WithinAllowedImbalance",
                          "balance score 100.0% from 2026-11-08 00:00 CET to 2027-01-03 "
                          "00:00 CET; nobody carries more than 25% above the mean")],
            "balance": {"score": "100.0"},
            "layers": [{"name": "primary", "active": True, "participant": "person-0-3",
                        "since": week[0][0], "until": week[0][1],
                        "rotation": {"members": members, "offset": 0,
                                     "start": "2026-01-05T09:00:00", "turnLength": "1w"}}],
            "load": {"from": "2026-11-07T23:00:00Z", "to": "2027-01-02T23:00:00Z",
                     "participants": [{"participant": m, "hours": "336.0",
                                       "offHours": "256.0", "weekendHours": "96.0"}
                                      for m in members]},
            "nextHandoff": {"from": "person-0-3", "to": "person-0-0", "time": week[1][0]},
            "onCall": {"layer": "primary", "participant": "person-0-3",
                       "since": week[0][0], "until": week[0][1]},
            "upcomingShifts": [{"layer": "primary", "participant": who, "start": start,
                                "end": end} for start, end, who in week],
        },
        "drdrills": {
            "observedGeneration": 1,
            "conditions": [
                condition("LastRunSucceeded", "Unknown", "NoRunYet", "no run has finished"),
                condition("ObjectivesMet", "Unknown", "NoRunYet", "no run has finished"),
                condition("Ready", "True", "Suspended", "suspended: no scheduled runs start"),
                condition("Running", "False", "Idle", "no run in progress")],
            "consecutiveFailures": 0,
            "retainedRuns": 0,
            "schedule": {"anchor": now, "expression": "0 2 * * *", "timeZone": "UTC"},
        },
    }


def write_documents(path: Path, objects: list[dict]) -> None:
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}))


# --- the peers: other SLO operators, run the same way -------------------------


class Peer:
    """A peer SLO operator run out of cluster on the same N SLOs, in its own
    kind: its binary, its CRD (from its source tree), how to start it, one
    SLO equivalent to objective(index), a spec change of the objective, and
    whether its status counts as written."""

    name = ""
    title = ""
    group = ""  # API path of its SLO kind
    plural = ""
    crd = ""  # path inside its source tree

    def __init__(self, binary: str, source: Path):
        self.binary = str(Path(binary).resolve())
        self.source = source
        # client-go's default User-Agent starts with the binary's file name.
        self.user_agent = Path(binary).name + "/"

    def crd_path(self) -> Path:
        path = self.source / self.crd
        if not path.exists():
            raise RuntimeError(f"{self.name}: no CRD at {path} (set --peer-src "
                               f"{self.name}=DIR to the source tree the binary was built from)")
        return path

    def argv(self, kubeconfig: str, metrics_port: int, spare_port: int) -> list[str]:
        raise NotImplementedError

    def env(self, kubeconfig: str) -> dict[str, str]:
        return {"KUBECONFIG": kubeconfig}

    def objective(self, index: int, namespaces: int) -> dict:
        raise NotImplementedError

    def change(self, n: int) -> tuple[Any, str]:
        """The n-th timed spec change: a patch body and its content type."""
        raise NotImplementedError

    def written(self, obj: dict) -> bool:
        raise NotImplementedError


class Pyrra(Peer):
    """`pyrra kubernetes` (controller-runtime): pyrra.dev/v1alpha1
    ServiceLevelObjective -> a PrometheusRule of the same name, owned by it;
    status.type is set once the rule is written (no observedGeneration).
    Its objectives API listens on :9444 (fixed in its code)."""

    name = "pyrra"
    title = "Pyrra"
    group = "/apis/pyrra.dev/v1alpha1"
    plural = "servicelevelobjectives"
    crd = "examples/kubernetes/manifests/setup/pyrra-slo-CustomResourceDefinition.yaml"

    def argv(self, kubeconfig: str, metrics_port: int, spare_port: int) -> list[str]:
        return [self.binary, "kubernetes", "--disable-webhooks",
                f"--metrics-addr=127.0.0.1:{metrics_port}"]

    def objective(self, index: int, namespaces: int) -> dict:
        service = f"svc-{index}"
        return {
            "apiVersion": "pyrra.dev/v1alpha1",
            "kind": "ServiceLevelObjective",
            # Pyrra copies the SLO's labels onto its rules (relops: alerting.labels).
            "metadata": {"name": f"{service}-availability",
                         "namespace": namespace_of(index, namespaces),
                         "labels": {"team": f"team-{index % 37}"}},
            "spec": {
                "description": f"{service} requests that do not fail with a 5xx.",
                "target": "99.9",
                "window": "28d",
                "indicator": {"ratio": {
                    "errors": {"metric": f'http_requests_total{{job="{service}",code=~"5.."}}'},
                    "total": {"metric": f'http_requests_total{{job="{service}"}}'},
                }},
            },
        }

    def change(self, n: int) -> tuple[Any, str]:
        value = "99.5" if n % 2 == 0 else "99.95"
        return {"spec": {"target": value}}, "application/merge-patch+json"

    def written(self, obj: dict) -> bool:
        return bool((obj.get("status") or {}).get("type"))


class Sloth(Peer):
    """`sloth kubernetes-controller`: sloth.slok.dev/v1 PrometheusServiceLevel
    (one SLO each here) -> a PrometheusRule owned by it; status carries
    observedGeneration and promOpRulesGenerated. The SLO window is a flag."""

    name = "sloth"
    title = "Sloth"
    group = "/apis/sloth.slok.dev/v1"
    plural = "prometheusservicelevels"
    crd = "deploy/kubernetes/helm/sloth/crds/sloth.slok.dev_prometheusservicelevels.yaml"

    def argv(self, kubeconfig: str, metrics_port: int, spare_port: int) -> list[str]:
        return [self.binary, "kubernetes-controller", "--kube-local", f"--kube-config={kubeconfig}",
                "--default-slo-period=28d", f"--metrics-listen-addr=127.0.0.1:{metrics_port}",
                f"--hot-reload-addr=127.0.0.1:{spare_port}"]

    def objective(self, index: int, namespaces: int) -> dict:
        service = f"svc-{index}"
        return {
            "apiVersion": "sloth.slok.dev/v1",
            "kind": "PrometheusServiceLevel",
            "metadata": {"name": f"{service}-availability",
                         "namespace": namespace_of(index, namespaces)},
            "spec": {
                "service": service,
                "labels": {"team": f"team-{index % 37}"},
                "slos": [{
                    "name": "availability",
                    "objective": 99.9,
                    "description": f"{service} requests that do not fail with a 5xx.",
                    "sli": {"events": {
                        "errorQuery": f'sum(rate(http_requests_total{{job="{service}",'
                                      f'code=~"5.."}}[{{{{.window}}}}]))',
                        "totalQuery": f'sum(rate(http_requests_total{{job="{service}"}}'
                                      f'[{{{{.window}}}}]))',
                    }},
                    "alerting": {"name": f"Svc{index}HighErrorRate"},
                }],
            },
        }

    def change(self, n: int) -> tuple[Any, str]:
        value = 99.5 if n % 2 == 0 else 99.95
        return ([{"op": "replace", "path": "/spec/slos/0/objective", "value": value}],
                "application/json-patch+json")

    def written(self, obj: dict) -> bool:
        status = obj.get("status") or {}
        return (bool(status.get("promOpRulesGenerated"))
                and status.get("observedGeneration") == obj["metadata"].get("generation"))


PEERS: dict[str, type[Peer]] = {"pyrra": Pyrra, "sloth": Sloth}


def peer_source(name: str, binary: str, sources: dict[str, str]) -> Path:
    """Where a peer's source tree is: --peer-src NAME=DIR, else
    $PEERS_DIR/src/NAME, else src/NAME beside the binary's bin/ folder (the
    layout tests/bench/build-peers.sh writes)."""
    if name in sources:
        return Path(sources[name]).resolve()
    if os.environ.get("PEERS_DIR"):
        return Path(os.environ["PEERS_DIR"]).resolve() / "src" / name
    return Path(binary).resolve().parent.parent / "src" / name


def name_value(text: str, option: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or name not in PEERS or not value:
        raise argparse.ArgumentTypeError(
            f"{option} takes NAME=VALUE with NAME one of {', '.join(PEERS)}: {text!r}")
    return name, value


# --- the benchmark ------------------------------------------------------------


class Bench:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.work = Path(tempfile.mkdtemp(prefix="scale-bench-"))
        self.bin = subprocess.run([str(CLUSTER_SCRIPTS / "binaries.sh")], check=True,
                                  capture_output=True, text=True).stdout.strip()
        self.kubectl_path = f"{self.bin}/kubectl"
        self.kubeconfig = ""
        self.rule_crd_path: Path | None = None
        self.watching: list[Watcher] = []  # stopped after each tool, however it ended
        sources = dict(args.peer_src)
        self.peers: list[Peer] = [PEERS[name](path, peer_source(name, path, sources))
                                  for name, path in args.peer]
        self.notes: list[str] = [
            "relops's baseline is the writes relops must make, by kubectl, in sequence: one "
            "`kubectl apply --server-side` of the PrometheusRules `relops generate` renders from "
            "the same SLOs (one request per object), then one `kubectl patch --subresource=status "
            "--type=merge -f` per kind putting a status of the shape relops writes on every SLO, "
            "rotation and drill.",
        ]

    def kubectl(self, *argv: str, timeout: float = 600, input: str | None = None) -> str:
        result = subprocess.run([self.kubectl_path, "--kubeconfig", self.kubeconfig, *argv],
                                capture_output=True, text=True, timeout=timeout, input=input)
        if result.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(argv[:4])}: {result.stderr.strip()[:2000]}")
        return result.stdout

    def cluster_up(self) -> None:
        log(f"starting cluster {self.args.cluster}")
        self.kubeconfig = subprocess.run(
            [str(CLUSTER_SCRIPTS / "up"), self.args.cluster], check=True, capture_output=True,
            text=True).stdout.strip()
        self.api = Api(self.kubeconfig, self.kubectl_path)
        self.audit = Audit(Path(self.kubeconfig).parent / "logs" / "audit.log")

    def cluster_down(self) -> None:
        subprocess.run([str(CLUSTER_SCRIPTS / "down"), self.args.cluster], check=False)

    def watch(self, watchers: list[Watcher]) -> None:
        """Starts the watches and waits for their initial lists."""
        self.watching += watchers
        for watcher in watchers:
            watcher.start()
        for watcher in watchers:
            if not watcher.synced.wait(300):
                raise RuntimeError(f"the watch on {watcher.plural} did not deliver its "
                                   "initial events")

    def stop_watches(self) -> None:
        for watcher in self.watching:
            watcher.stop()
        self.watching = []

    def rule_crd(self) -> Path:
        """The PrometheusRule CRD, from the Prometheus Operator's Go module."""
        if self.rule_crd_path is None:
            module = json.loads(subprocess.run(
                ["go", "mod", "download", "-json", PROMETHEUS_OPERATOR_MODULE], check=True,
                capture_output=True, text=True, timeout=600, cwd=self.work).stdout)
            self.rule_crd_path = Path(module["Dir"]) / PROMETHEUS_RULE_CRD
        return self.rule_crd_path

    def install_crds(self, *paths: Path) -> None:
        argv = ["apply", "--server-side"]
        for path in (*paths, self.rule_crd()):
            argv += ["-f", str(path)]
        self.kubectl(*argv)
        self.kubectl("wait", "--for=condition=Established", "crd", "--all", "--timeout=120s")

    def create_objects(self, objects: list[dict]) -> None:
        """Creates the namespaces, then the objects in chunks by four kubectl
        processes: setup, not measured."""
        a = self.args
        namespaces = [namespace_of(i, a.namespaces) for i in range(a.namespaces)]
        self.kubectl("create", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List",
            "items": [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}}
                      for n in namespaces]}))
        chunks: list[Path] = []
        for start in range(0, len(objects), 500):
            chunk = self.work / f"load-{start}.json"
            write_documents(chunk, objects[start:start + 500])
            chunks.append(chunk)
        log(f"creating {len(objects)} objects in {len(namespaces)} namespaces")
        started = time.monotonic()
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda c: self.kubectl("create", "-f", str(c), "-o", "name",
                                                 timeout=1800), chunks))
        log(f"created in {time.monotonic() - started:.0f} s")

    def create_load(self) -> dict[str, int]:
        a = self.args
        with_drills = (REPO / "crds" / "relops.dev_drdrills.yaml").exists()
        counts = {"servicelevelobjectives": a.objectives, "oncallrotations": a.rotations,
                  "drdrills": a.drills if with_drills else 0}
        # `relops generate` reads YAML documents (JSON is YAML).
        self.slo_file = self.work / "objectives.yaml"
        self.slo_file.write_text("\n---\n".join(
            json.dumps(objective(i, a.namespaces)) for i in range(a.objectives)))
        self.load = {
            "servicelevelobjectives": [objective(i, a.namespaces) for i in range(a.objectives)],
            "oncallrotations": [rotation(i, a.namespaces) for i in range(a.rotations)],
            "drdrills": [drill(i, a.namespaces) for i in range(counts["drdrills"])],
        }
        self.create_objects([o for objects in self.load.values() for o in objects])
        return counts

    def count(self, path: str) -> int:
        status, body = self.api.request("GET", f"{path}?limit=1")
        if status != 200:
            raise RuntimeError(f"GET {path}: {status}")
        return len(body["items"]) + int(body["metadata"].get("remainingItemCount", 0))

    def list_all(self, path: str) -> list[dict]:
        items: list[dict] = []
        continue_token = ""
        while True:
            status, body = self.api.request(
                "GET", f"{path}?limit=500" + (f"&continue={continue_token}" if continue_token
                                              else ""))
            if status != 200:
                raise RuntimeError(f"GET {path}: {status}")
            items += body["items"]
            continue_token = body["metadata"].get("continue", "")
            if not continue_token:
                return items

    def delete_rules(self) -> None:
        for i in range(self.args.namespaces):
            namespace = namespace_of(i, self.args.namespaces)
            self.api.request("DELETE", f"{RULES_GROUP}/namespaces/{namespace}/prometheusrules")
        deadline = time.monotonic() + 600
        while self.count(f"{RULES_GROUP}/prometheusrules") > 0:
            if time.monotonic() > deadline:
                raise RuntimeError("baseline PrometheusRules were not deleted within 600 s")
            time.sleep(1)

    def apply_rules(self, rules: Path, expected: int) -> float:
        """One timed `kubectl apply --server-side` of a file of rules."""
        log(f"baseline: kubectl apply --server-side of {expected} PrometheusRules")
        started = time.monotonic()
        self.kubectl("apply", "--server-side", "-f", str(rules), "-o", "name", timeout=7200)
        seconds = time.monotonic() - started
        made = self.count(f"{RULES_GROUP}/prometheusrules")
        if made != expected:
            raise RuntimeError(f"baseline made {made} PrometheusRules, not {expected}")
        return seconds

    def baseline(self, counts: dict[str, int]) -> dict[str, Any]:
        """The writes relops must make, by kubectl: the same N PrometheusRules,
        rendered by `relops generate` and applied by one `kubectl apply
        --server-side`, then a status of relops's shape on every object, by
        one `kubectl patch --subresource=status -f` per kind. Afterwards the
        statuses are removed and the rules deleted, so relops starts from
        nothing."""
        rules = self.work / "rules.yaml"
        with open(rules, "w") as out:
            subprocess.run([self.args.relops, "generate", "-f", str(self.slo_file)], check=True,
                           stdout=out, timeout=600)
        targets: dict[str, Path] = {}
        for plural, objects in self.load.items():
            if objects:
                targets[plural] = self.work / f"status-{plural}.json"
                write_documents(targets[plural], [
                    {"apiVersion": o["apiVersion"], "kind": o["kind"],
                     "metadata": {"name": o["metadata"]["name"],
                                  "namespace": o["metadata"]["namespace"]}} for o in objects])
        payloads = status_payloads(
            datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
        before = self.api.metrics()
        since = time.time()
        rules_seconds = self.apply_rules(rules, self.args.objectives)
        statuses = sum(counts.values())
        log(f"baseline: kubectl patch --subresource=status of {statuses} objects")
        started = time.monotonic()
        for plural, target in targets.items():
            self.kubectl("patch", "-f", str(target), "--subresource=status", "--type=merge",
                         "-p", json.dumps({"status": payloads[plural]}), "-o", "name",
                         timeout=7200)
        status_seconds = time.monotonic() - started
        until = time.time()
        after = self.api.metrics()
        writes = self.audit.writes("kubectl", since, until + 1)
        reads = read_requests(before, after, READ_GROUPS)
        seconds = rules_seconds + status_seconds
        log(f"baseline: {seconds:.1f} s; removing its statuses and rules")
        for target in targets.values():
            self.kubectl("patch", "-f", str(target), "--subresource=status", "--type=merge",
                         "-p", '{"status":null}', "-o", "name", timeout=7200)
        self.delete_rules()
        return {"seconds": seconds, "writes": writes, "reads": reads,
                "detail": f"{rules_seconds:.1f} s for {self.args.objectives} rules + "
                          f"{status_seconds:.1f} s for {statuses} statuses"}

    def quiet(self, process: Process, user_agent: str, converged: float) -> dict[str, Any]:
        """The idle window (--idle seconds, after a 5 s pause) and the late
        window (from the idle window's end until --late-idle seconds after
        converged, a monotonic time): writes by user_agent in each, resident
        memory over the idle window, peak memory and CPU at the end."""
        a = self.args
        result: dict[str, Any] = {}
        time.sleep(5)
        idle_since = time.time()
        idle_start = time.monotonic()
        time.sleep(a.idle)
        idle_end = time.monotonic()
        result["idle_writes"] = sum(self.audit.writes(user_agent, idle_since,
                                                      time.time()).values())
        idle_rss = [kib for t, kib in process.samples if idle_start <= t <= idle_end]
        result["rss_steady"] = statistics.mean(idle_rss) if idle_rss else float("nan")
        result["late"] = None
        late_end = converged + a.late_idle
        if a.late_idle > 0 and late_end - time.monotonic() > 1:
            late_since = time.time()
            late_start = time.monotonic()
            log(f"late window: {late_end - late_start:.0f} s, until {a.late_idle:.0f} s "
                "after converge")
            while time.monotonic() < late_end:
                if not process.alive():
                    raise RuntimeError(f"the process exited with {process.process.returncode} "
                                       "in the late window")
                time.sleep(min(5.0, max(0.0, late_end - time.monotonic())))
            result["late"] = {
                "seconds": time.monotonic() - late_start,
                "writes": self.audit.writes_by_resource(user_agent, late_since, time.time()),
            }
        result["rss_peak"] = process.status_kib("VmHWM")
        result["cpu_total"] = process.cpu_seconds()
        return result

    def await_convergence(self, tool: str, process: Process, log_path: Path,
                          done: Callable[[], bool], progress_at: list[float],
                          left: Callable[[], str]) -> None:
        """Waits until done(), the converge timeout, or stall-timeout seconds without progress
        (progress_at[0]: the last time something converged); says what is left every 30 s."""
        a = self.args
        deadline = time.monotonic() + a.converge_timeout
        last_report = time.monotonic()
        while not done() and time.monotonic() < deadline:
            if time.monotonic() - max(progress_at[0], process.started) > a.stall_timeout:
                log(f"{tool}: no progress in the last {a.stall_timeout:.0f} s")
                return
            if not process.alive():
                raise RuntimeError(f"{tool} exited with {process.process.returncode}; "
                                   f"see {log_path}")
            time.sleep(0.2)
            if time.monotonic() - last_report > 30:
                last_report = time.monotonic()
                log(f"{tool}: {left()}")

    def relops(self, counts: dict[str, int]) -> dict[str, Any]:
        a = self.args
        converged_at: dict[str, float] = {}
        lock = threading.Lock()
        pending: dict[str, tuple[int, float]] = {}  # key -> (generation, sent at)
        latencies: list[float] = []
        latency_seen = threading.Condition(lock)
        unconverged = {plural: set() for plural in counts}
        started_at = [0.0]
        progress_at = [time.monotonic()]  # the last time an object converged

        def on_change(plural: str, key: str, state: ObjectState) -> None:
            now = time.monotonic()
            with lock:
                if state.converged():
                    if key in unconverged[plural]:
                        progress_at[0] = now
                    unconverged[plural].discard(key)
                else:
                    unconverged[plural].add(key)
                if started_at[0] and not unconverged[plural] and plural not in converged_at \
                        and len(watchers[plural].states) >= counts[plural]:
                    converged_at[plural] = now
                wanted = pending.get(key)
                if wanted and state.observed >= wanted[0] and state.ready:
                    latencies.append(now - wanted[1])
                    del pending[key]
                    latency_seen.notify_all()

        watchers = {plural: Watcher(self.api, plural, on_change) for plural in counts}
        self.watch(list(watchers.values()))
        for plural, watcher in watchers.items():
            if len(watcher.states) != counts[plural]:
                raise RuntimeError(f"{plural}: {len(watcher.states)} objects, not {counts[plural]}")
            with lock:
                unconverged[plural] = {k for k, s in watcher.states.items() if not s.converged()}

        before = self.api.metrics()
        since = time.time()
        metrics_port = free_port()
        # /metrics is served over HTTPS to authorised tokens by default; the script reads
        # rest_client_requests_total from it on loopback, so plain HTTP.
        argv = [a.relops, "run", "--kubeconfig", self.kubeconfig, "--rule-output", "prometheusrule",
                "--metrics-bind-address", f"127.0.0.1:{metrics_port}", "--metrics-secure=false",
                "--health-probe-bind-address", f"127.0.0.1:{free_port()}", *a.relops_flag]
        log(f"relops: {' '.join(argv[1:])}")
        with lock:
            started_at[0] = time.monotonic()
            converged_at.update({p: started_at[0] for p, n in counts.items() if n == 0})
        process = Process(argv, self.output_dir / f"relops-{a.objectives}.log")
        result: dict[str, Any] = {"argv": argv[1:], "user_agent": "relops"}
        try:
            def left() -> str:
                with lock:
                    return f"not yet converged: {({p: len(u) for p, u in unconverged.items()})}"
            self.await_convergence("relops", process,
                                   self.output_dir / f"relops-{a.objectives}.log",
                                   lambda: len(converged_at) == len(counts), progress_at, left)
            result["converged"] = {p: t - process.started for p, t in converged_at.items()}
            result["converge"] = (max(result["converged"].values())
                                  if len(converged_at) == len(counts) else None)
            result["writes_converge"] = self.audit.writes("relops", since, time.time())
            result["summary"] = {p: watchers[p].summary() for p in counts}
            result["cpu_converge"] = process.cpu_seconds()
            if result["converge"] is None:
                log(f"relops did not converge: {result['summary']}")
            else:
                log(f"relops converged in {result['converge']:.1f} s")
            converged = (process.started + result["converge"] if result["converge"] is not None
                         else time.monotonic())

            # Latency: one spec change at a time, across the SLOs, for at most --latency-budget.
            changes = min(a.changes, a.objectives)
            step = max(1, a.objectives // max(1, changes))
            budget_end = time.monotonic() + a.latency_budget
            for n in range(changes):
                if time.monotonic() > budget_end:
                    result["latency_cut"] = changes - n
                    break
                index = n * step
                key = f"{namespace_of(index, a.namespaces)}/svc-{index}-availability"
                ns, name = key.split("/")
                value = "99.5" if n % 2 == 0 else "99.95"
                sent = time.monotonic()
                status, body = self.api.request(
                    "PATCH", f"{RELOPS_GROUP}/namespaces/{ns}/servicelevelobjectives/{name}",
                    {"spec": {"objective": value}}, "application/merge-patch+json")
                if status != 200:
                    raise RuntimeError(f"PATCH {key}: {status} {body}")
                with lock:
                    pending[key] = (body["metadata"]["generation"], sent)
                    latency_seen.wait_for(lambda: key not in pending, timeout=60)
                    if key in pending:
                        del pending[key]
                        result.setdefault("latency_missed", 0)
                        result["latency_missed"] += 1
            result["latencies"] = list(latencies)

            # Idle: nothing changes; relops should write nothing, also 16 minutes on.
            result.update(self.quiet(process, "relops", converged))
            result["client_requests"] = client_requests(metrics_port)
        finally:
            code = process.stop()
            result["exit"] = code
        # Watches close when relops stops; the API server counts a watch when it ends.
        time.sleep(1)
        after = self.api.metrics()
        result["writes"] = self.audit.writes("relops", since, time.time() + 1)
        result["writes_by_resource"] = self.audit.writes_by_resource("relops", since,
                                                                     time.time() + 1)
        result["user_agents"] = self.audit.user_agents("relops", since, time.time() + 1)
        result["reads"] = read_requests(before, after, READ_GROUPS)
        result["rules"] = self.count(f"{RULES_GROUP}/prometheusrules")
        self.stop_watches()
        return result

    def peer(self, peer: Peer) -> dict[str, Any]:
        """One peer on a fresh cluster holding only the N SLOs in its own kind:
        converge (every SLO has its PrometheusRule and its status written),
        spec change -> rule content latency, the idle and late windows, then
        the baseline of its own rules."""
        a = self.args
        self.cluster_down()
        self.cluster_up()
        self.install_crds(peer.crd_path())
        self.create_objects([peer.objective(i, a.namespaces) for i in range(a.objectives)])
        expected = {f"{namespace_of(i, a.namespaces)}/svc-{i}-availability"
                    for i in range(a.objectives)}
        lock = threading.Lock()
        seen = threading.Condition(lock)
        without_rule = set(expected)
        unwritten = set(expected)
        rule_digest: dict[str, str] = {}  # SLO key -> digest of its rule's spec
        pending: dict[str, tuple[str, float]] = {}  # SLO key -> (rule digest before, sent at)
        latencies: list[float] = []
        started_at = [0.0]
        converged_at = [0.0]
        progress_at = [time.monotonic()]

        def settle(now: float) -> None:  # lock held
            if started_at[0] and not converged_at[0] and not without_rule and not unwritten:
                converged_at[0] = now

        def on_rule(plural: str, key: str, state: ObjectState) -> None:
            now = time.monotonic()
            with lock:
                if state.owner in without_rule:
                    without_rule.discard(state.owner)
                    progress_at[0] = now
                rule_digest[state.owner] = state.digest
                wanted = pending.get(state.owner)
                if wanted and state.digest != wanted[0]:
                    latencies.append(now - wanted[1])
                    del pending[state.owner]
                    seen.notify_all()
                settle(now)

        def on_slo(plural: str, key: str, state: ObjectState) -> None:
            now = time.monotonic()
            with lock:
                if state.written:
                    if key in unwritten:
                        progress_at[0] = now
                    unwritten.discard(key)
                else:
                    unwritten.add(key)
                settle(now)

        self.watch([Watcher(self.api, peer.plural, on_slo, peer.group, peer.written),
                    Watcher(self.api, "prometheusrules", on_rule, RULES_GROUP)])
        groups = (*READ_GROUPS, peer.group.split("/")[2])
        before = self.api.metrics()
        since = time.time()
        argv = peer.argv(self.kubeconfig, free_port(), free_port())
        log(f"{peer.name}: {' '.join(argv[1:])}")
        log_path = self.output_dir / f"{peer.name}-{a.objectives}.log"
        process = Process(argv, log_path, peer.env(self.kubeconfig))
        with lock:
            started_at[0] = process.started
            settle(time.monotonic())
        result: dict[str, Any] = {"argv": argv[1:], "user_agent": peer.user_agent}
        try:
            def missing() -> str:
                with lock:
                    return (f"{len(without_rule)} SLOs without a rule, "
                            f"{len(unwritten)} without status")
            self.await_convergence(peer.name, process, log_path, lambda: bool(converged_at[0]),
                                   progress_at, missing)
            with lock:
                result["converge"] = (converged_at[0] - process.started if converged_at[0]
                                      else None)
                result["missing"] = (len(without_rule), len(unwritten))
            result["writes_converge"] = self.audit.writes(peer.user_agent, since, time.time())
            result["cpu_converge"] = process.cpu_seconds()
            if result["converge"] is None:
                log(f"{peer.name} did not converge: {result['missing'][0]} SLOs without a rule, "
                    f"{result['missing'][1]} without status")
            else:
                log(f"{peer.name} converged in {result['converge']:.1f} s")
            converged = converged_at[0] or time.monotonic()

            # Latency: spec change -> the PrometheusRule's content changes, for at most
            # --latency-budget (a peer with a backlog takes up to 60 s a change).
            changes = min(a.changes, a.objectives)
            step = max(1, a.objectives // max(1, changes))
            budget_end = time.monotonic() + a.latency_budget
            for n in range(changes):
                if time.monotonic() > budget_end:
                    result["latency_cut"] = changes - n
                    break
                index = n * step
                key = f"{namespace_of(index, a.namespaces)}/svc-{index}-availability"
                ns, name = key.split("/")
                body, content_type = peer.change(n)
                with lock:
                    pending[key] = (rule_digest.get(key, ""), time.monotonic())
                status, answer = self.api.request(
                    "PATCH", f"{peer.group}/namespaces/{ns}/{peer.plural}/{name}", body,
                    content_type)
                if status != 200:
                    raise RuntimeError(f"PATCH {key}: {status} {answer}")
                with lock:
                    seen.wait_for(lambda: key not in pending, timeout=60)
                    if key in pending:
                        del pending[key]
                        result["latency_missed"] = result.get("latency_missed", 0) + 1
            with lock:
                result["latencies"] = list(latencies)
            result.update(self.quiet(process, peer.user_agent, converged))
        finally:
            result["exit"] = process.stop()
        time.sleep(1)
        after = self.api.metrics()
        result["writes"] = self.audit.writes(peer.user_agent, since, time.time() + 1)
        result["writes_by_resource"] = self.audit.writes_by_resource(peer.user_agent, since,
                                                                     time.time() + 1)
        result["user_agents"] = self.audit.user_agents(peer.user_agent, since, time.time() + 1)
        result["reads"] = read_requests(before, after, groups)
        self.stop_watches()
        result["baseline"] = self.peer_baseline(peer, groups)
        result["rules"] = result["baseline"]["rules"]
        return result

    def peer_baseline(self, peer: Peer, groups: tuple[str, ...]) -> dict[str, Any]:
        """The peer's own rules, dumped from its converged cluster with the
        server's fields stripped, deleted, and applied again by one timed
        `kubectl apply --server-side`."""
        kept_metadata = ("name", "namespace", "labels", "annotations", "ownerReferences")
        rules = []
        for rule in self.list_all(f"{RULES_GROUP}/prometheusrules"):
            meta = {k: v for k, v in rule["metadata"].items() if k in kept_metadata}
            meta.get("annotations", {}).pop("kubectl.kubernetes.io/last-applied-configuration",
                                            None)
            rules.append({"apiVersion": rule["apiVersion"], "kind": rule["kind"],
                          "metadata": meta, "spec": rule["spec"]})
        path = self.work / f"rules-{peer.name}.json"
        write_documents(path, rules)
        self.delete_rules()
        before = self.api.metrics()
        since = time.time()
        seconds = self.apply_rules(path, len(rules))
        until = time.time()
        after = self.api.metrics()
        log(f"{peer.name} baseline: {seconds:.1f} s")
        return {"seconds": seconds, "writes": self.audit.writes("kubectl", since, until + 1),
                "reads": read_requests(before, after, groups), "rules": len(rules),
                "detail": f"{len(rules)} rules"}

    def run(self) -> int:
        a = self.args
        self.output_dir = Path(a.output).resolve().parent
        self.output_dir.mkdir(parents=True, exist_ok=True)
        results: dict[str, dict[str, Any]] = {}
        try:
            if not a.keep_cluster:
                self.cluster_down()
            self.cluster_up()
            self.install_crds(REPO / "crds")
            counts = self.create_load()
            base = self.baseline(counts)
            results["relops"] = self.relops(counts)
            results["relops"]["baseline"] = base
            for peer in self.peers:
                # A failed peer leaves its column saying so; the others are still measured.
                try:
                    results[peer.name] = self.peer(peer)
                except (RuntimeError, OSError, subprocess.SubprocessError, KeyError,
                        ValueError) as error:
                    log(f"{peer.name}: {error}")
                    results[peer.name] = {"error": str(error)}
                finally:
                    self.stop_watches()
        finally:
            self.stop_watches()
            if not a.keep_cluster:
                self.cluster_down()
            shutil.rmtree(self.work, ignore_errors=True)
        table = self.table(counts, results)
        print(table)
        Path(a.output).write_text(table)
        log(f"written to {a.output}")
        return 0

    def table(self, counts: dict[str, int], results: dict[str, dict[str, Any]]) -> str:
        a = self.args
        titles = {"relops": "relops", **{p.name: p.title for p in self.peers}}
        tools = list(results)
        flags = a.relops_flag
        mib = lambda kib: f"{kib / 1024:.1f} MiB"
        per_minute = lambda n, seconds: f"{n * 60 / seconds:.1f}" if seconds else "—"

        def verbs(writes: collections.Counter, reads: collections.Counter) -> str:
            merged = {**{k.upper(): v for k, v in writes.items()}, **dict(reads)}
            return ", ".join(f"{v} {k}" for k, v in sorted(merged.items())) or "0"

        def requests(writes: collections.Counter, reads: collections.Counter) -> str:
            return f"{sum(writes.values()) + sum(reads.values())}: {verbs(writes, reads)}"

        def converge(r: dict) -> str:
            if r["converge"] is not None:
                return f"{r['converge']:.1f} s"
            if "missing" in r:
                return (f"did not converge ({r['missing'][0]} without a rule, "
                        f"{r['missing'][1]} without status)")
            return "did not converge"

        def ratio(r: dict) -> str:
            if r["converge"] is None or not r["baseline"]["seconds"]:
                return "—"
            return f"{r['converge'] / r['baseline']['seconds']:.2f}×"

        def latency(r: dict) -> str:
            lat = r["latencies"]
            text = (f"{percentile(lat, 0.5) * 1000:.0f} / {percentile(lat, 0.99) * 1000:.0f} ms "
                    f"({len(lat)})")
            if r.get("latency_missed"):
                text += f"; {r['latency_missed']} not within 60 s"
            if r.get("latency_cut"):
                text += f"; {r['latency_cut']} not sent (--latency-budget {a.latency_budget:.0f} s)"
            return text

        def late(r: dict) -> str:
            if r["late"] is None:
                return "not measured (window over before the idle one ended)" \
                    if a.late_idle > 0 else "skipped"
            writes = r["late"]["writes"]
            n = sum(writes.values())
            seconds = r["late"]["seconds"]
            text = f"{n} in {seconds:.0f} s ({per_minute(n, seconds)}/min)"
            if n:
                text += ": " + ", ".join(f"{v} {k}" for k, v in writes.most_common())
            return text

        rows: list[tuple[str, Callable[[dict], str]]] = [
            ("converge: process start → every generated PrometheusRule present and every status "
             "written (relops: every object Ready at its current generation)", converge),
            ("bare-write baseline of the same writes by kubectl (relops: N rules by `apply "
             "--server-side` + a status on every object by `patch --subresource=status`; a peer: "
             "its own rules, dumped and re-applied by `apply --server-side`)",
             lambda r: f"{r['baseline']['seconds']:.1f} s ({r['baseline']['detail']})"),
            ("converge / baseline", ratio),
        ]
        for plural, n in counts.items():
            if n == 0:
                continue

            def kind(r: dict, plural: str = plural) -> str:
                if "converged" not in r:
                    return ""
                when = r["converged"].get(plural)
                return (f"{when:.1f} s" if when is not None else "not converged: " + ", ".join(
                    f"{v} {k}" for k, v in sorted(r["summary"][plural].items())))
            rows.append((f"… {n} {KINDS[plural]}s converged", kind))
        rows += [
            ("API requests until converged (writes: audit log, by User-Agent; reads on the "
             "groups under test, whole phase, any client: apiserver_request_total)",
             lambda r: requests(r["writes_converge"], r["reads"])),
            ("API requests of the baseline",
             lambda r: requests(r["baseline"]["writes"], r["baseline"]["reads"])),
            ("writes over the whole run (with the timed spec changes)",
             lambda r: f"{sum(r['writes'].values())}: {verbs(r['writes'], collections.Counter())}"),
            ("writes by resource, whole run",
             lambda r: ", ".join(f"{v} {k}" for k, v in r["writes_by_resource"].most_common())),
            ("User-Agent the writes are counted by (prefix: full, as audited)",
             lambda r: f"`{r['user_agent']}`: " + (", ".join(
                 f"`{agent}`" for agent in r["user_agents"]) or "no writes")),
            ("resident memory, peak (VmHWM)", lambda r: mib(r["rss_peak"])),
            (f"resident memory, steady (mean VmRSS over {a.idle:.0f} s idle)",
             lambda r: mib(r["rss_steady"])),
            ("CPU seconds (user + system) until converged / whole run",
             lambda r: f"{r['cpu_converge']:.1f} s / {r['cpu_total']:.1f} s"),
            ("spec change → status (relops) / → PrometheusRule content (peers), p50 / p99 "
             "(changes, one at a time)", latency),
            (f"writes per minute once idle ({a.idle:.0f} s watched)",
             lambda r: per_minute(r["idle_writes"], a.idle)),
            ((f"writes in the late window (idle window's end → {a.late_idle:.0f} s after "
              "converge)") if a.late_idle > 0 else "writes in the late window (--late-idle 0)",
             late),
            ("PrometheusRules made", lambda r: str(r["rules"])),
            ("relops's own count, whole run (rest_client_requests_total by method)",
             lambda r: ", ".join(f"{v} {k}" for k, v in sorted(r["client_requests"].items()))
             if "client_requests" in r else ""),
        ]

        def cell(tool: str, fn: Callable[[dict], str], first: bool) -> str:
            r = results[tool]
            if "error" in r:
                return f"failed: {r['error'][:300]}".replace("|", "\\|").replace("\n", " ") \
                    if first else ""
            return fn(r)

        lines = [
            f"### Scale benchmark: {a.objectives} ServiceLevelObjectives, "
            f"{counts['oncallrotations']} OnCallRotations, {counts['drdrills']} DRDrills "
            f"(suspended), {a.namespaces} namespaces",
            "",
            f"Measured {datetime.date.today().isoformat()} on {os.cpu_count()} cores, each tool "
            "alone on a fresh tests/cluster control plane, one after the other: one relops "
            f"replica (`relops {' '.join(['run', '--rule-output', 'prometheusrule', *flags])}`)"
            + "".join(f", {titles[p.name]} (`{Path(p.binary).name} {results[p.name]['argv'][0]}`)"
                      if "argv" in results[p.name] else f", {titles[p.name]} (failed)"
                      for p in self.peers)
            + f"; `{self.command()}`.",
            "",
            "| measure | " + " | ".join(titles[t] for t in tools) + " |",
            "|---|" + "---|" * len(tools),
        ]
        for i, (measure, fn) in enumerate(rows):
            lines.append(f"| {measure} | "
                         + " | ".join(cell(t, fn, i == 0) for t in tools) + " |")
        lines += ["", "Goals (tracked, not pass/fail): " + "; ".join(self.goals(results)) + ".", ""]
        notes = list(self.notes)
        if self.peers:
            notes += [
                "Peers get only the SLOs (the same N: ratio indicator, objective 99.9, window "
                "28d, the same namespaces, in their own kinds); they have no rotations or "
                "drills, so relops's column carries more objects than theirs.",
                "A peer's baseline is its own generated PrometheusRules, read from its "
                "converged cluster with the server's fields stripped, deleted, and re-applied by "
                "one `kubectl apply --server-side` (rules only, no statuses).",
                "A peer's spec change is a PATCH of its SLO's objective, timed until the watch "
                "shows its PrometheusRule's spec changed; relops's is timed until status shows "
                "the new generation with Ready.",
            ]
        lines += [f"- {note}" for note in notes]
        return "\n".join(lines).rstrip() + "\n"

    def goals(self, results: dict[str, dict[str, Any]]) -> list[str]:
        """Issue 16's goals, as figures beside the verdict."""
        ours = results["relops"]
        met = lambda ok: "met" if ok else "missed"
        mib = lambda kib: f"{kib / 1024:.1f} MiB"
        goals = []
        every = ours["converge"]
        base = ours["baseline"]["seconds"]
        if every is not None and base:
            goals.append(f"converge within 1.2× of the bare-write baseline: {every / base:.2f}× "
                         f"({met(every <= 1.2 * base)})")
        goals.append(f"under 64 MiB resident: peak {mib(ours['rss_peak'])} "
                     f"({met(ours['rss_peak'] < 64 * 1024)})")
        peers = {self.title(t): r for t, r in results.items() if t != "relops" and "error" not in r}
        if peers:
            leanest = min(peers, key=lambda t: peers[t]["rss_peak"])
            goals.append(f"at most half the leanest peer's memory ({leanest}, "
                         f"{mib(peers[leanest]['rss_peak'])}): "
                         f"{met(ours['rss_peak'] <= peers[leanest]['rss_peak'] / 2)}")
            faster = [t for t, r in peers.items() if every is not None and
                      (r["converge"] is None or every < r["converge"])]
            goals.append(f"converge faster than every peer: {met(len(faster) == len(peers))}")
        else:
            goals.append("at most half the leanest peer's memory: no peer measured (--peer)")
        idle = ours["idle_writes"]
        if ours["late"]:
            late = sum(ours["late"]["writes"].values())
            goals.append(f"zero writes once idle: {idle} in the idle window, {late} in the "
                         f"late one ({met(idle + late == 0)})")
        else:
            goals.append(f"zero writes once idle: {idle} in the idle window, late window not "
                         f"measured ({met(idle == 0)})")
        p99 = percentile(ours["latencies"], 0.99) * 1000
        goals.append(f"spec → status p99 under 100 ms: {p99:.0f} ms ({met(p99 < 100)})")
        return goals

    def title(self, tool: str) -> str:
        return next((p.title for p in self.peers if p.name == tool), tool)

    def command(self) -> str:
        a = self.args
        extra = "".join(f" --relops-flag={flag}" for flag in a.relops_flag)
        extra += "".join(f" --peer {name}={path}" for name, path in a.peer)
        if a.late_idle != 960:
            extra += f" --late-idle {a.late_idle:.0f}"
        return f"tests/bench/scale_bench.py --objectives {a.objectives}{extra}"


def main() -> int:
    # A stopped benchmark still stops the operator and its cluster (the finally blocks).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="Peers: build them with tests/bench/build-peers.sh (see its header and the "
               "README's Performance section); it writes PEERS_DIR/bin/{pyrra,sloth} and their "
               "sources in PEERS_DIR/src/{pyrra,sloth}, where each peer's CRD is read from.")
    parser.add_argument("--relops", required=True, help="the relops binary (release build)")
    parser.add_argument("--objectives", type=int, default=1000)
    parser.add_argument("--rotations", type=int, default=1000)
    parser.add_argument("--drills", type=int, default=100)
    parser.add_argument("--namespaces", type=int, default=50)
    parser.add_argument("--changes", type=int, default=200, help="spec changes timed for latency")
    parser.add_argument("--latency-budget", type=float, default=300,
                        help="seconds the spec changes may take in all; the rest are not sent")
    parser.add_argument("--idle", type=float, default=60, help="seconds watched for idle writes")
    parser.add_argument("--late-idle", type=float, default=960,
                        help="the late idle window ends this many seconds after converge and "
                             "starts where the idle window ends (default 960: 16 minutes, past "
                             "Sloth's 15-minute resync); 0 skips it")
    parser.add_argument("--converge-timeout", type=float, default=3600)
    parser.add_argument("--stall-timeout", type=float, default=180,
                        help="stop waiting for convergence after this long without progress")
    parser.add_argument("--cluster", default="bench-scale", help="tests/cluster name (fresh)")
    parser.add_argument("--keep-cluster", action="store_true",
                        help="use a running cluster of that name and leave it running "
                             "(relops only; not with --peer)")
    parser.add_argument("--relops-flag", action="append", default=[],
                        help="an extra flag for relops run (repeatable)")
    parser.add_argument("--peer", action="append", default=[], metavar="NAME=PATH",
                        type=lambda text: name_value(text, "--peer"),
                        help="also measure a peer operator, NAME pyrra or sloth, from its binary "
                             "at PATH, each on a fresh cluster after relops (repeatable)")
    parser.add_argument("--peer-src", action="append", default=[], metavar="NAME=DIR",
                        type=lambda text: name_value(text, "--peer-src"),
                        help="the source tree PATH was built from, where the peer's CRD is "
                             "(default: $PEERS_DIR/src/NAME if PEERS_DIR is set, else "
                             "src/NAME beside the binary's bin/ folder)")
    parser.add_argument("--output", required=True, help="where the Markdown table is written")
    args = parser.parse_args()
    if args.peer and args.keep_cluster:
        parser.error("--keep-cluster measures relops only: every peer needs a fresh cluster")
    for name, path in args.peer:
        if not os.access(path, os.X_OK):
            parser.error(f"--peer {name}={path}: not an executable file")
    return Bench(args).run()


if __name__ == "__main__":
    sys.exit(main())
