"""A thin, independent driver for e2e tests: everything goes through kubectl.

relops's own Kubernetes client is never used to check relops, so a bug in it
cannot hide itself.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable, TypeVar

T = TypeVar("T")


class KubectlError(Exception):
    def __init__(self, args: list[str], result: subprocess.CompletedProcess[str]):
        self.result = result
        super().__init__(
            f"kubectl {' '.join(args)} exited {result.returncode}: {result.stderr.strip()}"
        )


@dataclass
class Kubectl:
    kubeconfig: str
    extra_args: tuple[str, ...] = ()

    def run(
        self, *args: str, input: str | None = None, check: bool = True, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        argv = ["kubectl", "--kubeconfig", self.kubeconfig, *self.extra_args, *args]
        result = subprocess.run(
            argv, input=input, capture_output=True, text=True, timeout=timeout
        )
        if check and result.returncode != 0:
            raise KubectlError(list(args), result)
        return result

    def apply(self, manifest: str, *args: str) -> str:
        return self.run("apply", "-f", "-", *args, input=manifest).stdout

    def get(self, kind: str, name: str = "", namespace: str | None = None) -> dict[str, Any]:
        argv = ["get", kind] + ([name] if name else []) + ["-o", "json"]
        if namespace:
            argv += ["-n", namespace]
        return json.loads(self.run(*argv).stdout)

    def exists(self, kind: str, name: str, namespace: str | None = None) -> bool:
        argv = ["get", kind, name, "--ignore-not-found", "-o", "name"]
        if namespace:
            argv += ["-n", namespace]
        return bool(self.run(*argv).stdout.strip())


def wait_until(
    what: str, condition: Callable[[], T], timeout: float = 60, interval: float = 0.5
) -> T:
    """Polls condition until it returns a truthy value, which is returned."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = condition()
            if value:
                return value
        except (KubectlError, KeyError, IndexError) as error:
            last_error = error
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last error: {last_error}")


def unique_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def kubeconfig_from_env() -> str:
    path = os.environ.get("KUBECONFIG", "")
    if not path or not os.path.exists(path):
        raise RuntimeError(
            "KUBECONFIG must name the kubeconfig of a running test cluster "
            "(tests/cluster/up prints one; ctest sets it through its e2e fixture)"
        )
    return path


def settled(what: str, read: Callable[[], T], quiet: float = 3, timeout: float = 60) -> T:
    """Reads until two reads `quiet` seconds apart agree (asynchronous writes have
    landed), and returns that value."""
    deadline = time.monotonic() + timeout
    last = read()
    while time.monotonic() < deadline:
        time.sleep(quiet)
        current = read()
        if current == last:
            return current
        last = current
    raise AssertionError(f"timed out after {timeout}s waiting for {what} to settle")
