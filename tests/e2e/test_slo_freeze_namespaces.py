"""Freeze bindings are cluster-scoped, and relops may run once per team namespace
(--watch-namespace). A relops that does not watch a policy's namespace leaves that
policy's binding alone: it neither deletes it (the policy is not in its cache, so it
would look gone) nor fights the relops that does watch it."""

from __future__ import annotations

import random
import time

import chaos
from kube import Kubectl, settled, unique_name, wait_until
from relops_process import writes_by


def test_relops_leaves_the_bindings_of_namespaces_it_does_not_watch(
    kubectl: Kubectl, namespace: str, crds, operators
):
    other = unique_name("e2e")
    kubectl.run("create", "namespace", other)
    try:
        operators("--watch-namespace", namespace)
        bystander = operators("--watch-namespace", other)
        chaos.apply(kubectl, chaos.frozen_app(namespace))
        chaos.apply(kubectl, chaos.workload_slo(namespace))
        policy = chaos.policy(namespace, "tier1", random.Random(1))
        policy["spec"]["sloSelector"]["matchLabels"]["tier"] = "1"
        chaos.apply(kubectl, policy)
        binding = f"relops.dev-freeze.{namespace}.tier1"
        wait_until("the freeze binding", lambda: kubectl.exists(
            "validatingadmissionpolicybinding", binding), timeout=180, interval=1)
        wait_until("the bystander to be ready", bystander.ready, timeout=30)

        def binding_writes() -> list[dict]:
            return [e for e in writes_by(kubectl.kubeconfig, "relops")
                    if e["objectRef"].get("name") == binding]

        # The watching relops may apply the binding once more while its cache
        # catches up with its own first apply: count from when its writes settle.
        before = settled("the watching relops's binding writes", binding_writes, quiet=2)
        time.sleep(10)
        after = binding_writes()
        assert kubectl.exists("validatingadmissionpolicybinding", binding)
        assert after == before, [(e["verb"], e["stageTimestamp"]) for e in after[len(before):]]
        assert not [e for e in after if e["verb"] == "delete"]
    finally:
        kubectl.run("delete", "errorbudgetpolicies", "--all", "-n", namespace, "--wait=false")
        wait_until("the binding to go with its policy", lambda: not kubectl.exists(
            "validatingadmissionpolicybinding", f"relops.dev-freeze.{namespace}.tier1"),
            timeout=60)
        kubectl.run("delete", "namespace", other, "--wait=false", check=False)
