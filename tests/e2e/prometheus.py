"""A real Prometheus for e2e tests (Debian's `prometheus` package), with request history
whose error ratio over any window is known exactly.

Each service's traffic is a counter `http_requests_total{job, code}` whose rate is
piecewise constant: a background rate and error ratio, plus incidents with their own
rate and error ratio. The counters are exact integrals of those rates, so the error
ratio over [a, b] is known analytically (`Traffic.error_ratio`), and Prometheus's
rate() over a window agrees with it up to one sample interval at the window's edges.

The history is written as OpenMetrics and turned into TSDB blocks with
`promtool tsdb create-blocks-from openmetrics` before Prometheus starts. It begins well
before now − 28d and reaches `future` into the future, so the ratio over a 28-day window
does not depend on the minute a query runs (as long as no incident is ongoing) and short
windows (5m, 1h) at "now" see data throughout a test.

Blocks that reach into the future move the head's lower bound for appends past "now": the
results of recording and alerting rules evaluated at "now" would be rejected as out of
bounds. Prometheus's out-of-order window (`storage.tsdb.out_of_order_time_window`, longer
than `future`) admits them.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from relops_process import free_port

MINUTE = 60
HOUR = 3600
DAY = 86400
METRIC = "http_requests_total"


@dataclass(frozen=True)
class Phase:
    """Traffic from `start` to `end` (unix seconds) at a constant rate and error ratio."""

    start: float
    end: float
    requests_per_second: float
    error_ratio: float


@dataclass
class Traffic:
    """One service's requests: a background phase with incidents laid over it."""

    job: str
    requests_per_second: float
    error_ratio: float
    incidents: list[Phase] = field(default_factory=list)

    def errors_selector(self) -> str:
        return f'{METRIC}{{job="{self.job}",code=~"5.."}}'

    def total_selector(self) -> str:
        return f'{METRIC}{{job="{self.job}"}}'

    def phase_at(self, t: float) -> tuple[float, float]:
        """(requests per second, error ratio) at time t; the last incident listed wins."""
        rate, ratio = self.requests_per_second, self.error_ratio
        for incident in self.incidents:
            if incident.start <= t < incident.end:
                rate, ratio = incident.requests_per_second, incident.error_ratio
        return rate, ratio

    def counts(self, a: float, b: float) -> tuple[float, float]:
        """(requests, errors) in [a, b], integrated exactly over the phases."""
        cuts = sorted({a, b, *(p.start for p in self.incidents if a < p.start < b),
                       *(p.end for p in self.incidents if a < p.end < b)})
        requests = errors = 0.0
        for lo, hi in zip(cuts, cuts[1:]):
            rate, ratio = self.phase_at(lo)
            requests += rate * (hi - lo)
            errors += rate * ratio * (hi - lo)
        return requests, errors

    def error_ratio_over(self, a: float, b: float) -> float:
        requests, errors = self.counts(a, b)
        return errors / requests


def budget_remaining_percent(error_ratio: float, objective_percent: float) -> float:
    """Percent of the error budget left: 100 × (1 − error ratio / (1 − objective))."""
    return 100.0 * (1.0 - error_ratio / (1.0 - objective_percent / 100.0))


def sli_percent(error_ratio: float) -> float:
    return 100.0 * (1.0 - error_ratio)


def parse_window(text: str) -> int:
    """Seconds in a duration such as 5m, 6h, 3d or 4w."""
    match = re.fullmatch(r"(\d+)([smhdw])", text)
    if not match:
        raise ValueError(f"not a duration: {text!r}")
    unit = {"s": 1, "m": MINUTE, "h": HOUR, "d": DAY, "w": 7 * DAY}[match.group(2)]
    return int(match.group(1)) * unit


@dataclass
class History:
    """The traffic of several services from `start` to `end` (unix seconds), sampled
    every `coarse_step` seconds and, over the last `fine_span` before `end`, every
    `fine_step` seconds, so that a window ending now is off by at most `fine_step`."""

    services: list[Traffic]
    start: int
    end: int
    coarse_step: int = MINUTE
    fine_step: int = 10
    fine_span: int = 2 * DAY

    def sample_times(self) -> list[int]:
        fine_from = self.end - self.fine_span
        times = list(range(self.start, fine_from, self.coarse_step))
        times += range(max(fine_from, self.start), self.end + 1, self.fine_step)
        return times

    def openmetrics(self) -> str:
        times = self.sample_times()
        lines = ["# HELP http_requests Requests served, by status code.",
                 "# TYPE http_requests counter"]
        for service in self.services:
            for code, error in (("200", False), ("500", True)):
                previous, value = self.start, 0.0
                for t in times:
                    requests, errors = service.counts(previous, t)
                    value += errors if error else requests - errors
                    previous = t
                    lines.append(f'{METRIC}{{job="{service.job}",code="{code}"}} {value!r} {t}')
        lines.append("# EOF")
        return "\n".join(lines) + "\n"


def backfill(history: History, data_dir: Path) -> None:
    """TSDB blocks for the history, made by promtool (Prometheus must not be running)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    source = data_dir.parent / "history.om"
    source.write_text(history.openmetrics())
    # Blocks as long as the history, not promtool's default 2h: a few blocks load fast.
    span_hours = math.ceil((history.end - history.start) / HOUR) + 1
    subprocess.run(
        ["promtool", "tsdb", "create-blocks-from", "openmetrics",
         f"--max-block-duration={span_hours}h", str(source), str(data_dir)],
        check=True, capture_output=True, text=True, timeout=600,
    )
    source.unlink()


class PrometheusError(Exception):
    """Prometheus answered an API call with an error: `error_type` and its message."""

    def __init__(self, status: int, error_type: str, message: str):
        self.status = status
        self.error_type = error_type
        self.message = message
        super().__init__(f"Prometheus {status} {error_type}: {message}")


class Prometheus:
    """`prometheus` on a free loopback port with a data dir and a rules dir of its own.

    Rules are evaluated every `evaluation_interval`; files dropped into `rules_dir` are
    loaded by `load_rules` (POST /-/reload, --web.enable-lifecycle)."""

    def __init__(self, workdir: Path, evaluation_interval: str = "5s",
                 out_of_order_window: str = "0s"):
        self.workdir = workdir
        self.data_dir = workdir / "data"
        self.rules_dir = workdir / "rules"
        self.rules_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "prometheus.log"
        config = {
            "global": {"evaluation_interval": evaluation_interval,
                       "scrape_interval": "1m"},
            "rule_files": [str(self.rules_dir / "*.yaml")],
            "storage": {"tsdb": {"out_of_order_time_window": out_of_order_window}},
        }
        self._config = config
        (workdir / "prometheus.yml").write_text(json.dumps(config, indent=2))
        self.process: subprocess.Popen[bytes] | None = None

    def scrape(self, job: str, target: str, interval: str = "5s") -> None:
        """Scrapes `target` (host:port, plain HTTP /metrics) as `job`; call before start()."""
        self._config.setdefault("scrape_configs", []).append(
            {"job_name": job, "scrape_interval": interval,
             "static_configs": [{"targets": [target]}]})
        (self.workdir / "prometheus.yml").write_text(json.dumps(self._config, indent=2))

    def start(self, timeout: float = 60) -> None:
        self._log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            ["prometheus", f"--config.file={self.workdir / 'prometheus.yml'}",
             f"--storage.tsdb.path={self.data_dir}",
             # The history is older than the default retention of 15 days.
             "--storage.tsdb.retention.time=3650d",
             f"--web.listen-address=127.0.0.1:{self.port}",
             "--web.enable-lifecycle", "--log.level=info"],
            stdout=self._log, stderr=self._log,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"prometheus exited {self.process.returncode}:\n{self.log()}")
            if self._status("/-/ready") == 200:
                return
            time.sleep(0.2)
        raise RuntimeError(f"prometheus not ready after {timeout}s:\n{self.log()}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process:
            self._log.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def _status(self, path: str) -> int:
        try:
            with urllib.request.urlopen(self.url + path, timeout=5) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code
        except OSError:
            return 0

    def api(self, path: str, params: dict[str, str] | None = None,
            method: str = "GET") -> Any:
        """The `data` of a /api/v1 answer; PrometheusError with its message otherwise."""
        query = urllib.parse.urlencode(params or {})
        request = urllib.request.Request(
            f"{self.url}{path}" + (f"?{query}" if query and method == "GET" else ""),
            data=query.encode() if method == "POST" else None, method=method)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                body = json.load(response)
                status = response.status
        except urllib.error.HTTPError as error:
            body = json.loads(error.read() or b"{}")
            status = error.code
        if body.get("status") != "success":
            raise PrometheusError(status, body.get("errorType", ""), body.get("error", ""))
        return body["data"]

    def query(self, expr: str, at: float | None = None) -> list[dict[str, Any]]:
        """An instant query's vector (or a scalar as a one-element vector)."""
        params = {"query": expr}
        if at is not None:
            params["time"] = f"{at:.3f}"
        data = self.api("/api/v1/query", params, method="POST")
        if data["resultType"] == "scalar":
            return [{"metric": {}, "value": data["result"]}]
        return data["result"]

    def value(self, expr: str, at: float | None = None) -> float:
        """The one sample an instant query returns."""
        result = self.query(expr, at)
        if len(result) != 1:
            raise AssertionError(f"{expr} returned {len(result)} samples, not one: {result}")
        return float(result[0]["value"][1])

    def load_rules(self, name: str, content: str, timeout: float = 30) -> None:
        """Writes a rule file and reloads Prometheus; fails with Prometheus's message when
        it rejects the file, and waits until the file's groups are evaluated."""
        path = self.rules_dir / f"{name}.yaml"
        path.write_text(content)
        try:
            self.reload()
        except PrometheusError:
            path.unlink()
            raise
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            groups = [g for g in self.api("/api/v1/rules")["groups"] if g["file"] == str(path)]
            # lastEvaluation is Go's zero time until a group's first evaluation.
            if groups and all(not g["lastEvaluation"].startswith("0001") for g in groups):
                return
            time.sleep(0.5)
        raise AssertionError(f"rules of {path.name} not evaluated within {timeout}s:\n{self.log()}")

    def unload_rules(self, name: str | None = None) -> None:
        """Removes one rule file, or all of them, and reloads Prometheus."""
        for path in self.rules_dir.glob(f"{name or '*'}.yaml"):
            path.unlink()
        self.reload()

    def group_evaluations(self) -> list[tuple[str, str, float]]:
        """(group, last evaluation, seconds it took) of every loaded rule group."""
        return [(g["name"], g["lastEvaluation"], g["evaluationTime"])
                for g in self.api("/api/v1/rules")["groups"]]

    def reload(self) -> None:
        request = urllib.request.Request(self.url + "/-/reload", method="POST")
        try:
            urllib.request.urlopen(request, timeout=30).close()
        except urllib.error.HTTPError as error:
            raise PrometheusError(error.code, "reload", error.read().decode()) from None

    def rule_health(self) -> list[tuple[str, str, str]]:
        """(rule name, health, last error) of every loaded rule."""
        return [(rule["name"], rule["health"], rule.get("lastError", ""))
                for group in self.api("/api/v1/rules")["groups"] for rule in group["rules"]]

    def firing_alerts(self, **labels: str) -> list[dict[str, Any]]:
        """Alerts in state firing (GET /api/v1/alerts) whose labels include `labels`."""
        return [alert for alert in self.api("/api/v1/alerts")["alerts"]
                if alert["state"] == "firing"
                and all(alert["labels"].get(k) == v for k, v in labels.items())]

    def own_metric(self, name: str, **labels: str) -> float:
        """The sum of Prometheus's own metric from its /metrics page (read directly, so
        reading it is no API request that the metric would count)."""
        with urllib.request.urlopen(self.url + "/metrics", timeout=10) as response:
            text = response.read().decode()
        total = 0.0
        for line in text.splitlines():
            if not (line.startswith(name + "{") or line.startswith(name + " ")):
                continue
            sample, value = line.rsplit(" ", 1)
            if all(f'{k}="{v}"' in sample for k, v in labels.items()):
                total += float(value)
        return total


def start_with_history(workdir: Path, history: History) -> Prometheus:
    """Backfills the history, then starts Prometheus on it."""
    prometheus = Prometheus(
        workdir, out_of_order_window=f"{(history.end - int(time.time())) // HOUR + 2}h")
    backfill(history, prometheus.data_dir)
    prometheus.start()
    return prometheus


def minute_floor(t: float) -> int:
    return int(t) // MINUTE * MINUTE
