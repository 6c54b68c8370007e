"""A workload SLO whose workload does not exist: its minutes are bad time, and it is Stalled
with reason WorkloadNotFound. Apart from test_slo_workload.py so the two run in parallel.
"""

from __future__ import annotations

import json
import time

from kube import Kubectl, wait_until
from test_slo_workload import REFRESH, condition, observed_after, slo_status, workload_slo


def test_missing_workload_is_bad_time_and_a_condition(kubectl: Kubectl, crds, namespace: str,
                                                      operators):
    kubectl.apply(workload_slo(namespace, "ghost-up", "ghost"))
    op = operators("--slo-refresh-interval", REFRESH, "--watch-namespace", namespace)
    started = time.time()
    try:
        # The first status may show the minute relops began in before that
        # minute is counted: wait for a bad minute.
        status = wait_until("a bad minute accounted",
                            lambda: (s := observed_after(kubectl, namespace, "ghost-up", started)())
                            and s["workload"].get("badMinutes", 0) >= 1 and s, timeout=150)
    except AssertionError:
        print(json.dumps(slo_status(kubectl, namespace, "ghost-up"), indent=2))
        print(op.log()[-5000:])
        raise
    print(f"\n{json.dumps(status, indent=2)}")
    stalled = condition({"status": status}, "Stalled")
    assert stalled and stalled["status"] == "True", status
    assert stalled["reason"] == "WorkloadNotFound" and "ghost" in stalled["message"], stalled
    assert status["workload"]["lastObservedState"] == "Bad", status
    assert status["workload"]["badMinutes"] >= 1 and status["workload"]["goodMinutes"] == 0
