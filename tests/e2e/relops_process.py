"""Runs the relops binary (`relops run`) against the test cluster, and reads
what the API server recorded about it."""

from __future__ import annotations

import json
import os
import signal
import secrets
import socket
import ssl
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


def calendar_key(directory: Path) -> str:
    """A file with a random feed key for `--calendar-key-file`."""
    path = directory / f"calendar-key-{secrets.token_hex(4)}"
    path.write_text(secrets.token_hex(32) + "\n")
    return str(path)


class Operator:
    """One `relops run` process with its own metrics and probe ports.

    Metrics are plain HTTP (`--metrics-secure=false`) unless `metrics_secure=True`, which keeps
    relops's default: HTTPS, and only for a bearer token allowed to get /metrics; then
    `metrics_token` (or the token passed to `metrics_get`) authenticates the reads. With
    `calendars=True` the calendar listener is on, on its own port, with a fresh key file."""

    def __init__(self, kubeconfig: str, log_path: Path, *flags: str,
                 env: dict[str, str] | None = None, metrics_secure: bool = False,
                 metrics_token: str | None = None, calendars: bool = False):
        self.metrics_port = free_port()
        self.probe_port = free_port()
        self.calendar_port = 0
        self.metrics_secure = metrics_secure
        self.metrics_token = metrics_token
        self.log_path = log_path
        extra: list[str] = [] if metrics_secure else ["--metrics-secure=false"]
        if calendars:
            self.calendar_port = free_port()
            extra += ["--calendar-bind-address", f"127.0.0.1:{self.calendar_port}",
                      "--calendar-key-file", calendar_key(log_path.parent)]
        elif "--calendar-bind-address" in flags:
            address = flags[flags.index("--calendar-bind-address") + 1]
            self.calendar_port = int(address.rsplit(":", 1)[1])
        self._log = open(log_path, "w")
        self.process = subprocess.Popen(
            [os.environ["RELOPS_BINARY"], "run", "--kubeconfig", kubeconfig,
             "--metrics-bind-address", f"127.0.0.1:{self.metrics_port}",
             "--health-probe-bind-address", f"127.0.0.1:{self.probe_port}",
             *extra, *flags],
            stdout=self._log, stderr=self._log,
            env={**os.environ, **(env or {})},
        )

    @staticmethod
    def _fetch(url: str, headers: dict[str, str] | None = None
               ) -> tuple[int, dict[str, str], str]:
        # relops's self-signed metrics certificate: the test checks authentication, not the
        # certificate chain.
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        request = urllib.request.Request(url, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=5, context=context) as r:
                return r.status, dict(r.headers), r.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read().decode()
        except OSError:
            return 0, {}, ""

    def _get(self, port: int, path: str) -> tuple[int, str]:
        status, _, body = self._fetch(f"http://127.0.0.1:{port}{path}")
        return status, body

    def metrics_get(self, token: str | None = None) -> tuple[int, str]:
        """GET /metrics with `token` as bearer (none when None): (status, body)."""
        scheme = "https" if self.metrics_secure else "http"
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        status, _, body = self._fetch(f"{scheme}://127.0.0.1:{self.metrics_port}/metrics",
                                      headers)
        return status, body

    def calendar_get(self, path: str, token: str | None = None
                     ) -> tuple[int, dict[str, str], str]:
        """GET `path` on the calendar listener: (status, headers, body)."""
        assert self.calendar_port, "started without calendars=True"
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        return self._fetch(f"http://127.0.0.1:{self.calendar_port}{path}", headers)

    def ready(self) -> bool:
        return self._get(self.probe_port, "/readyz")[0] == 200

    def metrics(self) -> str:
        return self.metrics_get(self.metrics_token)[1]

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
