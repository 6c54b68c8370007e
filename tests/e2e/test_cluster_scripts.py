"""tests/cluster/up and down keep their promises: several clusters side by
side, `up` idempotent, `down` leaves no process and no file behind."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from kube import Kubectl, unique_name

CLUSTER_DIR = Path(__file__).resolve().parent.parent / "cluster"


def cluster_processes(state_dir: Path) -> list[str]:
    """Command lines of live processes that mention the cluster's state dir."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if str(state_dir) in cmdline:
            found.append(cmdline)
    return found


def test_second_cluster_runs_beside_the_first_and_down_cleans_up(kubectl: Kubectl, tmp_path):
    name = unique_name("side")
    root = tmp_path / "clusters"
    env = {**os.environ, "RELOPS_CLUSTER_ROOT": str(root), "RELOPS_KWOK_NODES": "1"}

    up = subprocess.run([CLUSTER_DIR / "up", name], env=env, capture_output=True, text=True,
                        timeout=300)
    assert up.returncode == 0, up.stderr
    kubeconfig = up.stdout.strip()
    assert kubeconfig == str(root / name / "kubeconfig")
    try:
        second = Kubectl(kubeconfig)
        # Two distinct, working API servers.
        assert second.run("config", "view", "-o", "jsonpath={.clusters[0].cluster.server}").stdout \
            != kubectl.run("config", "view", "-o", "jsonpath={.clusters[0].cluster.server}").stdout
        assert [n["metadata"]["name"] for n in second.get("nodes")["items"]] == ["kwok-node-0"]
        kubectl.run("get", "nodes")

        # Idempotent: a second `up` finds the cluster healthy and starts nothing.
        run = root / name / "run"
        pids = {p.name: p.read_text() for p in run.glob("*.pid")}
        again = subprocess.run([CLUSTER_DIR / "up", name], env=env, capture_output=True,
                               text=True, timeout=120)
        assert again.returncode == 0, again.stderr
        assert again.stdout.strip() == kubeconfig
        assert "already running" in again.stderr
        assert pids and {p.name: p.read_text() for p in run.glob("*.pid")} == pids
    finally:
        down = subprocess.run([CLUSTER_DIR / "down", name], env=env, capture_output=True,
                              text=True, timeout=120)
    assert down.returncode == 0, down.stderr
    assert not (root / name).exists()
    assert cluster_processes(root / name) == []
    # The first cluster is untouched.
    kubectl.run("get", "--raw", "/readyz")
