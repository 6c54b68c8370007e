"""relops's informer against a real API server: it survives an API server
restart without missing a change, and after a partition long enough for the
server to forget its resourceVersion (etcd compacted, watch cache rebuilt) it
relists and converges to exactly what the server lists.

The informer runs in tests/e2e/probes/informer_probe, which writes its cache
to a snapshot file; the cluster is changed and read only through kubectl."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import urllib.request
from pathlib import Path

import pytest

from faultproxy import FaultProxy
from kube import Kubectl, wait_until

CLUSTER_DIR = Path(__file__).resolve().parent.parent / "cluster"


class Probe:
    def __init__(self, kubeconfig: str, namespace: str, snapshot: Path, log: Path):
        self.snapshot = snapshot
        self._log = open(log, "w")
        self.process = subprocess.Popen(
            [os.environ["RELOPS_INFORMER_PROBE"], "--kubeconfig", kubeconfig,
             "--resource", "configmaps", "--namespace", namespace,
             "--snapshot", str(snapshot)],
            stdout=self._log, stderr=self._log,
        )

    def state(self) -> dict:
        assert self.process.poll() is None, f"informer_probe exited {self.process.returncode}"
        try:
            return json.loads(self.snapshot.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return {"synced": False, "lists": 0, "objects": {}}

    def stop(self) -> None:
        self.process.terminate()
        assert self.process.wait(timeout=30) == 0
        self._log.close()


def server_view(kubectl: Kubectl, namespace: str) -> dict[str, str]:
    items = kubectl.get("configmaps", namespace=namespace)["items"]
    return {f"{namespace}/{i['metadata']['name']}": i["metadata"]["resourceVersion"]
            for i in items}


def cluster_of(kubeconfig: str) -> tuple[str, Path]:
    path = Path(kubeconfig).resolve()
    return path.parent.name, path.parent


def restart(kubeconfig: str, component: str) -> None:
    name, state = cluster_of(kubeconfig)
    subprocess.run([CLUSTER_DIR / "restart", name, component], check=True, timeout=200,
                   env={**os.environ, "RELOPS_CLUSTER_ROOT": str(state.parent)})


def ports(kubeconfig: str) -> dict[str, int]:
    _, state = cluster_of(kubeconfig)
    return {k: int(v) for k, v in
            (line.split("=") for line in (state / "ports").read_text().split())}


def etcd_call(kubeconfig: str, path: str, body: dict) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{ports(kubeconfig)['etcd']}{path}",
        data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def create_configmaps(kubectl: Kubectl, namespace: str, names: list[str]) -> None:
    kubectl.apply("".join(
        f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {n}, namespace: {namespace}}}\n"
        f"data: {{v: '0'}}\n---\n" for n in names))


def converge(probe: Probe, kubectl: Kubectl, namespace: str, what: str,
             timeout: float = 180) -> None:
    """Waits until the informer's cache equals the server's current list; on
    timeout, says what differs and what the informer logged."""
    try:
        wait_until(what, lambda: probe.state()["objects"] == server_view(kubectl, namespace),
                   timeout=timeout)
    except AssertionError as error:
        log = Path(probe._log.name).read_text().splitlines()[-15:]
        raise AssertionError(
            f"{error}\ninformer: {probe.state()}\nserver: {server_view(kubectl, namespace)}"
            "\ninformer log:\n" + "\n".join(log)) from None


@pytest.fixture
def probe_factory(tmp_path):
    probes = []

    def start(kubeconfig: str, namespace: str) -> Probe:
        probe = Probe(kubeconfig, namespace, tmp_path / f"snapshot-{len(probes)}.json",
                      tmp_path / f"probe-{len(probes)}.log")
        probes.append(probe)
        return probe

    yield start
    for probe in probes:
        if probe.process.poll() is None:
            probe.stop()


def test_watch_survives_api_server_restart_without_missing_a_change(
    kubectl: Kubectl, namespace: str, probe_factory
):
    create_configmaps(kubectl, namespace, [f"cm-{i}" for i in range(5)])
    probe = probe_factory(kubectl.kubeconfig, namespace)
    wait_until("the informer to sync",
               lambda: probe.state()["objects"] == server_view(kubectl, namespace), timeout=60)

    restart(kubectl.kubeconfig, "kube-apiserver")
    # Changes right after the restart, while the informer is reconnecting.
    kubectl.run("patch", "configmap", "cm-0", "-n", namespace, "--type=merge",
                "-p", '{"data":{"v":"1"}}')
    kubectl.run("delete", "configmap", "cm-1", "-n", namespace)
    create_configmaps(kubectl, namespace, ["cm-new"])

    assert f"{namespace}/cm-1" not in server_view(kubectl, namespace)
    # Compared with a fresh list each time: the controller manager may itself
    # touch the namespace (kube-root-ca.crt) after the restart.
    converge(probe, kubectl, namespace, "the informer to see every change made across the restart")
    probe.stop()


def test_partition_past_compaction_relists_and_converges(
    kubectl: Kubectl, namespace: str, probe_factory, tmp_path
):
    proxy = FaultProxy(ports(kubectl.kubeconfig)["apiserver"])
    try:
        # A kubeconfig that reaches the API server only through the proxy.
        config = json.loads(kubectl.run("config", "view", "--raw", "-o", "json").stdout)
        config["clusters"][0]["cluster"]["server"] = f"https://127.0.0.1:{proxy.port}"
        proxied = tmp_path / "proxied.kubeconfig"
        proxied.write_text(json.dumps(config))

        create_configmaps(kubectl, namespace, ["keep", "change", "vanish"])
        probe = probe_factory(str(proxied), namespace)
        wait_until("the informer to sync",
                   lambda: probe.state()["objects"] == server_view(kubectl, namespace),
                   timeout=60)
        # The probe counts a list after its handlers ran (see below).
        lists_before = wait_until("the first list counted", lambda: probe.state()["lists"],
                                  timeout=10)

        proxy.partition()
        kubectl.run("patch", "configmap", "change", "-n", namespace, "--type=merge",
                    "-p", '{"data":{"v":"1"}}')
        kubectl.run("delete", "configmap", "vanish", "-n", namespace)
        create_configmaps(kubectl, namespace, ["appeared"])
        # Compact etcd up to now and defragment: the old revisions are gone...
        revision = int(etcd_call(kubectl.kubeconfig, "/v3/kv/range",
                                 {"key": base64.b64encode(b"/").decode()})["header"]["revision"])
        etcd_call(kubectl.kubeconfig, "/v3/kv/compaction",
                  {"revision": revision, "physical": True})
        etcd_call(kubectl.kubeconfig, "/v3/maintenance/defragment", {})
        # ...and a restarted API server's watch cache starts after them too.
        restart(kubectl.kubeconfig, "kube-apiserver")

        proxy.heal()
        converge(probe, kubectl, namespace, "the informer to converge to the server's list")
        # The probe counts a list once its handlers have run, and the snapshot
        # those handlers wrote may be read before the count is in a snapshot.
        wait_until("the informer to have relisted",
                   lambda: probe.state()["lists"] > lists_before, timeout=10)
        probe.stop()
    finally:
        proxy.close()
