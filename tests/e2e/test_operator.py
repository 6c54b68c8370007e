"""The relops process on a real cluster: steady state causes no writes (as
the API server's audit log records them), also across resyncs; leader election lets exactly one of
two replicas reconcile and hands over on kill -9 and on SIGTERM."""

from __future__ import annotations

import json
import signal
import textwrap
import time

import pytest

from fairness_support import ratio_slo
from kube import Kubectl, wait_until
from relops_process import Operator, wait_for, writes_by

LEASE = "relops-leader.relops.dev"


def rotation(name: str, namespace: str, turn: str = "1w") -> str:
    return textwrap.dedent(
        f"""\
        apiVersion: relops.dev/v1alpha1
        kind: OnCallRotation
        metadata: {{name: {name}, namespace: {namespace}}}
        spec:
          timeZone: Europe/Berlin
          participants: [{{name: ana}}, {{name: ben}}]
          layers:
          - name: primary
            members: [ana, ben]
            start: "2026-01-05T09:00:00"
            turnLength: {turn}
        """
    )


def ready(kubectl: Kubectl, name: str, namespace: str, kind: str = "oncallrotation") -> bool:
    obj = kubectl.get(kind, name, namespace)
    status = obj.get("status", {})
    conditions = {c["type"]: c["status"] for c in status.get("conditions", [])}
    return (status.get("observedGeneration") == obj["metadata"]["generation"]
            and conditions.get("Ready") == "True")


# Every 4 s every object is reconciled again (--sync-period), as every 10 h by default: a
# reconcile that finds nothing to change must write nothing, neither status nor rules.
SYNC_SECONDS = 4


def test_steady_state_causes_no_writes(kubectl: Kubectl, namespace: str, crds, operators):
    op = operators("--watch-namespace", namespace, "--rule-output=configmap",
                   "--sync-period", f"{SYNC_SECONDS}s")
    kubectl.apply(rotation("steady", namespace))
    kubectl.apply(json.dumps(ratio_slo(namespace, "steady-slo")))
    wait_until("the rotation to be Ready", lambda: ready(kubectl, "steady", namespace))
    wait_until("the SLO to be Ready",
               lambda: ready(kubectl, "steady-slo", namespace, "servicelevelobjective"))
    wait_for("relops to be ready", op.ready)
    time.sleep(3)  # let the status write's own watch event come back and settle

    before = writes_by(kubectl.kubeconfig, "relops", namespace)
    assert before, "the audit log shows no write by relops at all: the count is not measuring"
    reconciles = op.metric("controller_runtime_reconcile_total")
    time.sleep(5 * SYNC_SECONDS)
    after = writes_by(kubectl.kubeconfig, "relops", namespace)
    assert len(after) == len(before), [
        (e["verb"], e["requestURI"]) for e in after[len(before):]]
    # The resyncs happened: both objects were reconciled again, several times.
    assert op.log().count('"msg":"resync"') >= 3, op.log()[-3000:]
    assert op.metric("controller_runtime_reconcile_total") >= reconciles + 2 * 3

    # A spec change is one status write, then quiet again.
    kubectl.run("patch", "oncallrotation", "steady", "-n", namespace, "--type=merge",
                "-p", '{"spec":{"layers":[{"name":"primary","members":["ben","ana"],'
                      '"start":"2026-01-05T09:00:00","turnLength":"1w"}]}}')
    wait_until("the change to be observed", lambda: ready(kubectl, "steady", namespace))
    time.sleep(3)
    changed = writes_by(kubectl.kubeconfig, "relops", namespace)
    assert len(changed) > len(after)
    assert {e["objectRef"].get("subresource") for e in changed[len(after):]} <= {"status", None}
    assert op.alive()
    assert op.stop() == 0


def leader_of(ops: list[Operator]) -> Operator | None:
    leaders = [op for op in ops if op.alive() and op.leading()]
    assert len(leaders) <= 1, "two replicas lead at once"
    return leaders[0] if leaders else None


def lease_holder(kubectl: Kubectl, namespace: str) -> str:
    return kubectl.get("lease", LEASE, namespace)["spec"].get("holderIdentity", "")


# relops run's leader election defaults.
LEASE_SECONDS, RETRY_SECONDS = 15, 2


def election_flags(namespace: str) -> tuple[str, ...]:
    return ("--leader-elect", "--leader-election-namespace", namespace,
            "--watch-namespace", namespace)


def test_one_of_two_replicas_reconciles_and_kill_hands_over(
    kubectl: Kubectl, namespace: str, crds, operators
):
    ops = [operators(*election_flags(namespace)) for _ in range(2)]
    leader = wait_for("a leader", lambda: leader_of(ops), timeout=60)
    follower = next(op for op in ops if op is not leader)
    wait_for("both replicas ready (leading or standing by)",
             lambda: leader.ready() and follower.ready())

    for i in range(3):
        kubectl.apply(rotation(f"r{i}", namespace))
    for i in range(3):
        wait_until(f"r{i} Ready", lambda i=i: ready(kubectl, f"r{i}", namespace))
    assert leader.metric("controller_runtime_reconcile_total") >= 3
    assert follower.metric("controller_runtime_reconcile_total") == 0
    assert not follower.leading()
    holder = lease_holder(kubectl, namespace)

    killed_at = time.monotonic()
    leader.stop(signal.SIGKILL)
    kubectl.apply(rotation("after-kill", namespace))
    wait_for("the follower to take over", follower.leading, timeout=30)
    wait_until("the new leader to reconcile",
               lambda: ready(kubectl, "after-kill", namespace), timeout=30)
    handover = time.monotonic() - killed_at
    # The follower counts the lease from when it saw the last renewal, which
    # is up to 2.2 retry periods after the renewal itself; then it takes over,
    # starts its controllers and reconciles.
    assert handover < LEASE_SECONDS + 2.2 * RETRY_SECONDS + 6, \
        f"handover after kill -9 took {handover:.1f}s"
    assert lease_holder(kubectl, namespace) != holder
    print(f"handover after kill -9: {handover:.1f}s")


def test_sigterm_releases_the_lease_and_hands_over_at_once(
    kubectl: Kubectl, namespace: str, crds, operators
):
    ops = [operators(*election_flags(namespace)) for _ in range(2)]
    leader = wait_for("a leader", lambda: leader_of(ops), timeout=60)
    follower = next(op for op in ops if op is not leader)
    wait_for("the follower to stand by", follower.ready)

    stopped_at = time.monotonic()
    assert leader.stop(signal.SIGTERM) == 0
    released = time.monotonic() - stopped_at
    wait_for("the follower to take over", follower.leading, timeout=20)
    handover = time.monotonic() - stopped_at
    # Without the release the follower would wait out the 15 s lease; with
    # it, the follower takes over at its next attempt (within 2.2 retry
    # periods) after the leader's shutdown.
    assert handover < 12, f"handover after SIGTERM took {handover:.1f}s"
    print(f"SIGTERM shutdown {released:.1f}s, handover {handover:.1f}s")
