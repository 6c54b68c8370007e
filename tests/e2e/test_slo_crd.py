"""Admission of ServiceLevelObjective and ErrorBudgetPolicy by a real kube-apiserver.

The CRDs in crds/ are applied with `kubectl apply --server-side`; every example in
crds/examples/ must be accepted, the schema defaults must show in the stored object, and
every CEL rule must reject what it is there for with the message kubectl prints (run
pytest with -s to see each message).
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import yaml

from kube import Kubectl, KubectlError, wait_until

CRDS = Path(__file__).resolve().parent.parent.parent / "crds"
SLO_CRD = CRDS / "relops.dev_servicelevelobjectives.yaml"
POLICY_CRD = CRDS / "relops.dev_errorbudgetpolicies.yaml"
# The PrometheusRule CRD comes from the Prometheus Operator's own Go module at test time
# (DESIGN.md: third-party CRDs are not copied into the repo).
PROMETHEUS_OPERATOR_MODULE = "github.com/prometheus-operator/prometheus-operator@v0.85.0"
PROMETHEUS_RULE_CRD = "example/prometheus-operator-crd/monitoring.coreos.com_prometheusrules.yaml"
EXAMPLES = sorted(
    [*CRDS.glob("examples/slo-*.yaml"), *CRDS.glob("examples/errorbudgetpolicy-*.yaml")]
)


@contextlib.contextmanager
def prometheus_rule_crd(kubectl: Kubectl) -> Iterator[None]:
    """The Prometheus Operator's PrometheusRule CRD, installed and in discovery for the
    block; removed after it, and waited for, unless it was there before."""
    module = json.loads(subprocess.run(
        ["go", "mod", "download", "-json", PROMETHEUS_OPERATOR_MODULE],
        check=True, capture_output=True, text=True, timeout=600,
    ).stdout)
    name = "crd/prometheusrules.monitoring.coreos.com"
    # One that an earlier block removed may still be terminating.
    found = kubectl.run("get", name, "--ignore-not-found", "-o", "json").stdout.strip()
    if found and json.loads(found)["metadata"].get("deletionTimestamp"):
        kubectl.run("wait", "--for=delete", "--timeout=120s", name, timeout=130)
    installed_here = not kubectl.exists("crd", "prometheusrules.monitoring.coreos.com")
    kubectl.run("apply", "--server-side", "-f", str(Path(module["Dir"]) / PROMETHEUS_RULE_CRD))
    try:
        kubectl.run("wait", "--for=condition=Established", "--timeout=60s", name, timeout=70)
        # Discovery catches up with a new CRD a moment after it is Established.
        wait_until(
            "PrometheusRule in discovery",
            lambda: "prometheusrules" in kubectl.run(
                "api-resources", "--api-group=monitoring.coreos.com").stdout,
            timeout=30,
        )
        yield
    finally:
        if installed_here:
            kubectl.run("delete", name, "--wait=true", "--timeout=120s", check=False,
                        timeout=130)


@pytest.fixture(scope="module", autouse=True)
def crds(kubectl: Kubectl) -> None:
    kubectl.run("apply", "--server-side", "-f", str(SLO_CRD), "-f", str(POLICY_CRD))
    kubectl.run(
        "wait", "--for=condition=Established", "--timeout=60s",
        "crd/servicelevelobjectives.relops.dev", "crd/errorbudgetpolicies.relops.dev",
        timeout=70,
    )
    # Discovery catches up with a new CRD a moment after it is Established.
    wait_until(
        "the relops kinds in discovery",
        lambda: "rslo" in kubectl.run("api-resources", "--api-group=relops.dev").stdout,
        timeout=30,
    )


def apply(kubectl: Kubectl, manifest: dict[str, Any]) -> str:
    return kubectl.run(
        "apply", "--server-side", "-f", "-", input=json.dumps(manifest)
    ).stdout


def slo(namespace: str, name: str = "checkout") -> dict[str, Any]:
    return {
        "apiVersion": "relops.dev/v1alpha1",
        "kind": "ServiceLevelObjective",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "service": "checkout",
            "objective": "99.9",
            "indicator": {
                "ratio": {
                    "errors": 'http_requests_total{job="checkout",code=~"5.."}',
                    "total": 'http_requests_total{job="checkout"}',
                }
            },
        },
    }


def policy(namespace: str, name: str = "tier1") -> dict[str, Any]:
    return {
        "apiVersion": "relops.dev/v1alpha1",
        "kind": "ErrorBudgetPolicy",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "sloSelector": {"matchLabels": {"tier": "1"}},
            "rules": [{"name": "exhausted", "budgetRemainingBelow": "0", "freeze": True}],
        },
    }


def test_every_example_is_accepted(kubectl: Kubectl, namespace: str):
    assert len(EXAMPLES) >= 5, EXAMPLES
    for example in EXAMPLES:
        manifest = example.read_text().replace("namespace: shop", f"namespace: {namespace}")
        out = kubectl.run("apply", "--server-side", "-f", "-", input=manifest).stdout
        assert "serverside-applied" in out, (example.name, out)
    listed = kubectl.run("get", "relops", "-n", namespace, "-o", "name").stdout.split()
    assert len(listed) == len(EXAMPLES), listed


def test_relops_generate_reads_every_example():
    relops = os.environ.get("RELOPS_BINARY")
    if not relops:
        pytest.skip("RELOPS_BINARY is not set (ctest sets it)")
    result = subprocess.run(
        [relops, "generate", "-f", str(CRDS / "examples"), "--format", "rulefile"],
        capture_output=True, text=True, timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("groups:"), result.stdout[:200]


def test_generated_prometheusrules_pass_the_prometheusrule_crd(kubectl: Kubectl, namespace: str):
    relops = os.environ.get("RELOPS_BINARY")
    if not relops:
        pytest.skip("RELOPS_BINARY is not set (ctest sets it)")
    with prometheus_rule_crd(kubectl):
        sources = "\n---\n".join(
            example.read_text().replace("namespace: shop", f"namespace: {namespace}")
            for example in EXAMPLES
        )
        generated = subprocess.run(
            [relops, "generate", "-f", "-"], input=sources, capture_output=True, text=True,
            timeout=30, check=True,
        ).stdout
        out = kubectl.run("apply", "--server-side", "-f", "-", input=generated).stdout
        assert out.count("serverside-applied") == 4, out  # a workload SLO generates none
        rule = kubectl.get("prometheusrule", "relops-slo-checkout-availability", namespace)
        assert rule["spec"]["groups"][0]["name"] == f"relops-slo-{namespace}-checkout-availability"


def test_schema_defaults_are_stored(kubectl: Kubectl, namespace: str):
    apply(kubectl, slo(namespace))
    spec = kubectl.get("servicelevelobjective", "checkout", namespace)["spec"]
    assert spec["window"] == "28d"
    assert spec["budgetingMethod"] == "Occurrences"
    assert spec["alerting"]["enabled"] is True
    assert spec["alerting"]["absentFor"] == "10m"
    assert [
        (w["name"], w["budgetPercent"], w["longWindow"], w["shortWindow"])
        for w in spec["alerting"]["burnRateWindows"]
    ] == [
        ("page-fast", "2", "1h", "5m"),
        ("page-slow", "5", "6h", "30m"),
        ("ticket-fast", "10", "1d", "2h"),
        ("ticket-slow", "10", "3d", "6h"),
    ]
    apply(kubectl, policy(namespace))
    rule = kubectl.get("errorbudgetpolicy", "tier1", namespace)["spec"]["rules"][0]
    assert rule["hysteresis"] == "5" and rule["severity"] == "Warning"


def test_status_subresource_and_printer_columns(kubectl: Kubectl, namespace: str):
    apply(kubectl, slo(namespace))
    status = {
        "status": {
            "observedGeneration": 1,
            "conditions": [{
                "type": "Ready", "status": "True", "observedGeneration": 1,
                "lastTransitionTime": "2026-01-01T00:00:00Z", "reason": "Evaluated",
                "message": "SLI evaluated",
            }],
            "sli": "99.953",
            "errorBudget": {"remaining": "53.1", "consumed": "46.9"},
            "burnRates": [{"window": "5m", "rate": "0.52"}, {"window": "1h", "rate": "0.47"}],
            "evaluationTime": "2026-01-01T00:00:00Z",
        }
    }
    kubectl.run(
        "patch", "servicelevelobjective", "checkout", "-n", namespace, "--subresource=status",
        "--type=merge", "-p", json.dumps(status),
    )
    table = kubectl.run("get", "rslo", "-n", namespace).stdout.splitlines()
    assert table[0].split() == ["NAME", "OBJECTIVE", "WINDOW", "SLI", "BUDGET", "READY", "AGE"]
    assert table[1].split()[:6] == ["checkout", "99.9", "28d", "99.953", "53.1", "True"]
    # A spec change through the main resource cannot write status.
    apply(kubectl, {**slo(namespace), "status": {"sli": "1"}})
    assert kubectl.get("rslo", "checkout", namespace)["status"]["sli"] == "99.953"

    apply(kubectl, policy(namespace))
    kubectl.run(
        "patch", "errorbudgetpolicy", "tier1", "-n", namespace, "--subresource=status",
        "--type=merge", "-p", json.dumps({"status": {
            "frozenCount": 1,
            "activeFreezes": [{"slo": "checkout", "rule": "exhausted",
                               "since": "2026-01-01T00:00:00Z", "budgetRemaining": "-3.2",
                               "workloads": ["Deployment/checkout"]}],
        }}),
    )
    table = kubectl.run("get", "ebp", "-n", namespace).stdout.splitlines()
    assert table[0].split() == ["NAME", "FROZEN", "READY", "AGE"]
    assert table[1].split()[:2] == ["tier1", "1"]


Mutation = Callable[[dict[str, Any]], None]


def spec_set(**fields: Any) -> Mutation:
    def mutate(manifest: dict[str, Any]) -> None:
        manifest["spec"].update(fields)
    return mutate


def indicator(value: dict[str, Any]) -> Mutation:
    return spec_set(indicator=value)


def ratio(**fields: Any) -> Mutation:
    return indicator({"ratio": {"errors": "e_total", "total": "t_total", **fields}})


def latency(**fields: Any) -> Mutation:
    return indicator({"latency": {
        "bucket": "d_seconds_bucket", "le": "0.5", "total": "d_seconds_count", **fields}})


def alerting(**fields: Any) -> Mutation:
    return spec_set(alerting=fields)


def burn_window(**fields: Any) -> Mutation:
    row = {"name": "w", "severity": "critical", "budgetPercent": "2", "longWindow": "1h",
           "shortWindow": "5m", **fields}
    return alerting(burnRateWindows=[row])


# (id, mutation, the field kubectl names, what kubectl must say). At least one case per CEL
# rule of the SLO CRD: test_every_cel_rule_has_a_case walks the CRD to make sure.
SLO_CASES = [
    ("objective-100", spec_set(objective="100"), "spec.objective",
     "objective must be a percentage strictly between 0 and 100"),
    ("objective-0", spec_set(objective="0"), "spec.objective",
     "objective must be a percentage strictly between 0 and 100"),
    ("objective-7-decimals", spec_set(objective="99.9999999"), "spec.objective",
     "with at most 6 decimals"),
    ("objective-words", spec_set(objective="high"), "spec.objective",
     "objective must be a percentage strictly between 0 and 100"),
    ("window-91d", spec_set(window="91d"), "spec.window", "between 1h and 90d"),
    ("window-30m", spec_set(window="30m"), "spec.window", "between 1h and 90d"),
    ("window-compound", spec_set(window="1d12h"), "spec.window", "a number and one unit"),
    ("window-year", spec_set(window="year"), "spec.window", "or a calendar period"),
    ("time-zone-with-a-rolling-window", spec_set(window="28d", timeZone="UTC"), "spec.timeZone",
     "timeZone applies only to calendar windows"),
    ("time-zone-not-iana", spec_set(window="month", timeZone="Berlin time"), "spec.timeZone",
     "timeZone must be an IANA time zone name"),
    ("timeslices-with-ratio", spec_set(budgetingMethod="Timeslices"), "spec.budgetingMethod",
     "budgetingMethod Timeslices is supported only with the workload indicator"),
    ("no-indicator", indicator({}), "spec.indicator",
     "exactly one indicator of ratio, latency or workload must be set"),
    ("two-indicators", indicator({"ratio": {"errors": "e", "total": "t"},
                                  "workload": {"kind": "Deployment", "name": "web"}}),
     "spec.indicator", "exactly one indicator of ratio, latency or workload must be set"),
    ("errors-and-good", ratio(good="g_total"), "spec.indicator.ratio",
     "ratio needs exactly one of errors or good next to total"),
    ("neither-errors-nor-good", indicator({"ratio": {"total": "t_total"}}), "spec.indicator.ratio",
     "ratio needs exactly one of errors or good next to total"),
    ("selector-function", ratio(errors="rate(e_total[5m])"), "spec.indicator.ratio.errors",
     "must be a Prometheus series selector"),
    ("good-selector-range", indicator({"ratio": {"good": "g_total[5m]", "total": "t_total"}}),
     "spec.indicator.ratio.good", "must be a Prometheus series selector"),
    ("selector-unquoted", ratio(total="t_total{job=api}"), "spec.indicator.ratio.total",
     "must be a Prometheus series selector"),
    ("grouping-reserved", ratio(grouping=["slo"]), "spec.indicator.ratio.grouping[0]",
     "grouping labels must be Prometheus label names other than slo"),
    ("grouping-not-a-label", ratio(grouping=["a-b"]), "spec.indicator.ratio.grouping[0]",
     "grouping labels must be Prometheus label names"),
    ("bucket-not-bucket", latency(bucket="d_seconds_count"), "spec.indicator.latency.bucket",
     "bucket must be a selector of a histogram's _bucket series"),
    ("bucket-with-le", latency(bucket='d_seconds_bucket{le="1"}'), "spec.indicator.latency.bucket",
     "without an le matcher"),
    ("le-not-a-number", latency(le="fast"), "spec.indicator.latency.le",
     "le must be a non-negative number"),
    ("latency-total-sum", latency(total="sum(d_seconds_count)"), "spec.indicator.latency.total",
     "must be a Prometheus series selector"),
    ("latency-grouping-le", latency(grouping=["route", "le"]),
     "spec.indicator.latency.grouping[1]",
     "grouping labels must be Prometheus label names other than slo"),
    ("absent-for-days", alerting(absentFor="1d"), "spec.alerting.absentFor",
     "absentFor must be empty or a duration in minutes or hours"),
    ("runbook-not-http", alerting(runbookURL="ftp://runbooks"), "spec.alerting.runbookURL",
     "runbookURL must be an http or https URL"),
    ("alert-label-reserved", alerting(labels={"severity": "page"}), "spec.alerting.labels",
     "other than the ones relops sets"),
    ("short-not-shorter", burn_window(shortWindow="2h"), "spec.alerting.burnRateWindows[0]",
     "shortWindow must be shorter than longWindow"),
    ("budget-percent-0", burn_window(budgetPercent="0"),
     "spec.alerting.burnRateWindows[0].budgetPercent",
     "budgetPercent must be a percentage in (0, 100]"),
    ("alert-window-too-long", burn_window(longWindow="13w"),
     "spec.alerting.burnRateWindows[0].longWindow",
     "alert windows must be durations such as 5m, 6h or 3d, from 1m to 90d"),
    ("short-window-seconds", burn_window(shortWindow="30s"),
     "spec.alerting.burnRateWindows[0].shortWindow",
     "alert windows must be durations such as 5m, 6h or 3d, from 1m to 90d"),
    ("for-in-days", burn_window(**{"for": "1d"}), "spec.alerting.burnRateWindows[0].for",
     "for must be a duration such as 2m"),
]


def assert_rejected(stderr: str, field: str, message: str) -> None:
    print(f"\nkubectl: {stderr.strip()}")
    assert "is invalid" in stderr and f"{field}: Invalid value" in stderr, stderr
    assert message in stderr, stderr


@pytest.mark.parametrize("mutate,field,message", [case[1:] for case in SLO_CASES],
                         ids=[case[0] for case in SLO_CASES])
def test_slo_cel_rule_rejects(kubectl: Kubectl, namespace: str, mutate: Mutation, field: str,
                              message: str):
    manifest = copy.deepcopy(slo(namespace, "rejected"))
    mutate(manifest)
    with pytest.raises(KubectlError) as rejected:
        apply(kubectl, manifest)
    assert_rejected(rejected.value.result.stderr, field, message)
    assert not kubectl.exists("servicelevelobjective", "rejected", namespace)

    # `relops generate` validates offline what the API server validates online.
    relops = os.environ.get("RELOPS_BINARY")
    if relops:
        offline = subprocess.run(
            [relops, "generate", "-f", "-"], input=json.dumps(manifest),
            capture_output=True, text=True, timeout=30,
        )
        print(f"relops generate: {offline.stderr.strip()}")
        assert offline.returncode == 1 and "spec." in offline.stderr, offline.stderr


def rules(*items: dict[str, Any]) -> Mutation:
    return spec_set(rules=list(items))


POLICY_CASES = [
    ("match-labels-bad-key", spec_set(sloSelector={"matchLabels": {"bad key!": "x"}}),
     "spec.sloSelector.matchLabels", "matchLabels must map label keys to label values"),
    ("match-expression-in-without-values",
     spec_set(sloSelector={"matchExpressions": [{"key": "tier", "operator": "In"}]}),
     "spec.sloSelector.matchExpressions[0]",
     "operators In and NotIn need a non-empty values list"),
    ("exists-with-values",
     spec_set(sloSelector={"matchExpressions": [{"key": "tier", "operator": "Exists", "values": ["1"]}]}),
     "spec.sloSelector.matchExpressions[0]", "Exists and DoesNotExist take no values"),
    ("empty-workload-selector", spec_set(workloadSelector={}), "spec.workloadSelector",
     "workloadSelector needs at least one matchLabels entry"),
    ("workload-selector-bad-value",
     spec_set(workloadSelector={"matchLabels": {"app": "web shop"}}),
     "spec.workloadSelector.matchLabels", "matchLabels must map label keys to label values"),
    ("rule-without-threshold", rules({"name": "a"}), "spec.rules[0]",
     "a rule needs exactly one of budgetRemainingBelow or burnRateAbove"),
    ("rule-with-both-thresholds",
     rules({"name": "a", "budgetRemainingBelow": "0", "burnRateAbove": "2", "burnRateWindow": "1h"}),
     "spec.rules[0]", "a rule needs exactly one of budgetRemainingBelow or burnRateAbove"),
    ("burn-rate-without-window", rules({"name": "a", "burnRateAbove": "2"}), "spec.rules[0]",
     "burnRateAbove needs burnRateWindow"),
    ("window-without-burn-rate",
     rules({"name": "a", "budgetRemainingBelow": "0", "burnRateWindow": "1h"}), "spec.rules[0]",
     "burnRateAbove needs burnRateWindow (and burnRateWindow needs burnRateAbove)"),
    ("freeze-on-burn-rate",
     rules({"name": "a", "burnRateAbove": "2", "burnRateWindow": "1h", "freeze": True}),
     "spec.rules[0]", "freeze needs budgetRemainingBelow"),
    ("threshold-100", rules({"name": "a", "budgetRemainingBelow": "100"}),
     "spec.rules[0].budgetRemainingBelow",
     "budgetRemainingBelow must be a percentage of the budget from -100 to below 100"),
    ("threshold-below-minus-100", rules({"name": "a", "budgetRemainingBelow": "-101"}),
     "spec.rules[0].budgetRemainingBelow",
     "budgetRemainingBelow must be a percentage of the budget from -100 to below 100"),
    ("hysteresis-60", rules({"name": "a", "budgetRemainingBelow": "0", "hysteresis": "60"}),
     "spec.rules[0].hysteresis", "hysteresis must be from 0 to 50 percentage points"),
    ("burn-rate-0", rules({"name": "a", "burnRateAbove": "0", "burnRateWindow": "1h"}),
     "spec.rules[0].burnRateAbove", "burnRateAbove must be a factor above 0 and at most 1000"),
    ("burn-rate-window-words", rules({"name": "a", "burnRateAbove": "2", "burnRateWindow": "1hr"}),
     "spec.rules[0].burnRateWindow", "burnRateWindow must be a duration such as 1h"),
    # The key is fixed: any other (one the tenant sets anyway) would be a way around a freeze.
    ("exempt-annotation-other-key",
     spec_set(exemptAnnotation="deployment.kubernetes.io/revision"), "spec.exemptAnnotation",
     "exemptAnnotation is fixed to relops.dev/freeze-exempt"),
]


@pytest.mark.parametrize("mutate,field,message", [case[1:] for case in POLICY_CASES],
                         ids=[case[0] for case in POLICY_CASES])
def test_policy_cel_rule_rejects(kubectl: Kubectl, namespace: str, mutate: Mutation, field: str,
                                 message: str):
    manifest = copy.deepcopy(policy(namespace, "rejected"))
    mutate(manifest)
    with pytest.raises(KubectlError) as rejected:
        apply(kubectl, manifest)
    assert_rejected(rejected.value.result.stderr, field, message)
    assert not kubectl.exists("errorbudgetpolicy", "rejected", namespace)


def cel_rules(crd: Path) -> list[tuple[str, str]]:
    """(field as kubectl names it, with [] for any list index; message) for every
    x-kubernetes-validations rule in the CRD's schema."""
    found: list[tuple[str, str]] = []

    def walk(node: dict[str, Any], path: str) -> None:
        for rule in node.get("x-kubernetes-validations") or []:
            found.append((path + rule.get("fieldPath", ""), " ".join(rule["message"].split())))
        for name, child in (node.get("properties") or {}).items():
            walk(child, f"{path}.{name}" if path else name)
        if isinstance(node.get("items"), dict):
            walk(node["items"], path + "[]")
        if isinstance(node.get("additionalProperties"), dict):
            walk(node["additionalProperties"], path + "[]")

    schema = yaml.safe_load(crd.read_text())["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    walk(schema, "")
    return found


@pytest.mark.parametrize("crd,cases", [(SLO_CRD, SLO_CASES), (POLICY_CRD, POLICY_CASES)],
                         ids=["slo", "policy"])
def test_every_cel_rule_has_a_case(crd: Path, cases: list):
    rules_found = cel_rules(crd)
    assert len(rules_found) >= 10, rules_found
    missing = [
        (field, message) for field, message in rules_found
        if not any(re.sub(r"\[\d+\]", "[]", case_field) == field and case_message in message
                   for _, _, case_field, case_message in cases)
    ]
    assert not missing, f"CEL rules of {crd.name} without a rejection case: {missing}"
