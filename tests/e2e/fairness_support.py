"""Helpers the isolation and fairness e2e suites share (issue 14, "one object must never take
relops down for everyone"): object builders, a `kubectl get -w` that stamps each event on
arrival, handoff lags read from such a watch, lag summaries, a calendar feed's token, and
relops's memory: held to a limit by a memory cgroup where this machine lets the test create
one, and its peak resident set (VmHWM) always."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import math
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from kube import Kubectl, unique_name

UTC = dt.timezone.utc


def parse_time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


# --- builders ---------------------------------------------------------------------------------

def rotation(namespace: str, name: str, start: str = "2026-01-05T09:00:00", turn: str = "1w",
             horizon: str | None = None, look_back: str | None = None,
             display_name: str | None = None) -> dict:
    """Two people (ana, ben) taking turns in UTC. Minute turns want a short horizon and
    look-back: each handoff recomputes the schedule over both."""
    ana = {"name": "ana"}
    if display_name:
        ana["displayName"] = display_name
    spec: dict = {"timeZone": "UTC", "participants": [ana, {"name": "ben"}],
                  "layers": [{"name": "primary", "members": ["ana", "ben"], "start": start,
                              "turnLength": turn}]}
    if horizon:
        spec["horizon"] = horizon
    if look_back:
        spec["fairness"] = {"lookBack": look_back}
    return {"apiVersion": "relops.dev/v1alpha1", "kind": "OnCallRotation",
            "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def minute_rotation(namespace: str, name: str, second: int) -> dict:
    """Hands off every minute at `second` past the minute (UTC)."""
    return rotation(namespace, name, start=f"2026-01-01T00:00:{second:02d}", turn="1m",
                    horizon="1d", look_back="1d")


def ratio_slo(namespace: str, name: str, description: str = "") -> dict:
    """A ratio SLO: without Prometheus relops writes its rules and its status and nothing
    else, so a reconcile is cheap but real (through the work queue, two writes)."""
    spec = {"service": "checkout", "objective": "99.9",
            "indicator": {"ratio": {"errors": 'http_requests_total{code=~"5.."}',
                                    "total": "http_requests_total"}}}
    if description:
        spec["description"] = description
    return {"apiVersion": "relops.dev/v1alpha1", "kind": "ServiceLevelObjective",
            "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def documents(objects: list[dict]) -> str:
    """One multi-document YAML file (JSON is YAML) for a single `kubectl apply -f`."""
    return "\n---\n".join(json.dumps(o) for o in objects) + "\n"


# --- watching ---------------------------------------------------------------------------------

@dataclass
class Event:
    at: float  # time.time() when the line arrived
    fields: dict[str, str]
    index: int  # its place in Watch.events


class Watch:
    """`kubectl get <kind> -n <namespace> -w` printing the jsonpath `fields` of every object
    on one line ('|' between them: no name or value here holds one), each line stamped with
    the wall clock on arrival. The first lines are the objects as they were when the watch
    started."""

    def __init__(self, kubectl: Kubectl, kind: str, namespace: str, fields: dict[str, str]):
        self.names = ["name", *fields]
        template = "{.metadata.name}" + "".join(
            '{"|"}{' + path + "}" for path in fields.values()) + '{"\\n"}'
        self.events: list[Event] = []
        self._changed = threading.Condition()
        self.process = subprocess.Popen(
            ["kubectl", "--kubeconfig", kubectl.kubeconfig, "get", kind, "-n", namespace,
             "-w", "-o", f"jsonpath={template}"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout
        for line in self.process.stdout:
            at = time.time()
            values = line.rstrip("\n").split("|")
            with self._changed:
                event = Event(at, dict(zip(self.names, values + [""] * len(self.names))),
                              len(self.events))
                self.events.append(event)
                self._changed.notify_all()

    def wait_for(self, what: str, match: Callable[[Event], bool], timeout: float = 60,
                 since: int = 0) -> Event:
        """The first event from index `since` on that matches."""
        deadline = time.monotonic() + timeout
        with self._changed:
            index = since
            while True:
                while index < len(self.events):
                    if match(self.events[index]):
                        return self.events[index]
                    index += 1
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.process.poll() is not None:
                    stderr = self.process.stderr.read() if self.process.poll() is not None \
                        else ""
                    raise AssertionError(f"watch: timed out after {timeout}s waiting for "
                                         f"{what} {stderr}")
                self._changed.wait(remaining)

    def __len__(self) -> int:
        with self._changed:
            return len(self.events)

    def snapshot(self) -> list[Event]:
        with self._changed:
            return list(self.events)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


# The on-call fields of a rotation, for Watch.
ROTATION_FIELDS = {
    "generation": ".metadata.generation",
    "observed": ".status.observedGeneration",
    "onCall": ".status.onCall.participant",
    "next": ".status.nextHandoff.time",
    "nextTo": ".status.nextHandoff.to",
    "stalled": '.status.conditions[?(@.type=="Stalled")].status',
    "stalledReason": '.status.conditions[?(@.type=="Stalled")].reason',
}

GENERATION_FIELDS = {
    "generation": ".metadata.generation",
    "observed": ".status.observedGeneration",
}


@dataclass
class Handoff:
    name: str
    instant: dt.datetime  # when the rotation said the handoff would be
    to: str
    lag: float  # seconds from the instant until the watch showed `to` on call


def handoffs(events: list[Event], after: dt.datetime) -> list[Handoff]:
    """Handoffs announced for `after` or later: per rotation, the first event that shows on
    call the person the previous events announced (status.nextHandoff), lagging the instant
    they announced. Two people take turns, so nobody is announced while on call."""
    announced: dict[str, tuple[dt.datetime, str]] = {}
    found: list[Handoff] = []
    for event in events:
        name = event.fields["name"]
        if name in announced and event.fields["onCall"] == announced[name][1]:
            instant, to = announced[name]
            if instant >= after:
                found.append(Handoff(name, instant, to, event.at - instant.timestamp()))
        if event.fields["next"] and event.fields["nextTo"]:
            announced[name] = (parse_time(event.fields["next"]), event.fields["nextTo"])
    return found


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile: of 20 values, p99 is the largest."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def summary(values: list[float]) -> str:
    return (f"n={len(values)} p50={percentile(values, 0.5):.3f}s "
            f"p99={percentile(values, 0.99):.3f}s max={max(values):.3f}s")


# --- calendar feeds -------------------------------------------------------------------------

def feed_path(key_file: str, namespace: str, name: str, uid: str) -> str:
    """/calendars/<namespace>/<name>/<token>.ics, the token being hex(HMAC-SHA256(key,
    "<namespace>/<name>/<uid>")) with the key file's trailing whitespace dropped (README,
    "Calendar feeds")."""
    key = Path(key_file).read_bytes().rstrip(b" \t\r\n")
    token = hmac.new(key, f"{namespace}/{name}/{uid}".encode(), hashlib.sha256).hexdigest()
    return f"/calendars/{namespace}/{name}/{token}.ics"


# --- memory -----------------------------------------------------------------------------------

def peak_rss_mib(pid: int) -> float:
    """The process's peak resident set (VmHWM), MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmHWM for {pid}")


class MemoryLimit:
    """A memory cgroup holding processes to `limit_mib`, made as a child of this test's own
    memory cgroup (cgroup v1 memory.limit_in_bytes, or v2 memory.max) when the machine lets
    the test create one; `path` is None when it does not (no write access, no memory
    controller delegated), and then only VmHWM bounds the process."""

    def __init__(self, limit_mib: int):
        self.limit_mib = limit_mib
        self.path: Path | None = None
        self.version = 0
        self.why_not = ""
        name = f"relops-e2e-{uuid.uuid4().hex[:8]}"
        for version, base, limit_file in self._candidates():
            path = base / name
            try:
                path.mkdir()
            except OSError as error:
                self.why_not = f"cannot create {path}: {error}"
                continue
            try:
                (path / limit_file).write_text(str(limit_mib * 1024 * 1024))
            except OSError as error:
                self.why_not = f"cannot set {path / limit_file}: {error}"
                path.rmdir()
                continue
            self.path, self.version = path, version
            return

    @staticmethod
    def _candidates():
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            hierarchy, controllers, own = line.split(":", 2)
            if "memory" in controllers.split(","):
                yield 1, Path("/sys/fs/cgroup/memory") / own.lstrip("/"), "memory.limit_in_bytes"
            elif hierarchy == "0":
                for root in (Path("/sys/fs/cgroup"), Path("/sys/fs/cgroup/unified")):
                    if (root / "cgroup.controllers").exists():
                        yield 2, root / own.lstrip("/"), "memory.max"

    def adopt(self, pid: int) -> None:
        """Moves the process into the cgroup (its memory so far moves with it in v2, not
        in v1; a process just started holds little)."""
        if self.path is None:
            return
        try:
            (self.path / "cgroup.procs").write_text(str(pid))
        except OSError as error:
            self.why_not = f"cannot move {pid} into {self.path}: {error}"
            self.close()

    def usage_peak_mib(self) -> float | None:
        """The cgroup's peak usage (resident and page cache), MiB, where the kernel keeps it."""
        if self.path is None:
            return None
        for name in ("memory.max_usage_in_bytes", "memory.peak"):
            if (self.path / name).exists():
                return int((self.path / name).read_text()) / (1024 * 1024)
        return None

    def describe(self) -> str:
        if self.path is None:
            return f"no memory cgroup ({self.why_not}); VmHWM only"
        return f"memory cgroup v{self.version} {self.path} limited to {self.limit_mib} MiB"

    def close(self) -> None:
        """Removes the cgroup once its processes have exited."""
        if self.path is None:
            return
        for _ in range(50):
            try:
                self.path.rmdir()
                break
            except OSError:
                time.sleep(0.1)
        self.path = None


def healthz(port: int) -> int:
    import urllib.request
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
            return r.status
    except OSError:
        return 0


def crds_and_namespaces(kubectl: Kubectl, *prefixes: str) -> list[str]:
    """relops's CRDs applied and established, and a new namespace per prefix."""
    from relops_process import REPO

    kubectl.run("apply", "--server-side", "-f", str(REPO / "crds"))
    kubectl.run("wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")
    names = [unique_name(prefix) for prefix in prefixes]
    for name in names:
        kubectl.run("create", "namespace", name)
    return names
