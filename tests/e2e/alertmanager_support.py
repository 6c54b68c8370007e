"""A real Alertmanager fed by the real Prometheus Operator, for e2e tests of where alerts go.

- `PrometheusOperator` runs the operator binary that tests/cluster/binaries.sh builds from the
  Go module pinned in tests/cluster/gomod/prometheus-operator, against the test cluster
  (KUBECONFIG: the operator has no --kubeconfig flag). It renders every AlertmanagerConfig an
  Alertmanager object selects into the Secret `alertmanager-<name>-generated`
  (`alertmanager.yaml.gz`, gzip), whether or not the Alertmanager's pods run (kwok fakes them).
- `Alertmanager` runs Debian's `prometheus-alertmanager` on loopback with that configuration;
  `ConfigFollower` watches the Secret (kubectl --watch) and copies each new rendering into the
  config file and reloads, as the config-reloader sidecar does in a real pod.
- `WebhookSink` is the receivers' far end: an HTTP server on loopback that records each
  notification with its wall-clock arrival time.
- Without the operator (relops `--routing-output configmap`): `ConfigMapFollower` watches the
  ConfigMap with relops's Alertmanager configuration fragment, `assemble_config` builds a whole
  configuration from fragments, and `check_config` runs `amtool check-config` on it.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import json
import os
import subprocess
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable

import yaml

from kube import Kubectl
from relops_process import REPO, free_port

UTC = dt.timezone.utc
PROMETHEUS_OPERATOR_GOMOD = REPO / "tests" / "cluster" / "gomod" / "prometheus-operator"
PROMETHEUS_OPERATOR_MODULE = "github.com/prometheus-operator/prometheus-operator"
# The operator's CRDs that serve only v1alpha1 of AlertmanagerConfig, without a conversion
# webhook (the -full directory adds v1beta1, which needs one).
ALERTMANAGER_CRDS = ("monitoring.coreos.com_alertmanagers.yaml",
                     "monitoring.coreos.com_alertmanagerconfigs.yaml")
# The Alertmanager that Debian ships (bookworm: 0.25); the operator renders for this version.
ALERTMANAGER_VERSION = "v0.25.0"


def rfc3339(t: dt.datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def wait_http(url: str, what: str, process: subprocess.Popen, log: Callable[[], str],
              timeout: float = 60) -> None:
    """Until GET url answers 200; fails early with the log when the process exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited {process.returncode}:\n{log()[-4000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{what} not ready at {url} after {timeout}s:\n{log()[-4000:]}")


def stop_process(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# --- the Prometheus Operator --------------------------------------------------------------


def operator_crd_dir() -> Path:
    """example/prometheus-operator-crd of the operator module at the version the wrapper
    module pins (downloaded into the module cache when binaries.sh built it)."""
    source = subprocess.run(
        ["go", "list", "-m", "-f", "{{.Dir}}", PROMETHEUS_OPERATOR_MODULE],
        cwd=PROMETHEUS_OPERATOR_GOMOD, check=True, capture_output=True, text=True, timeout=120,
        env=_go_env(),
    ).stdout.strip()
    return Path(source) / "example" / "prometheus-operator-crd"


def _go_env() -> dict[str, str]:
    return {**os.environ, "GOTOOLCHAIN": "local", "GOFLAGS": "-mod=readonly"}


def install_alertmanager_crds(kubectl: Kubectl) -> list[str]:
    """Alertmanager and AlertmanagerConfig CRDs, established and in discovery. Server-side:
    they are larger than the last-applied annotation allows. Returns the CRDs that were not
    there before (the caller removes those)."""
    directory = operator_crd_dir()
    names = ["crd/alertmanagers.monitoring.coreos.com",
             "crd/alertmanagerconfigs.monitoring.coreos.com"]
    for name in names:  # one an earlier run removed may still be terminating
        found = kubectl.run("get", name, "--ignore-not-found", "-o", "json").stdout.strip()
        if found and json.loads(found)["metadata"].get("deletionTimestamp"):
            kubectl.run("wait", "--for=delete", "--timeout=120s", name, timeout=130)
    new = [name for name in names if not kubectl.exists("crd", name.split("/", 1)[1])]
    files = [arg for crd in ALERTMANAGER_CRDS for arg in ("-f", str(directory / crd))]
    kubectl.run("apply", "--server-side", "--force-conflicts", *files, timeout=120)
    kubectl.run("wait", "--for=condition=Established", "--timeout=60s", *names, timeout=70)
    # Discovery catches up with a new CRD a moment after it is Established; relops and the
    # operator both look the kinds up once, at their start.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        served = kubectl.run("api-resources", "--api-group=monitoring.coreos.com",
                             "-o", "name").stdout.split()
        if {"alertmanagers.monitoring.coreos.com",
                "alertmanagerconfigs.monitoring.coreos.com"} <= set(served):
            return new
        time.sleep(0.5)
    raise AssertionError("Alertmanager CRDs not in discovery after 30s")


class PrometheusOperator:
    """The operator binary (`prometheus-operator` on PATH, from binaries.sh) on the test
    cluster. With only the Alertmanager CRDs installed it starts the Alertmanager controller
    alone (the others are skipped: their CRDs are missing)."""

    def __init__(self, kubeconfig: str, log_path: Path):
        self.port = free_port()
        self.log_path = log_path
        self._log = open(log_path, "w")
        self.process = subprocess.Popen(
            ["prometheus-operator", f"--web.listen-address=127.0.0.1:{self.port}",
             "--log-level=info", "--log-format=logfmt"],
            stdout=self._log, stderr=self._log,
            env={**os.environ, "KUBECONFIG": kubeconfig},
        )
        wait_http(f"http://127.0.0.1:{self.port}/healthz", "prometheus-operator", self.process,
                  self.log)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        stop_process(self.process)
        self._log.close()


# --- Alertmanager -------------------------------------------------------------------------


class Alertmanager:
    """`prometheus-alertmanager` on a free loopback port, HA off, with its own storage."""

    def __init__(self, workdir: Path, config: str):
        self.workdir = workdir
        self.config_path = workdir / "alertmanager.yml"
        self.config_path.write_text(config)
        (workdir / "data").mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "alertmanager.log"
        self._log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            ["prometheus-alertmanager", f"--config.file={self.config_path}",
             f"--web.listen-address=127.0.0.1:{self.port}",
             f"--storage.path={workdir / 'data'}",
             "--cluster.listen-address=",  # no HA mesh: one instance
             "--log.level=info"],
            stdout=self._log, stderr=self._log,
        )
        wait_http(self.url + "/-/ready", "alertmanager", self.process, self.log)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        stop_process(self.process)
        self._log.close()

    def load(self, config: str) -> None:
        """Writes the config file and reloads; fails with Alertmanager's message when it
        rejects the configuration."""
        self.config_path.write_text(config)
        request = urllib.request.Request(self.url + "/-/reload", method="POST")
        try:
            urllib.request.urlopen(request, timeout=30).close()
        except urllib.error.HTTPError as error:
            raise AssertionError(
                f"alertmanager rejected the rendered config: {error.read().decode()}\n"
                f"{config}") from None

    def post_alerts(self, *alerts: dict[str, Any]) -> None:
        """POST /api/v2/alerts: each alert a dict with labels (and annotations, startsAt,
        endsAt)."""
        request = urllib.request.Request(
            self.url + "/api/v2/alerts", data=json.dumps(list(alerts)).encode(),
            headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200, response.status

    def alerts(self) -> list[dict[str, Any]]:
        """GET /api/v2/alerts: every alert Alertmanager holds, with the receivers it routes
        each to."""
        with urllib.request.urlopen(self.url + "/api/v2/alerts", timeout=10) as response:
            return json.load(response)


def firing_alert(labels: dict[str, str], minutes: int = 10) -> dict[str, Any]:
    now = dt.datetime.now(UTC)
    return {"labels": labels,
            "annotations": {"summary": "error budget burning fast (e2e)"},
            "startsAt": rfc3339(now), "endsAt": rfc3339(now + dt.timedelta(minutes=minutes))}


@dataclass
class Rendering:
    """One version of the generated Secret, as the watch saw it."""

    resource_version: str
    config: str
    seen_at: float  # wall clock (time.time()) when the watch delivered it
    loaded_at: float = 0.0  # when Alertmanager had reloaded it


class ConfigFollower:
    """Watches the operator's generated Secret and loads each new rendering into the
    Alertmanager; keeps every rendering with its times."""

    def __init__(self, kubectl: Kubectl, namespace: str, secret: str, alertmanager: Alertmanager):
        self.alertmanager = alertmanager
        self.renderings: list[Rendering] = []
        self.error: BaseException | None = None
        self._changed = threading.Condition()
        self._watch = subprocess.Popen(
            ["kubectl", "--kubeconfig", kubectl.kubeconfig, "get", "secret", secret,
             "-n", namespace, "--watch",
             "-o", r'jsonpath={.metadata.resourceVersion} {.data.alertmanager\.yaml\.gz}{"\n"}'],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self._thread = threading.Thread(target=self._follow, daemon=True)
        self._thread.start()

    def _follow(self) -> None:
        assert self._watch.stdout is not None
        try:
            for line in self._watch.stdout:
                seen = time.time()
                version, _, data = line.strip().partition(" ")
                if not data:
                    continue
                config = gzip.decompress(base64.b64decode(data)).decode()
                if self.renderings and self.renderings[-1].config == config:
                    continue
                rendering = Rendering(version, config, seen)
                self.alertmanager.load(config)
                rendering.loaded_at = time.time()
                with self._changed:
                    self.renderings.append(rendering)
                    self._changed.notify_all()
            assert self._watch.stderr is not None
            raise RuntimeError(f"kubectl --watch of the Secret ended: {self._watch.stderr.read()}")
        except BaseException as error:  # reported by wait_for, not lost in the thread
            self.error = error
            with self._changed:
                self._changed.notify_all()

    def wait_for(self, what: str, predicate: Callable[[str], bool],
                 timeout: float = 30) -> Rendering:
        """The first loaded rendering whose config satisfies the predicate."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                if self.error:
                    raise AssertionError(f"following the rendered config failed: {self.error}")
                for rendering in self.renderings:
                    if predicate(rendering.config):
                        return rendering
                left = deadline - time.monotonic()
                if left <= 0:
                    last = self.renderings[-1].config if self.renderings else "(none)"
                    raise AssertionError(
                        f"timed out after {timeout}s waiting for a rendered config with {what};"
                        f" the last one:\n{last}")
                self._changed.wait(left)

    def stop(self) -> None:
        self.error = self.error or RuntimeError("stopped")
        if self._watch.poll() is None:
            self._watch.terminate()
            self._watch.wait(timeout=10)


# --- the receivers' far end ---------------------------------------------------------------


@dataclass
class Arrival:
    path: str
    at: float  # wall clock (time.time()), to compare with schedule instants
    monotonic: float  # time.monotonic(), to compare arrivals with each other
    payload: dict[str, Any] = field(default_factory=dict)

    def alerts(self) -> list[dict[str, Any]]:
        return self.payload.get("alerts", [])

    def has(self, status: str = "firing", **labels: str) -> bool:
        return any(a.get("status") == status
                   and all(a["labels"].get(k) == v for k, v in labels.items())
                   for a in self.alerts())


class WebhookSink:
    """An HTTP server on loopback; every POST is a notification, recorded by path."""

    def __init__(self) -> None:
        self.arrivals: list[Arrival] = []
        self._changed = threading.Condition()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                at, monotonic = time.time(), time.monotonic()
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                try:
                    payload = json.loads(body)
                except ValueError:
                    payload = {"unparsed": body.decode(errors="replace")}
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
                with sink._changed:
                    sink.arrivals.append(Arrival(self.path, at, monotonic, payload))
                    sink._changed.notify_all()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def matching(self, path: str | None = None, status: str = "firing",
                 **labels: str) -> list[Arrival]:
        with self._changed:
            return [a for a in self.arrivals if (path is None or a.path == path)
                    and a.has(status, **labels)]

    def wait_for(self, what: str, path: str | None, timeout: float = 30,
                 status: str = "firing", **labels: str) -> Arrival:
        """The first notification at `path` (None: at any) carrying an alert with `labels`."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [a for a in self.arrivals
                         if (path is None or a.path == path) and a.has(status, **labels)]
                if found:
                    return found[0]
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = sorted({(a.path, a.payload.get("receiver", "")) for a in self.arrivals})
                    raise AssertionError(
                        f"timed out after {timeout}s waiting for {what} at {path or 'any path'}; "
                        f"notifications so far (path, receiver): {seen}")
                self._changed.wait(left)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


# --- Alertmanager configuration fragments (relops --routing-output configmap) --------------


def assemble_config(*fragments: dict[str, Any], blackhole: str = "blackhole",
                    group_wait: str = "1s", group_interval: str = "1s",
                    repeat_interval: str = "1h") -> str:
    """A whole Alertmanager configuration from relops's fragments ({route, receivers}), the
    way relops documents it: each fragment's route under the root route's `routes`, its
    receivers appended to `receivers`. The root route sends everything else to `blackhole`, a
    receiver without configs."""
    config = {
        "route": {"receiver": blackhole, "group_wait": group_wait,
                  "group_interval": group_interval, "repeat_interval": repeat_interval,
                  "routes": [fragment["route"] for fragment in fragments]},
        "receivers": [{"name": blackhole},
                      *(receiver for fragment in fragments for receiver in fragment["receivers"])],
    }
    return yaml.safe_dump(config, sort_keys=False)


def check_config(config: str, workdir: Path) -> str:
    """`amtool check-config` on the configuration; fails with amtool's output when it rejects
    it. Returns that output."""
    path = workdir / f"check-{time.monotonic_ns()}.yml"
    path.write_text(config)
    result = subprocess.run(["amtool", "check-config", str(path)], capture_output=True,
                            text=True, timeout=30)
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"amtool check-config rejects it:\n{output}\n{config}"
    return output


@dataclass
class ConfigMapVersion:
    """One version of a ConfigMap's key, as the watch saw it."""

    resource_version: str
    text: str
    seen_at: float  # wall clock (time.time()) when the watch delivered it


class ConfigMapFollower:
    """Watches one key of one ConfigMap (kubectl --watch, JSON; the ConfigMap may not exist
    yet) and keeps each new value with the time the watch delivered it."""

    def __init__(self, kubectl: Kubectl, namespace: str, name: str, key: str):
        self.key = key
        self.versions: list[ConfigMapVersion] = []
        self.error: BaseException | None = None
        self._changed = threading.Condition()
        self._watch = subprocess.Popen(
            ["kubectl", "--kubeconfig", kubectl.kubeconfig, "get", "configmap", "-n", namespace,
             "--field-selector", f"metadata.name={name}", "--watch", "-o", "json"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self._thread = threading.Thread(target=self._follow, daemon=True)
        self._thread.start()

    def _follow(self) -> None:
        assert self._watch.stdout is not None
        try:
            lines: list[str] = []
            for line in self._watch.stdout:
                lines.append(line)
                # kubectl prints each object indented; only its closing brace is at column 0.
                if line.rstrip("\n") != "}":
                    continue
                seen = time.time()
                item = json.loads("".join(lines))
                lines = []
                text = item.get("data", {}).get(self.key)
                if text is None or (self.versions and self.versions[-1].text == text):
                    continue
                with self._changed:
                    self.versions.append(ConfigMapVersion(
                        item["metadata"]["resourceVersion"], text, seen))
                    self._changed.notify_all()
            assert self._watch.stderr is not None
            raise RuntimeError(
                f"kubectl --watch of the ConfigMap ended: {self._watch.stderr.read()}")
        except BaseException as error:  # reported by wait_for, not lost in the thread
            self.error = error
            with self._changed:
                self._changed.notify_all()

    def wait_for(self, what: str, predicate: Callable[[str], bool],
                 timeout: float = 30) -> ConfigMapVersion:
        """The first version whose text satisfies the predicate."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for version in self.versions:
                    if predicate(version.text):
                        return version
                if self.error:
                    raise AssertionError(f"following the ConfigMap failed: {self.error}")
                left = deadline - time.monotonic()
                if left <= 0:
                    last = self.versions[-1].text if self.versions else "(none)"
                    raise AssertionError(
                        f"timed out after {timeout}s waiting for a ConfigMap with {what}; "
                        f"the last one:\n{last}")
                self._changed.wait(left)

    def stop(self) -> None:
        self.error = self.error or RuntimeError("stopped")
        if self._watch.poll() is None:
            self._watch.terminate()
            self._watch.wait(timeout=10)
