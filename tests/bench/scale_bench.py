#!/usr/bin/env python3
"""Scale benchmark: one relops replica against a real control plane holding
N ServiceLevelObjectives (ratio indicators, rules only), OnCallRotations and
suspended DRDrills across many namespaces, next to a bare-write baseline that
applies the same N pre-rendered PrometheusRules with `kubectl apply
--server-side`.

It reports figures and never passes or fails on them: a Markdown table on
standard output and in --output. It exits non-zero only when the benchmark
could not run (the cluster did not come up, relops exited, a setup step failed).

    tests/bench/scale_bench.py --relops build/release/app/relops \
        --objectives 1000 --cluster bench-scale --output build/release/bench/scale-1000.md

The cluster is started fresh (tests/cluster/up NAME) and stopped at the end.

What is measured, and where it comes from:
  - converge: from `relops run` starting until every object has Ready=True with
    status.observedGeneration equal to metadata.generation, seen through watches
    this script holds on the API server (not through relops);
  - memory: VmHWM (peak) and VmRSS (steady: the mean over the idle window) from
    /proc/<pid>/status; CPU seconds: utime + stime from /proc/<pid>/stat;
  - API requests by verb: writes from the API server's audit log
    (<cluster>/logs/audit.log, every write, with the client's User-Agent);
    reads from the API server's apiserver_request_total on the groups under
    test, the difference over the phase (the counter does not name clients:
    see read_requests), with relops's own rest_client_requests_total beside it;
  - latency: a spec change (PATCH of spec.objective) sent by this script, until
    the watch shows status.observedGeneration at the new generation with Ready;
    a watch event reaches this script a few milliseconds after the write;
    one change at a time, with the whole load in the cluster;
  - idle writes: writes audited for relops during the idle window.
"""

from __future__ import annotations

import argparse
import base64
import collections
import datetime
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


def read_requests(before: dict, after: dict) -> collections.Counter:
    """Read requests (GET, LIST, WATCH) made between two metric snapshots on the
    API groups of the objects under test (relops.dev, monitoring.coreos.com).
    The counter does not tell clients apart: kube-controller-manager's metadata
    informers (garbage collector, quota) re-open their watches on these groups
    every few minutes too, and the API server counts a watch when it ends."""
    counts: collections.Counter = collections.Counter()
    for key, value in after.items():
        verb, group, resource, _ = key
        if verb not in ("GET", "LIST", "WATCH") or group not in READ_GROUPS:
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
    __slots__ = ("generation", "observed", "ready")

    def __init__(self) -> None:
        self.generation = 0
        self.observed = -1
        self.ready = ""

    def converged(self) -> bool:
        return self.ready == "True" and self.observed == self.generation


class Watcher:
    """Watches one kind across all namespaces and keeps, per object, its
    generation, observedGeneration and Ready status. Calls on_change for every
    event after updating the state."""

    def __init__(self, api: Api, plural: str, on_change: Callable[[str, str, ObjectState], None]):
        self.api = api
        self.plural = plural
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
            path = f"{RELOPS_GROUP}/{self.plural}?limit=500"
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
        path = (f"{RELOPS_GROUP}/{self.plural}?watch=true&allowWatchBookmarks=true"
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
        self.on_change(self.plural, key, state)

    def summary(self) -> collections.Counter:
        with self.lock:
            return collections.Counter(
                "converged" if s.converged() else f"Ready={s.ready or 'absent'}"
                + ("" if s.observed == s.generation else ", observedGeneration behind")
                for s in self.states.values())


# --- the relops process -------------------------------------------------------


class Process:
    """A process started by this script, sampled from /proc."""

    def __init__(self, argv: list[str], log_path: Path):
        self._log = open(log_path, "w")
        self.process = subprocess.Popen(argv, stdout=self._log, stderr=self._log)
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


def write_documents(path: Path, objects: list[dict]) -> None:
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}))


# --- the benchmark ------------------------------------------------------------


class Bench:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.work = Path(tempfile.mkdtemp(prefix="scale-bench-"))
        self.bin = subprocess.run([str(CLUSTER_SCRIPTS / "binaries.sh")], check=True,
                                  capture_output=True, text=True).stdout.strip()
        self.kubectl_path = f"{self.bin}/kubectl"
        self.kubeconfig = ""
        self.notes: list[str] = [
            "Pyrra: not measured. The comparison is to run Pyrra's Kubernetes operator built "
            "from its Go module (github.com/pyrra-dev/pyrra) on the same N; the Go module proxy "
            "this project builds from refuses that module (403, \"not available\", for every "
            "version asked), so there is no Pyrra column and no relops/Pyrra ratio.",
            "The baseline is one `kubectl apply --server-side` of the PrometheusRules "
            "`relops generate` renders from the same SLOs: one request per object, in sequence. "
            "It writes rules only; relops also writes each object's status.",
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

    def install_crds(self) -> None:
        module = json.loads(subprocess.run(
            ["go", "mod", "download", "-json", PROMETHEUS_OPERATOR_MODULE], check=True,
            capture_output=True, text=True, timeout=600, cwd=self.work).stdout)
        self.kubectl("apply", "--server-side", "-f", str(REPO / "crds"),
                     "-f", str(Path(module["Dir"]) / PROMETHEUS_RULE_CRD))
        self.kubectl("wait", "--for=condition=Established", "crd", "--all", "--timeout=120s")
        self.with_drills = (REPO / "crds" / "relops.dev_drdrills.yaml").exists()

    def create_load(self) -> dict[str, int]:
        a = self.args
        counts = {"servicelevelobjectives": a.objectives, "oncallrotations": a.rotations,
                  "drdrills": a.drills if self.with_drills else 0}
        namespaces = [namespace_of(i, a.namespaces) for i in range(a.namespaces)]
        self.kubectl("create", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List",
            "items": [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}}
                      for n in namespaces]}))
        # `relops generate` reads YAML documents (JSON is YAML).
        self.slo_file = self.work / "objectives.yaml"
        self.slo_file.write_text("\n---\n".join(
            json.dumps(objective(i, a.namespaces)) for i in range(a.objectives)))
        # Created in chunks by four kubectl processes: setup, not measured.
        chunks: list[Path] = []
        everything = ([objective(i, a.namespaces) for i in range(a.objectives)]
                      + [rotation(i, a.namespaces) for i in range(a.rotations)]
                      + [drill(i, a.namespaces) for i in range(counts["drdrills"])])
        for start in range(0, len(everything), 500):
            chunk = self.work / f"load-{start}.json"
            write_documents(chunk, everything[start:start + 500])
            chunks.append(chunk)
        log(f"creating {len(everything)} objects in {len(namespaces)} namespaces")
        started = time.monotonic()
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda c: self.kubectl("create", "-f", str(c), "-o", "name",
                                                 timeout=1800), chunks))
        log(f"created in {time.monotonic() - started:.0f} s")
        return counts

    def count(self, path: str) -> int:
        status, body = self.api.request("GET", f"{path}?limit=1")
        if status != 200:
            raise RuntimeError(f"GET {path}: {status}")
        return len(body["items"]) + int(body["metadata"].get("remainingItemCount", 0))

    def baseline(self) -> dict[str, Any]:
        """The same N PrometheusRules relops makes, rendered by `relops generate`
        and applied by one `kubectl apply --server-side`: the writes alone."""
        rules = self.work / "rules.yaml"
        with open(rules, "w") as out:
            subprocess.run([self.args.relops, "generate", "-f", str(self.slo_file)], check=True,
                           stdout=out, timeout=600)
        log(f"baseline: kubectl apply --server-side of {self.args.objectives} PrometheusRules")
        before = self.api.metrics()
        since = time.time()
        started = time.monotonic()
        self.kubectl("apply", "--server-side", "-f", str(rules), "-o", "name", timeout=7200)
        seconds = time.monotonic() - started
        until = time.time()
        after = self.api.metrics()
        made = self.count(f"{RULES_GROUP}/prometheusrules")
        if made != self.args.objectives:
            raise RuntimeError(f"baseline made {made} PrometheusRules, not {self.args.objectives}")
        writes = self.audit.writes("kubectl", since, until + 1)
        reads = read_requests(before, after)
        log(f"baseline: {seconds:.1f} s; removing its rules")
        for i in range(self.args.namespaces):
            namespace = namespace_of(i, self.args.namespaces)
            self.api.request("DELETE", f"{RULES_GROUP}/namespaces/{namespace}/prometheusrules")
        deadline = time.monotonic() + 600
        while self.count(f"{RULES_GROUP}/prometheusrules") > 0:
            if time.monotonic() > deadline:
                raise RuntimeError("baseline PrometheusRules were not deleted within 600 s")
            time.sleep(1)
        return {"seconds": seconds, "writes": writes, "reads": reads}

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
        for watcher in watchers.values():
            watcher.start()
        for plural, watcher in watchers.items():
            if not watcher.synced.wait(300):
                raise RuntimeError(f"the watch on {plural} did not deliver its initial events")
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
        result: dict[str, Any] = {"argv": argv[1:]}
        try:
            deadline = time.monotonic() + a.converge_timeout
            last_report = time.monotonic()
            while len(converged_at) < len(counts) and time.monotonic() < deadline:
                if time.monotonic() - max(progress_at[0], process.started) > a.stall_timeout:
                    log(f"relops: no object converged in the last {a.stall_timeout:.0f} s")
                    break
                if not process.alive():
                    raise RuntimeError(f"relops exited with {process.process.returncode}; "
                                       f"see {self.output_dir}/relops-{a.objectives}.log")
                time.sleep(0.2)
                if time.monotonic() - last_report > 30:
                    last_report = time.monotonic()
                    with lock:
                        left = {p: len(u) for p, u in unconverged.items()}
                    log(f"relops: not yet converged: {left}")
            result["converged"] = {p: t - process.started for p, t in converged_at.items()}
            result["writes_converge"] = self.audit.writes("relops", since, time.time())
            result["summary"] = {p: watchers[p].summary() for p in counts}
            result["cpu_converge"] = process.cpu_seconds()
            if len(converged_at) < len(counts):
                log(f"relops did not converge: {result['summary']}")
            else:
                log(f"relops converged in {max(result['converged'].values()):.1f} s")

            # Latency: one spec change at a time, across the SLOs.
            changes = min(a.changes, a.objectives)
            step = max(1, a.objectives // max(1, changes))
            for n in range(changes):
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

            # Idle: nothing changes; relops should write nothing.
            time.sleep(5)
            idle_since = time.time()
            idle_start = time.monotonic()
            time.sleep(a.idle)
            idle_end = time.monotonic()
            result["idle_writes"] = sum(self.audit.writes("relops", idle_since, time.time()).values())
            idle_rss = [kib for t, kib in process.samples if idle_start <= t <= idle_end]
            result["rss_steady"] = statistics.mean(idle_rss) if idle_rss else float("nan")
            result["rss_peak"] = process.status_kib("VmHWM")
            result["cpu_total"] = process.cpu_seconds()
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
        result["reads"] = read_requests(before, after)
        result["rules"] = self.count(f"{RULES_GROUP}/prometheusrules")
        for watcher in watchers.values():
            watcher.stop()
        return result

    def run(self) -> int:
        a = self.args
        self.output_dir = Path(a.output).resolve().parent
        self.output_dir.mkdir(parents=True, exist_ok=True)
        if not a.keep_cluster:
            self.cluster_down()
        self.cluster_up()
        try:
            self.install_crds()
            counts = self.create_load()
            base = self.baseline()
            ours = self.relops(counts)
        finally:
            if not a.keep_cluster:
                self.cluster_down()
            shutil.rmtree(self.work, ignore_errors=True)
        table = self.table(counts, base, ours)
        print(table)
        Path(a.output).write_text(table)
        log(f"written to {a.output}")
        return 0

    def table(self, counts: dict[str, int], base: dict, ours: dict) -> str:
        a = self.args
        mib = lambda kib: f"{kib / 1024:.1f} MiB"
        converged = ours["converged"]
        every = max(converged.values()) if len(converged) == len(counts) else None

        def verbs(writes: collections.Counter, reads: collections.Counter) -> str:
            merged = {**{k.upper(): v for k, v in writes.items()}, **dict(reads)}
            return ", ".join(f"{v} {k}" for k, v in sorted(merged.items())) or "0"

        ours_requests = sum(ours["writes_converge"].values()) + sum(ours["reads"].values())
        base_requests = sum(base["writes"].values()) + sum(base["reads"].values())
        lat = ours["latencies"]
        rows = [
            ("time to converge (operator start → every object Ready, observedGeneration current)",
             f"{every:.1f} s" if every is not None else "did not converge",
             f"{base['seconds']:.1f} s",
             f"{every / base['seconds']:.2f}×" if every is not None else "—"),
        ]
        for plural, n in counts.items():
            if n == 0:
                continue
            when = converged.get(plural)
            detail = (f"{when:.1f} s" if when is not None else
                      "not converged: " + ", ".join(f"{v} {k}" for k, v in
                                                    sorted(ours["summary"][plural].items())))
            rows.append((f"… {n} {KINDS[plural]}s converged", detail, "", ""))
        rows += [
            ("API requests until converged (writes: audit log; reads on relops.dev and "
             "monitoring.coreos.com, whole phase: apiserver_request_total)",
             f"{ours_requests}: {verbs(ours['writes_converge'], ours['reads'])}",
             f"{base_requests}: {verbs(base['writes'], base['reads'])}",
             f"{ours_requests / base_requests:.2f}×" if base_requests else "—"),
            ("relops's own count, whole run (rest_client_requests_total by method)",
             ", ".join(f"{v} {k}" for k, v in sorted(ours["client_requests"].items())), "", ""),
            ("relops writes over the whole run (with the timed spec changes)",
             f"{sum(ours['writes'].values())}: {verbs(ours['writes'], collections.Counter())}",
             "", ""),
            ("relops writes by resource, whole run",
             ", ".join(f"{v} {k}" for k, v in ours["writes_by_resource"].most_common()), "", ""),
            ("resident memory, peak (VmHWM)", mib(ours["rss_peak"]), "", ""),
            (f"resident memory, steady (mean VmRSS over {a.idle:.0f} s idle)",
             mib(ours["rss_steady"]), "", ""),
            ("CPU seconds (user + system) until converged / whole run",
             f"{ours['cpu_converge']:.1f} s / {ours['cpu_total']:.1f} s", "", ""),
            (f"spec change → status latency p50 / p99 ({len(lat)} changes, one at a time)",
             f"{percentile(lat, 0.5) * 1000:.0f} ms / {percentile(lat, 0.99) * 1000:.0f} ms",
             "", ""),
            (f"writes per minute once idle ({a.idle:.0f} s watched)",
             f"{ours['idle_writes'] * 60 / a.idle:.1f}", "", ""),
            ("PrometheusRules relops made", str(ours["rules"]), str(a.objectives), ""),
        ]
        if ours.get("latency_missed"):
            rows.append(("spec changes whose status did not follow within 60 s",
                         str(ours["latency_missed"]), "", ""))
        goals = []
        if every is not None:
            goals.append(f"converge within 1.5× of the bare-write baseline: "
                         f"{every / base['seconds']:.2f}× "
                         f"({'met' if every <= 1.5 * base['seconds'] else 'missed'})")
        goals.append(f"under 64 MiB resident: peak {mib(ours['rss_peak'])} "
                     f"({'met' if ours['rss_peak'] < 64 * 1024 else 'missed'})")
        goals.append("at most half of Pyrra's memory: not measured (see the notes)")
        date = datetime.date.today().isoformat()
        lines = [
            f"### Scale benchmark: {a.objectives} ServiceLevelObjectives, {counts['oncallrotations']} "
            f"OnCallRotations, {counts['drdrills']} DRDrills (suspended), {a.namespaces} namespaces",
            "",
            f"Measured {date} on {os.cpu_count()} cores: one relops replica "
            f"(`relops {' '.join(['run', '--rule-output', 'prometheusrule', *a.relops_flag])}`) "
            f"on a fresh tests/cluster control plane; `{self.command()}`.",
            "",
            "| measure | relops | bare-write baseline (`kubectl apply --server-side`) "
            "| relops / baseline |",
            "|---|---|---|---|",
        ]
        lines += [f"| {m} | {r} | {b} | {q} |" for m, r, b, q in rows]
        lines += ["", "Goals (tracked, not pass/fail): " + "; ".join(goals) + ".", ""]
        lines += [f"- {note}" for note in self.notes]
        return "\n".join(lines).rstrip() + "\n"

    def command(self) -> str:
        extra = "".join(f" --relops-flag={flag}" for flag in self.args.relops_flag)
        return f"tests/bench/scale_bench.py --objectives {self.args.objectives}{extra}"


def main() -> int:
    # A stopped benchmark still stops relops and its cluster (the finally blocks).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--relops", required=True, help="the relops binary (release build)")
    parser.add_argument("--objectives", type=int, default=1000)
    parser.add_argument("--rotations", type=int, default=1000)
    parser.add_argument("--drills", type=int, default=100)
    parser.add_argument("--namespaces", type=int, default=50)
    parser.add_argument("--changes", type=int, default=200, help="spec changes timed for latency")
    parser.add_argument("--idle", type=float, default=60, help="seconds watched for idle writes")
    parser.add_argument("--converge-timeout", type=float, default=3600)
    parser.add_argument("--stall-timeout", type=float, default=180,
                        help="stop waiting for convergence after this long without progress")
    parser.add_argument("--cluster", default="bench-scale", help="tests/cluster name (fresh)")
    parser.add_argument("--keep-cluster", action="store_true",
                        help="use a running cluster of that name and leave it running")
    parser.add_argument("--relops-flag", action="append", default=[],
                        help="an extra flag for relops run (repeatable)")
    parser.add_argument("--output", required=True, help="where the Markdown table is written")
    return Bench(parser.parse_args()).run()


if __name__ == "__main__":
    sys.exit(main())
