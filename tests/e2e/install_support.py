"""What the install tests (test_install_*.py) share: the chart and deploy/ on disk, a
kubeconfig for a ServiceAccount token, relops run out of cluster with the flags the installed
Deployment gives it, and the table of kinds whose controllers must make objects Ready."""

from __future__ import annotations

import base64
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from kube import Kubectl, wait_until
from relops_process import REPO, Operator

CHART = REPO / "helm" / "relops"
DEPLOY = REPO / "deploy"
CRDS = REPO / "crds"
EXAMPLES = CRDS / "examples"


@dataclass(frozen=True)
class ControlledKind:
    kind: str
    resource: str  # plural.group, for kubectl
    example: Path  # crds/examples/ object the controller must make Ready with no outside help


# Every kind `relops run` has a controller for: one line per controller. The install tests
# apply the example as an ordinary user would and wait for Ready=True, with relops running as
# the installed ServiceAccount, so a missing RBAC rule shows up here.
CONTROLLED_KINDS = [
    ControlledKind("OnCallRotation", "oncallrotations.relops.dev",
                   EXAMPLES / "oncallrotation-minimal.yaml"),
    # Rules only (no Prometheus URL): Ready once its rule ConfigMap is applied.
    ControlledKind("ServiceLevelObjective", "servicelevelobjectives.relops.dev",
                   EXAMPLES / "slo-ratio.yaml"),
    ControlledKind("ErrorBudgetPolicy", "errorbudgetpolicies.relops.dev",
                   EXAMPLES / "errorbudgetpolicy-freeze.yaml"),
    # Ready once scheduled (its next run is at 02:30 Berlin time).
    ControlledKind("DRDrill", "drdrills.relops.dev", EXAMPLES / "drdrill-job.yaml"),
    # Ready once its windows are computed (the next weekend freeze).
    ControlledKind("ChangeWindow", "changewindows.relops.dev",
                   EXAMPLES / "changewindow-freeze.yaml"),
]

RELOPS_KINDS = ["ServiceLevelObjective", "ErrorBudgetPolicy", "OnCallRotation", "DRDrill",
                "DRDrillRun", "ChangeWindow"]
# In the order the chart lists them (crds/ file names, via deploy/kinds.py).
RELOPS_RESOURCES = ["changewindows", "drdrillruns", "drdrills", "errorbudgetpolicies",
                    "oncallrotations", "servicelevelobjectives"]


def helm(*args: str, timeout: float = 180, check: bool = True,
         kubeconfig: str | None = None) -> subprocess.CompletedProcess[str]:
    argv = ["helm", *args] + (["--kubeconfig", kubeconfig] if kubeconfig else [])
    result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"helm {' '.join(args)} exited {result.returncode}:\n"
                             f"{result.stdout}\n{result.stderr}")
    return result


def documents(text: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


def find(docs: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    found = [d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]


def service_account_kubeconfig(kubectl: Kubectl, namespace: str, service_account: str,
                               path: Path) -> str:
    """A kubeconfig that authenticates as the ServiceAccount with a token from
    `kubectl create token`, for the admin kubeconfig's cluster."""
    token = kubectl.run("create", "token", service_account, "-n", namespace,
                        "--duration=1h").stdout.strip()
    admin = json.loads(kubectl.run("config", "view", "--raw", "--minify", "-o", "json").stdout)
    cluster = admin["clusters"][0]["cluster"]
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "test", "cluster": {
            "server": cluster["server"],
            "certificate-authority-data": cluster.get("certificate-authority-data") or
            base64.b64encode(Path(cluster["certificate-authority"]).read_bytes()).decode(),
        }}],
        "users": [{"name": service_account, "user": {"token": token}}],
        "contexts": [{"name": "sa", "context": {"cluster": "test", "user": service_account}}],
        "current-context": "sa",
    }
    path.write_text(yaml.safe_dump(config))
    path.chmod(0o600)
    return str(path)


def container_args(deployment: dict[str, Any]) -> list[str]:
    """The relops container's flags, without the bind addresses (the test picks free ports)."""
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    return [arg for arg in container["args"]
            if not arg.startswith(("--metrics-bind-address", "--health-probe-bind-address"))]


def start_as_service_account(kubectl: Kubectl, sa_kubeconfig: str, deployment: dict[str, Any],
                             namespace: str, log_path: Path) -> Operator:
    """relops run out of cluster, authenticated as the chart's ServiceAccount, with the installed
    Deployment's flags and the POD_NAMESPACE the pod would get (where its Lease lives).

    Namespaces other tests deleted are waited out first: in one still terminating, the API
    server refuses relops's writes with a 403 that is not about RBAC."""
    def none_terminating() -> bool:
        return not [ns for ns in kubectl.get("namespaces")["items"]
                    if ns.get("status", {}).get("phase") == "Terminating"]
    try:
        wait_until("no namespace terminating", none_terminating, timeout=120)
    except AssertionError:
        pass  # assert_no_forbidden_requests tells those refusals from RBAC's
    return Operator(sa_kubeconfig, log_path, *container_args(deployment),
                    env={"POD_NAMESPACE": namespace})


def assert_cannot_read_secrets(kubectl: Kubectl, sa_kubeconfig: str, namespace: str) -> None:
    as_sa = Kubectl(sa_kubeconfig)
    for scope in (["-A"], ["-n", namespace], ["-n", "kube-system"]):
        result = as_sa.run("auth", "can-i", "get", "secrets", *scope, check=False)
        assert result.stdout.strip() == "no", (scope, result.stdout, result.stderr)
        result = as_sa.run("auth", "can-i", "list", "secrets", *scope, check=False)
        assert result.stdout.strip() == "no", (scope, result.stdout, result.stderr)
    # And the API server agrees when it is actually asked.
    denied = as_sa.run("get", "secrets", "-n", namespace, check=False)
    assert denied.returncode != 0 and "forbidden" in denied.stderr, denied.stderr
    # What it may do, it may do.
    for resource in RELOPS_RESOURCES:
        allowed = as_sa.run("auth", "can-i", "watch", f"{resource}.relops.dev", "-A", check=False)
        assert allowed.stdout.strip() == "yes", (resource, allowed.stdout)


def assert_controllers_make_ready(kubectl: Kubectl, namespace: str) -> None:
    """Applies each controlled kind's example and waits for Ready=True with `kubectl wait`,
    the way Flux's and kstatus's readers see it."""
    for controlled in CONTROLLED_KINDS:
        # Examples may name their own namespace; the test's namespace replaces it.
        manifest = yaml.safe_load(controlled.example.read_text())
        manifest["metadata"]["namespace"] = namespace
        kubectl.run("apply", "-f", "-", input=yaml.safe_dump(manifest))
        name = manifest["metadata"]["name"]
        result = kubectl.run("wait", "--for=condition=Ready", f"{controlled.resource}/{name}",
                             "-n", namespace, "--timeout=60s", timeout=70, check=False)
        assert result.returncode == 0, (
            f"{controlled.kind} {namespace}/{name} not Ready: {result.stderr}\n"
            + kubectl.run("get", controlled.resource, name, "-n", namespace, "-o", "yaml").stdout)
        obj = kubectl.get(controlled.resource, name, namespace)
        assert obj["status"]["observedGeneration"] == obj["metadata"]["generation"]
    assert_drill_runs(kubectl, namespace)


def assert_drill_runs(kubectl: Kubectl, namespace: str) -> None:
    """A job drill started now runs to a verdict: DRDrillRun, Job and status writes all
    within the ServiceAccount's RBAC."""
    name = yaml.safe_load((EXAMPLES / "drdrill-job.yaml").read_text())["metadata"]["name"]
    kubectl.run("annotate", "drdrill", name, "-n", namespace, "relops.dev/run-now=install-check")

    def finished() -> dict[str, Any] | None:
        for run in kubectl.get("drdrillruns", namespace=namespace)["items"]:
            if run.get("status", {}).get("phase") in ("Succeeded", "Failed", "Error"):
                return run
        return None

    run = wait_until("the drill run to finish", finished, timeout=120, interval=1)
    # kstatus for the run too: a finished run is Ready, so `kubectl wait` returns.
    result = kubectl.run("wait", "--for=condition=Ready",
                         f"drdrillruns.relops.dev/{run['metadata']['name']}", "-n", namespace,
                         "--timeout=30s", timeout=40, check=False)
    assert result.returncode == 0, result.stderr
    # The Job completed and recovery was measured. The example's RPO objective cannot be met
    # on kwok (its Job reports no data time), so its verdict is Fail; Error would mean the
    # drill machinery was refused something.
    assert run["status"]["phase"] != "Error", run["status"]
    assert run["status"].get("rtoSeconds") is not None, run["status"]
    assert kubectl.get("jobs", namespace=namespace)["items"], "the run's Job"
    # relops lifts the run's cleanup finalizer one reconcile after the verdict; a relops
    # stopped before that would leave the run, and its namespace, stuck.
    wait_until("relops to lift the run's finalizer", lambda: not kubectl.get(
        "drdrillrun", run["metadata"]["name"], namespace)["metadata"].get("finalizers"),
        timeout=30)


# How relops logs a write refused because the namespace is being deleted (not an RBAC refusal).
NAMESPACE_TERMINATING = "because it is being terminated"


def assert_no_forbidden_requests(op: Operator) -> None:
    """relops made no request its ServiceAccount was refused. A 403 for a namespace being
    deleted is not a refusal of the ServiceAccount and is told apart by its message."""
    lines = op.log().splitlines()
    forbidden = [line for line in lines if "forbidden" in line.lower()]
    rbac = [line for line in forbidden if NAMESPACE_TERMINATING not in line]
    assert not rbac, "\n".join(rbac[-10:])
    if not forbidden:
        assert op.metric("rest_client_requests_total", code="403") == 0, op.log()[-4000:]


def wait_ready(op: Operator, timeout: float = 60) -> None:
    wait_until("relops /readyz", op.ready, timeout=timeout)
