"""Runs the relops binary (`relops run`) against the test cluster, and reads
what the API server recorded about it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Operator:
    """One `relops run` process with its own metrics and probe ports."""

    def __init__(self, kubeconfig: str, log_path: Path, *flags: str,
                 env: dict[str, str] | None = None):
        self.metrics_port = free_port()
        self.probe_port = free_port()
        self.log_path = log_path
        self._log = open(log_path, "w")
        self.process = subprocess.Popen(
            [os.environ["RELOPS_BINARY"], "run", "--kubeconfig", kubeconfig,
             "--metrics-bind-address", f"127.0.0.1:{self.metrics_port}",
             "--health-probe-bind-address", f"127.0.0.1:{self.probe_port}",
             *flags],
            stdout=self._log, stderr=self._log,
            env={**os.environ, **(env or {})},
        )

    def _get(self, port: int, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()
        except OSError:
            return 0, ""

    def ready(self) -> bool:
        return self._get(self.probe_port, "/readyz")[0] == 200

    def metrics(self) -> str:
        return self._get(self.metrics_port, "/metrics")[1]

    def metric(self, metric_name: str, /, **labels: str) -> float:
        """The sum of a metric's samples whose labels include `labels`."""
        total = 0.0
        for line in self.metrics().splitlines():
            if not line.startswith(metric_name + "{") and not line.startswith(metric_name + " "):
                continue
            sample, value = line.rsplit(" ", 1)
            if all(f'{k}="{v}"' in sample for k, v in labels.items()):
                total += float(value)
        return total

    def leading(self) -> bool:
        return self.metric("leader_election_master_status") == 1

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            # Not left running for the tests after this one; the caller sees -9.
            self.process.kill()
            code = self.process.wait()
        self._log.close()
        return code

    def log(self) -> str:
        return self.log_path.read_text()


def audit_log(kubeconfig: str) -> Path:
    return Path(kubeconfig).resolve().parent / "logs" / "audit.log"


def writes_by(kubeconfig: str, user_agent_prefix: str, namespace: str | None = None) -> list[dict]:
    """Write requests (create/update/patch/delete) the API server audited
    for clients whose User-Agent starts with the prefix."""
    found = []
    with open(audit_log(kubeconfig)) as log:
        for line in log:
            if not line.endswith("\n"):
                break  # the API server is still writing this one
            event = json.loads(line)
            if not event.get("userAgent", "").startswith(user_agent_prefix):
                continue
            if namespace and event.get("objectRef", {}).get("namespace") != namespace:
                continue
            found.append(event)
    return found


def wait_for(what: str, condition, timeout: float = 60, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
