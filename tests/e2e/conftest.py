"""pytest fixtures shared by the e2e tests.

The cluster is started by the ctest fixture `e2e.cluster.up` (or by hand with
tests/cluster/up) and named by KUBECONFIG; each test gets a namespace of its own.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from kube import Kubectl, kubeconfig_from_env, unique_name


def pytest_configure(config):
    # kubectl, helm and friends: the control-plane binaries built and cached by
    # tests/cluster/binaries.sh (instant when the cache is warm).
    binaries = Path(__file__).resolve().parent.parent / "cluster" / "binaries.sh"
    bin_dir = subprocess.run(
        [str(binaries)], check=True, capture_output=True, text=True
    ).stdout.strip()
    os.environ["PATH"] = f"{bin_dir}:{os.environ['PATH']}"


@pytest.fixture(scope="session")
def kubectl() -> Kubectl:
    return Kubectl(kubeconfig_from_env())


@pytest.fixture
def namespace(kubectl: Kubectl):
    name = unique_name("e2e")
    kubectl.run("create", "namespace", name)
    yield name
    kubectl.run("delete", "namespace", name, "--wait=false", check=False)


@pytest.fixture(scope="session")
def crds(kubectl: Kubectl):
    """relops's CRDs, applied the way the README says."""
    from relops_process import REPO

    kubectl.run("apply", "--server-side", "-f", str(REPO / "crds"))
    # These CRDs only: a test beside this one may be deleting a CRD of its own.
    files = [arg for path in sorted((REPO / "crds").glob("*.yaml")) for arg in ("-f", str(path))]
    kubectl.run("wait", "--for=condition=Established", *files, "--timeout=60s")


@pytest.fixture
def operators(kubectl: Kubectl, tmp_path):
    """Starts `relops run` processes; kills what is left at the end."""
    import signal

    from relops_process import Operator

    started: list[Operator] = []

    def start(*flags: str) -> Operator:
        op = Operator(kubectl.kubeconfig, tmp_path / f"relops-{len(started)}.log", *flags)
        started.append(op)
        return op

    yield start
    for op in started:
        if op.alive():
            op.stop(signal.SIGKILL)
