"""A workload SLO deleted and recreated takes its minutes back from Prometheus: relops exports
each ledger as relops_slo_workload_minutes, a real Prometheus scrapes relops, and the
recreated SLO's first status already carries the old bad minutes, so its budget stays spent
instead of reading no data.
"""

from __future__ import annotations

import json

from kube import Kubectl, wait_until
from prometheus import Prometheus
from slo_support import workload_status
from test_slo_history import frozen_slo, unavailable_deployment


def test_recreated_slo_takes_its_minutes_back_from_prometheus(
        kubectl: Kubectl, crds, namespace: str, operators, tmp_path):
    prometheus = Prometheus(tmp_path / "prometheus")
    op = operators("--watch-namespace", namespace, "--prometheus-url", prometheus.url)
    prometheus.scrape("relops", f"127.0.0.1:{op.metrics_port}", "2s")
    prometheus.start()
    try:
        kubectl.apply(unavailable_deployment(namespace))
        kubectl.apply(frozen_slo(namespace))
        series = (f'relops_slo_workload_minutes{{namespace="{namespace}",'
                  f'name="web-availability",state="bad"}}')

        def scraped_bad_minutes():
            samples = prometheus.query(series)
            return samples and float(samples[0]["value"][1]) >= 2 and samples

        wait_until("two bad minutes scraped", scraped_bad_minutes, timeout=240, interval=1)
        kubectl.run("-n", namespace, "delete", "servicelevelobjective", "web-availability",
                    "--wait=true")
        # What Prometheus holds once the old SLO is gone (its last scrape may have added one).
        kept = float(prometheus.query(f"last_over_time({series}[1h])")[0]["value"][1])
        kubectl.apply(frozen_slo(namespace))

        fresh = wait_until("the recreated SLO's first status", lambda: workload_status(
            kubectl, namespace, "web-availability"), timeout=30)
        print(f"\nPrometheus kept {kept:.0f} bad minutes; the recreated SLO's first status: "
              f"{json.dumps(fresh.get('workload'))}, errorBudget {fresh.get('errorBudget')}")
        assert fresh["workload"].get("badMinutes", 0) >= kept, fresh
        assert float(fresh["errorBudget"]["remaining"]) < 0, fresh
        assert "ledger rebuilt from Prometheus" in op.log(), op.log()[-3000:]
    finally:
        prometheus.stop()
    assert op.alive(), op.log()[-3000:]
