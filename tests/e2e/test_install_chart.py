"""The Helm chart rendered and checked without installing it: `helm lint` and `helm template`
with every toggle, the values schema, least-privilege RBAC, CRDs equal to crds/, every flag the
chart can pass known to `relops run`, deploy/ in step with the chart, and the pod admitted by a
namespace that enforces the restricted Pod Security Standard."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from install_support import CHART, CRDS, DEPLOY, RELOPS_RESOURCES, documents, find, helm
from kube import Kubectl, unique_name

# Every toggle the chart has, switched away from its default.
EVERY_TOGGLE: dict[str, Any] = {
    "crds": {"enabled": True, "keep": False},
    "fullnameOverride": "relops-all",
    "image": {"repository": "registry.example/relops", "tag": "9.9.9",
              "digest": "sha256:" + "ab" * 32, "pullPolicy": "Always"},
    "imagePullSecrets": [{"name": "pull"}],
    "replicaCount": 3,
    "leaderElection": {"leaseDuration": "20s", "renewDeadline": "15s", "retryPeriod": "3s"},
    "controller": {"watchNamespaces": ["team-a", "team-b"],
                   "workers": 4, "kubeApiQps": 50, "kubeApiBurst": 80, "logLevel": "debug",
                   "logFormat": "text", "extraArgs": ["--workers=5"]},
    "extraEnv": [{"name": "EXTRA", "value": "1"}],
    "metrics": {"port": 9080, "secure": True, "certSecret": "metrics-tls",
                "service": {"type": "ClusterIP", "port": 9443, "annotations": {"a": "b"}}},
    "calendars": {"enabled": True, "port": 9090, "keySecret": {"name": "feed-key"},
                  "certSecret": "feeds-tls", "service": {"type": "ClusterIP", "port": 443}},
    "healthProbe": {"port": 9081},
    "serviceAccount": {"name": "relops-sa", "annotations": {"owner": "sre"}},
    "rbac": {"aggregateClusterRoles": True},
    "podAnnotations": {"p": "q"},
    "podLabels": {"team": "sre"},
    "commonLabels": {"cost-center": "42"},
    "priorityClassName": "system-cluster-critical",
    "nodeSelector": {"kubernetes.io/os": "linux"},
    "tolerations": [{"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"}],
    "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": [
            {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]}]}]}}},
    "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
                                   "whenUnsatisfiable": "ScheduleAnyway"}],
    "podDisruptionBudget": {"enabled": True, "maxUnavailable": 1},
    "serviceMonitor": {"enabled": True, "interval": "15s", "scrapeTimeout": "5s",
                       "labels": {"release": "prometheus"},
                       "relabelings": [{"action": "labeldrop", "regex": "pod"}],
                       "metricRelabelings": [{"action": "drop", "regex": "go_.*",
                                              "sourceLabels": ["__name__"]}]},
    "networkPolicy": {"enabled": True, "calendarsFrom": [{"namespaceSelector": {}}]},
}


def render(tmp_path: Path, values: dict[str, Any] | None = None, *args: str) -> list[dict]:
    argv = ["template", "relops", str(CHART), "--namespace", "relops-system", *args]
    if values is not None:
        path = tmp_path / f"values-{len(list(tmp_path.glob('values-*')))}.yaml"
        path.write_text(yaml.safe_dump(values))
        argv += ["-f", str(path)]
    return documents(helm(*argv).stdout)


def test_lint_defaults_and_every_toggle(tmp_path: Path):
    values = tmp_path / "all.yaml"
    values.write_text(yaml.safe_dump(EVERY_TOGGLE))
    for extra in ([], ["-f", str(values)], ["--set", "crds.enabled=false,metrics.enabled=false"]):
        result = helm("lint", "--strict", str(CHART), *extra)
        assert "0 chart(s) failed" in result.stdout, result.stdout


def test_defaults_render_the_operator(tmp_path: Path):
    docs = render(tmp_path)
    kinds = sorted(d["kind"] for d in docs)
    assert kinds == sorted(
        ["CustomResourceDefinition"] * len(list(CRDS.glob("*.yaml"))) +
        # ClusterRoles: the operator's, view, edit, metrics-reader, freeze-exempt.
        ["ServiceAccount"] + ["ClusterRole"] * 5 +
        ["ClusterRoleBinding", "Role", "RoleBinding", "Service", "Deployment"] +
        # grafana.dashboards.enabled: one ConfigMap per dashboard (test_dashboards_chart.py).
        ["ConfigMap"] * len(list((CHART / "dashboards").glob("*.json"))))
    deployment = find(docs, "Deployment")
    spec = deployment["spec"]
    pod = spec["template"]["spec"]
    [container] = pod["containers"]
    assert spec["replicas"] == 1 and spec["strategy"] == {"type": "Recreate"}
    assert container["image"] == "relops:0.1.0"
    assert "--leader-elect" not in container["args"]
    # Metrics secure by default (relops's own default: no flag), calendar feeds off.
    assert not [a for a in container["args"] if a.startswith(("--metrics-secure", "--calendar"))]
    reader = find(docs, "ClusterRole", "relops-metrics-reader")
    assert reader["rules"] == [{"nonResourceURLs": ["/metrics"], "verbs": ["get"]}]
    operator_rules = find(docs, "ClusterRole", "relops")["rules"]
    for group, resource in [("authentication.k8s.io", "tokenreviews"),
                            ("authorization.k8s.io", "subjectaccessreviews")]:
        assert {"apiGroups": [group], "resources": [resource], "verbs": ["create"]} \
            in operator_rules
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "probes"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "probes"}
    # The restricted Pod Security Standard, field by field.
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    for crd in (d for d in docs if d["kind"] == "CustomResourceDefinition"):
        assert crd["metadata"]["annotations"] == {"helm.sh/resource-policy": "keep"}


def test_every_toggle(tmp_path: Path):
    docs = render(tmp_path, EVERY_TOGGLE)
    kinds = {d["kind"] for d in docs}
    assert {"PodDisruptionBudget", "ServiceMonitor", "NetworkPolicy"} <= kinds
    deployment = find(docs, "Deployment", "relops-all")
    pod = deployment["spec"]["template"]["spec"]
    [container] = pod["containers"]
    args = container["args"]
    assert deployment["spec"]["replicas"] == 3 and "strategy" not in deployment["spec"]
    assert container["image"] == "registry.example/relops@sha256:" + "ab" * 32
    for flag in ["--leader-elect", "--leader-election-id=relops-all-leader.relops.dev",
                 "--leader-elect-lease-duration=20s", "--leader-elect-renew-deadline=15s",
                 "--leader-elect-retry-period=3s", "--watch-namespace=team-a",
                 "--watch-namespace=team-b", "--calendar-bind-address=:9090",
                 "--calendar-key-file=/etc/relops/calendar-key/key",
                 "--calendar-cert-dir=/etc/relops/calendar-tls",
                 "--metrics-cert-dir=/etc/relops/metrics-tls", "--workers=4",
                 "--kube-api-qps=50", "--kube-api-burst=80", "--log-level=debug",
                 "--log-format=text", "--metrics-bind-address=:9080",
                 "--health-probe-bind-address=:9081"]:
        assert flag in args, (flag, args)
    assert args[-1] == "--workers=5"  # extraArgs last, so they win
    assert pod["serviceAccountName"] == "relops-sa"
    assert pod["priorityClassName"] == "system-cluster-critical"
    assert pod["nodeSelector"] == {"kubernetes.io/os": "linux"}
    assert pod["tolerations"] == EVERY_TOGGLE["tolerations"]
    assert pod["affinity"] == EVERY_TOGGLE["affinity"]
    [spread] = pod["topologySpreadConstraints"]
    assert spread["labelSelector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"]
    assert pod["imagePullSecrets"] == [{"name": "pull"}]
    assert {"name": "EXTRA", "value": "1"} in container["env"]
    assert deployment["spec"]["template"]["metadata"]["labels"]["team"] == "sre"
    assert all(d["metadata"]["labels"]["cost-center"] == "42" for d in docs)
    for crd in (d for d in docs if d["kind"] == "CustomResourceDefinition"):
        assert "helm.sh/resource-policy" not in crd["metadata"].get("annotations", {})
    lease_role = find(docs, "Role", "relops-all-leader-election")
    assert ["relops-all-leader.relops.dev"] in [r.get("resourceNames") for r in lease_role["rules"]]
    service = find(docs, "Service", "relops-all-metrics")
    assert service["spec"]["ports"][0]["port"] == 9443
    assert service["spec"]["ports"][0]["targetPort"] == "metrics"
    feeds = find(docs, "Service", "relops-all-calendars")
    assert feeds["spec"]["ports"][0] == {"name": "calendars", "port": 443,
                                         "targetPort": "calendars", "protocol": "TCP"}
    # The user's key Secret is mounted; the chart creates none of its own.
    assert {"name": "calendar-key", "secret": {"secretName": "feed-key",
            "items": [{"key": "key", "path": "key"}]}} in pod["volumes"]
    assert not [d for d in docs if d["kind"] == "Secret"]
    monitor = find(docs, "ServiceMonitor")
    assert monitor["metadata"]["labels"]["release"] == "prometheus"
    assert monitor["spec"]["endpoints"][0]["interval"] == "15s"
    # Scraped over HTTPS with the Prometheus ServiceAccount's token (--metrics-secure).
    assert monitor["spec"]["endpoints"][0]["scheme"] == "https"
    assert monitor["spec"]["endpoints"][0]["bearerTokenFile"].endswith("serviceaccount/token")
    assert monitor["spec"]["selector"]["matchLabels"] == service["spec"]["selector"]
    pdb = find(docs, "PodDisruptionBudget")
    assert pdb["spec"]["maxUnavailable"] == 1 and "minAvailable" not in pdb["spec"]
    policy = find(docs, "NetworkPolicy")
    ports = [p["port"] for rule in policy["spec"]["ingress"] for p in rule["ports"]]
    assert sorted(ports) == [9080, 9081, 9090]
    # The metrics port admits only Prometheus pods, never every pod.
    [metrics_rule] = [r for r in policy["spec"]["ingress"] if r["ports"][0]["port"] == 9080]
    assert metrics_rule["from"] == [{"namespaceSelector": {}, "podSelector": {
        "matchLabels": {"app.kubernetes.io/name": "prometheus"}}}]


# The SLO controller's Prometheus settings, and a volume to hold its token and CA bundle.
SLO_VALUES: dict[str, Any] = {
    "controller": {"prometheus": {"url": "https://prometheus.monitoring:9090",
                                  "bearerTokenFile": "/var/run/prometheus/token",
                                  "caFile": "/var/run/prometheus/ca.crt"},
                   "sloRefreshInterval": "2m", "ruleOutput": "prometheusrule",
                   "ruleLabels": {"role": "slo", "prometheus": "main"}},
    "extraVolumes": [{"name": "prometheus", "secret": {"secretName": "prometheus-client"}}],
    "extraVolumeMounts": [{"name": "prometheus", "mountPath": "/var/run/prometheus",
                           "readOnly": True}],
}


def test_slo_controller_values(tmp_path: Path):
    deployment = find(render(tmp_path, SLO_VALUES), "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    [container] = pod["containers"]
    for flag in ["--prometheus-url=https://prometheus.monitoring:9090",
                 "--prometheus-bearer-token-file=/var/run/prometheus/token",
                 "--prometheus-ca-file=/var/run/prometheus/ca.crt",
                 "--slo-refresh-interval=2m", "--rule-output=prometheusrule",
                 "--rule-labels=prometheus=main", "--rule-labels=role=slo"]:
        assert flag in container["args"], (flag, container["args"])
    assert pod["volumes"] == SLO_VALUES["extraVolumes"]
    assert container["volumeMounts"] == SLO_VALUES["extraVolumeMounts"]
    # Unset, none of them is passed: relops's own defaults apply.
    [default] = find(render(tmp_path), "Deployment")["spec"]["template"]["spec"]["containers"]
    assert not [a for a in default["args"] if a.startswith(("--prometheus", "--slo", "--rule"))]


def test_toggles_off(tmp_path: Path):
    docs = render(tmp_path, {"crds": {"enabled": False}, "metrics": {"enabled": False},
                             "grafana": {"dashboards": {"enabled": False}},
                             "rbac": {"create": False, "aggregateClusterRoles": False},
                             "serviceAccount": {"create": False, "name": "existing"}})
    assert sorted(d["kind"] for d in docs) == ["Deployment"]
    [container] = find(docs, "Deployment")["spec"]["template"]["spec"]["containers"]
    assert "--metrics-bind-address=0" in container["args"]
    assert [p["name"] for p in container["ports"]] == ["probes"]


def test_reports_toggle(tmp_path: Path):
    """/reports/ is on by default (relops's own default, no flag); metrics.reports=false turns
    it off with a flag `relops run` knows."""
    [default] = find(render(tmp_path), "Deployment")["spec"]["template"]["spec"]["containers"]
    assert not [a for a in default["args"] if a.startswith("--serve-reports")]
    [off] = find(render(tmp_path, {"metrics": {"reports": False}}), "Deployment")["spec"][
        "template"]["spec"]["containers"]
    assert "--serve-reports=false" in off["args"]
    usage = subprocess.run([os.environ["RELOPS_BINARY"], "run", "--help"],
                           capture_output=True, text=True, timeout=30).stdout
    assert "--serve-reports" in usage


def test_leader_election_on_request_with_one_replica(tmp_path: Path):
    deployment = find(render(tmp_path, {"leaderElection": {"enabled": True}}), "Deployment")
    assert "--leader-elect" in deployment["spec"]["template"]["spec"]["containers"][0]["args"]
    assert "strategy" not in deployment["spec"]  # RollingUpdate: the new pod waits for the Lease


@pytest.mark.parametrize("values, message", [
    ({"replicas": 2}, "additional properties 'replicas' not allowed"),
    ({"image": {"tags": "1"}}, "additional properties 'tags' not allowed"),
    ({"controller": {"logLevel": "verbose"}}, "logLevel"),
    ({"controller": {"workers": 0}}, "workers"),
    ({"controller": {"kubeApiQps": 0}}, "kubeApiQps"),  # negative turns the limit off; 0 is neither
    ({"controller": {"watchNamespaces": ["Not_A_Namespace"]}}, "watchNamespaces"),
    ({"leaderElection": {"leaseDuration": "15"}}, "leaseDuration"),
    ({"leaderElection": {"leaseDuration": "1m30s"}}, "leaseDuration"),  # relops: one unit
    ({"controller": {"ruleOutput": "file"}}, "ruleOutput"),
    ({"controller": {"prometheus": {"url": "prometheus:9090"}}}, "url"),
    ({"serviceMonitor": {"interval": "30"}}, "interval"),
    ({"crds": {"enabled": "yes"}}, "crds"),
    ({"networkPolicy": {"enable": True}}, "additional properties 'enable' not allowed"),
    ({"controller": {"enableCalendars": True}}, "additional properties 'enableCalendars'"),
    ({"metrics": {"secure": "yes"}}, "secure"),
])
def test_schema_rejects(tmp_path: Path, values: dict[str, Any], message: str):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(values))
    result = helm("template", "relops", str(CHART), "-f", str(path), check=False)
    assert result.returncode != 0
    assert message in result.stderr, result.stderr


@pytest.mark.parametrize("values, message", [
    ({"calendars": {"enabled": True, "port": 8080}}, "calendars.port must differ"),
    ({"serviceMonitor": {"enabled": True}, "metrics": {"enabled": False}},
     "needs metrics.enabled"),
    ({"serviceAccount": {"create": False}}, "serviceAccount.name is required"),
])
def test_contradictions_fail_with_a_message(tmp_path: Path, values, message):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(values))
    result = helm("template", "relops", str(CHART), "-f", str(path), check=False)
    assert result.returncode != 0 and message in result.stderr, result.stderr


def test_rbac_is_least_privilege(tmp_path: Path):
    docs = render(tmp_path, EVERY_TOGGLE)
    roles = [d for d in docs if d["kind"] in ("ClusterRole", "Role")]
    # The operator's ClusterRole, view, edit, metrics-reader, freeze-exempt, the Lease Role, and
    # with watchNamespaces one Role per watched namespace (what relops does inside it) instead of
    # cluster-wide grants.
    assert len(roles) == 8
    for namespace in EVERY_TOGGLE["controller"]["watchNamespaces"]:
        role = next(d for d in roles
                    if d["kind"] == "Role" and d["metadata"]["namespace"] == namespace)
        assert any("jobs" in rule["resources"] for rule in role["rules"]), role
    cluster_role = find(docs, "ClusterRole", "relops-all")
    assert not any("jobs" in rule["resources"] for rule in cluster_role["rules"]), cluster_role
    for role in roles:
        for rule in role["rules"]:
            for field in ("apiGroups", "resources", "verbs", "nonResourceURLs"):
                assert "*" not in rule.get(field, []), (role["metadata"]["name"], rule)
            assert not {"secrets", "secrets/status"} & set(rule.get("resources", [])), rule
            assert not {"escalate", "bind", "impersonate"} & set(rule["verbs"]), rule
    view = find(docs, "ClusterRole", "relops-all-view")
    edit = find(docs, "ClusterRole", "relops-all-edit")
    # Reading /metrics is its own role, granted to a scraper, never aggregated into a namespace
    # role.
    reader = find(docs, "ClusterRole", "relops-all-metrics-reader")
    assert reader["rules"] == [{"nonResourceURLs": ["/metrics"], "verbs": ["get"]}]
    assert not [k for k in reader["metadata"]["labels"] if k.startswith("rbac.authorization")]
    assert view["metadata"]["labels"]["rbac.authorization.k8s.io/aggregate-to-view"] == "true"
    assert edit["metadata"]["labels"]["rbac.authorization.k8s.io/aggregate-to-edit"] == "true"
    assert edit["metadata"]["labels"]["rbac.authorization.k8s.io/aggregate-to-admin"] == "true"
    [rule] = view["rules"]
    assert rule["resources"] == RELOPS_RESOURCES  # no status: that is the operator's
    # edit/admin write every kind but DRDrillRuns, relops's children, which they only delete.
    writes, runs = edit["rules"]
    assert writes["resources"] == [r for r in RELOPS_RESOURCES if r != "drdrillruns"]
    assert runs == {"apiGroups": ["relops.dev"], "resources": ["drdrillruns"],
                    "verbs": ["delete", "deletecollection"]}
    # Freeze exemptions: one verb, granted per namespace by an admin, never aggregated.
    exempt = find(docs, "ClusterRole", "relops-all-freeze-exempt")
    assert exempt["rules"] == [{"apiGroups": ["relops.dev"], "resources": ["errorbudgetpolicies"],
                                "verbs": ["exempt"]}]
    assert not [k for k in exempt["metadata"]["labels"] if k.startswith("rbac.authorization")]


def test_rbac_rules_name_their_controller():
    """Every rule of the operator's ClusterRole sits under a comment naming who needs it."""
    text = (CHART / "templates" / "rbac.yaml").read_text()
    operator_role = text.split("---")[0]
    rules = operator_role[operator_role.index("rules:"):].splitlines()
    comment = False
    for line in rules[1:]:
        stripped = line.strip()
        if stripped.startswith("#"):
            comment = True
        elif stripped.startswith("- apiGroups:"):
            assert comment, f"rule without a comment above it: {line}"
            # A rule may share the comment of the rule just above it.
        elif not stripped or stripped.startswith("{{"):
            comment = False


def test_chart_crds_are_the_crds_directory(tmp_path: Path):
    rendered = {d["metadata"]["name"]: d for d in render(tmp_path)
                if d["kind"] == "CustomResourceDefinition"}
    sources = [yaml.safe_load(p.read_text()) for p in sorted(CRDS.glob("*.yaml"))]
    assert sorted(rendered) == sorted(s["metadata"]["name"] for s in sources)
    for source in sources:
        chart_crd = rendered[source["metadata"]["name"]]
        assert chart_crd["spec"] == source["spec"], source["metadata"]["name"]
        assert chart_crd["metadata"]["labels"]["app.kubernetes.io/part-of"] == "relops"


def test_every_flag_the_chart_passes_is_a_relops_run_flag(tmp_path: Path):
    usage = subprocess.run([os.environ["RELOPS_BINARY"], "run", "--help"],
                           capture_output=True, text=True, timeout=30).stdout
    known = set(re.findall(r"--[a-z][a-z0-9-]*", usage))
    assert "--leader-elect" in known, usage
    every_flag = {**EVERY_TOGGLE, "controller": {**EVERY_TOGGLE["controller"],
                                                 **SLO_VALUES["controller"]}}
    for values in (None, every_flag):
        [container] = find(render(tmp_path, values), "Deployment")["spec"]["template"]["spec"][
            "containers"]
        for arg in container["args"]:
            assert arg.split("=")[0] in known, f"{arg} is not a flag of `relops run`:\n{usage}"


def test_deploy_is_rendered_from_the_chart():
    """deploy/ is the chart's output; regenerating it changes nothing."""
    result = subprocess.run(
        ["python3", str(DEPLOY / "generate.py"), "--check", "--helm", "helm"],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    rendered = yaml.safe_load_all((DEPLOY / "relops.yaml").read_text())
    assert not any(d["kind"] == "CustomResourceDefinition" for d in rendered if d)


def test_pod_is_admitted_under_restricted_pod_security(kubectl: Kubectl, tmp_path: Path):
    """The API server's Pod Security admission, enforcing `restricted`, accepts the pod the
    Deployment creates, with default values and with every toggle."""
    namespace = unique_name("e2e-pss")
    kubectl.run("create", "namespace", namespace)
    try:
        kubectl.run("label", "namespace", namespace,
                    "pod-security.kubernetes.io/enforce=restricted",
                    "pod-security.kubernetes.io/enforce-version=latest")
        for values in (None, EVERY_TOGGLE):
            deployment = find(render(tmp_path, values), "Deployment")
            pod = {"apiVersion": "v1", "kind": "Pod",
                   "metadata": {"name": "relops-pss", "namespace": namespace},
                   "spec": deployment["spec"]["template"]["spec"]}
            pod["spec"].pop("priorityClassName", None)  # not part of the standard
            pod["spec"]["serviceAccountName"] = "default"  # the chart's is not created here
            result = kubectl.run("create", "--dry-run=server", "-f", "-",
                                 input=yaml.safe_dump(pod), check=False)
            assert result.returncode == 0, result.stderr
            assert "violate" not in result.stderr, result.stderr
        # The check has teeth: a privileged container is refused.
        pod["spec"]["containers"][0]["securityContext"] = {"privileged": True}
        result = kubectl.run("create", "--dry-run=server", "-f", "-",
                             input=yaml.safe_dump(pod), check=False)
        assert result.returncode != 0 and "violates PodSecurity" in result.stderr, result.stderr
    finally:
        kubectl.run("delete", "namespace", namespace, "--wait=false", check=False)
