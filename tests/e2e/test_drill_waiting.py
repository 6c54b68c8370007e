"""Waiting drill runs back off (issue 14, "Fairness"): twenty failover runs waiting on a standby
that never becomes ready keep relops's request rate under its client's limit, and the leader
keeps its lease throughout.

A waiting run is woken by watch events of the Deployments it waits on; what it still polls backs
off from 1 s to 30 s. Before, each run polled every second with fresh reads of its target and
standby: twenty runs alone were ~40 requests a second against the client's 50 qps.
"""

from __future__ import annotations

import datetime as dt
import json
import time

from kube import Kubectl, wait_until

RUNS = 20
CLIENT_QPS = 50  # the bound held here: the former --kube-api-qps default (now no client limit)


def deployment(namespace: str, name: str, *, opt_in: bool = False,
               unschedulable: bool = False) -> dict:
    spec: dict = {"containers": [{"name": "app", "image": "busybox"}]}
    if unschedulable:
        spec["nodeSelector"] = {"relops.dev/no-such-node": "x"}  # never ready
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": namespace,
                         "annotations": {"relops.dev/drill-allowed": "true"} if opt_in else {}},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}}, "spec": spec}}}


def failover_drill(namespace: str, name: str, target: str) -> dict:
    return {"apiVersion": "relops.dev/v1alpha1", "kind": "DRDrill",
            "metadata": {"name": name, "namespace": namespace,
                         "annotations": {"relops.dev/run-now": "wait-1"}},
            "spec": {"schedule": "0 0 1 1 *", "runTimeout": "1h",
                     "failover": {"target": {"kind": "Deployment", "name": target},
                                  "standby": {"kind": "Deployment", "name": "standby"}}}}


def apply_all(kubectl: Kubectl, docs: list[dict]) -> None:
    kubectl.apply(json.dumps({"apiVersion": "v1", "kind": "List", "items": docs}))


def test_twenty_waiting_failover_runs_stay_under_the_client_limit(
        kubectl: Kubectl, namespace: str, crds, operators):
    apply_all(kubectl, [deployment(namespace, "standby", unschedulable=True)] +
              [deployment(namespace, f"primary-{i}", opt_in=True) for i in range(RUNS)])

    def ready_primaries() -> bool:
        items = kubectl.get("deployments", namespace=namespace)["items"]
        return sum(1 for d in items if d["metadata"]["name"].startswith("primary-")
                   and d.get("status", {}).get("readyReplicas") == 1) == RUNS
    wait_until("the primaries to be ready", ready_primaries, timeout=120)

    op = operators("--watch-namespace", namespace, "--leader-elect",
                   "--leader-election-namespace", namespace)
    wait_until("relops to lead", op.leading, timeout=60)
    apply_all(kubectl, [failover_drill(namespace, f"drill-{i}", f"primary-{i}")
                        for i in range(RUNS)])

    def waiting() -> bool:
        runs = kubectl.get("drdrillruns", namespace=namespace)["items"]
        return sum(1 for r in runs if r.get("status", {}).get("phase") == "Running" and
                   "waiting for Deployment standby" in r["status"].get("message", "")) == RUNS
    wait_until(f"{RUNS} runs waiting on the standby", waiting, timeout=120)

    # A minute of waiting, sampled every 5 s: the rate and the lease.
    window = 60.0
    start_requests, start = op.metric("rest_client_requests_total"), time.monotonic()
    peak = 0.0
    last_requests, last = start_requests, start
    while time.monotonic() - start < window:
        time.sleep(5)
        assert op.alive(), op.log()[-4000:]
        assert op.leading(), "relops lost its lease:\n" + op.log()[-4000:]
        requests, now = op.metric("rest_client_requests_total"), time.monotonic()
        peak = max(peak, (requests - last_requests) / (now - last))
        last_requests, last = requests, now
    rate = (last_requests - start_requests) / (last - start)
    print(f"{RUNS} waiting failover runs: {rate:.2f} requests/s over {last - start:.0f} s "
          f"(peak 5 s window {peak:.2f}/s; client limit {CLIENT_QPS}/s)")
    assert rate < CLIENT_QPS / 5, rate  # well under the limit, not merely under it
    assert peak < CLIENT_QPS, peak
    log = op.log()
    assert "stop_leading" not in log, log[-4000:]
    # Still waiting, none ended or errored.
    assert waiting()

    # A watch event wakes the waiting runs at once: the standby becomes ready and every run
    # records its recovery within a second or two of that, not at its next poll (up to 30 s).
    kubectl.run("patch", "deployment", "standby", "-n", namespace, "--type=json", "-p",
                '[{"op":"remove","path":"/spec/template/spec/nodeSelector"}]')

    def recovered() -> list[dict] | None:
        runs = kubectl.get("drdrillruns", namespace=namespace)["items"]
        done = [r for r in runs if r.get("status", {}).get("recoveryTime")]
        return done if len(done) == RUNS else None
    runs = wait_until("every run to see the standby ready", recovered, timeout=120)
    [available] = [c for c in kubectl.get("deployment", "standby", namespace)["status"][
        "conditions"] if c["type"] == "Available"]
    assert available["status"] == "True", available
    ready_at = parse_time(available["lastTransitionTime"])
    lag = [(parse_time(r["status"]["recoveryTime"]) - ready_at).total_seconds() for r in runs]
    print(f"runs recorded the recovery {min(lag):.0f}..{max(lag):.0f} s after the standby "
          "became Available")
    assert max(lag) <= 3, lag
    # Every run restores its primary and lifts its cleanup finalizer before relops stops, so the
    # namespace (and, for the tests that reinstall them, the CRDs) can be deleted afterwards.
    wait_until("every run to finish its cleanup", lambda: not [
        r for r in kubectl.get("drdrillruns", namespace=namespace)["items"]
        if r["metadata"].get("finalizers")], timeout=120)


def parse_time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
