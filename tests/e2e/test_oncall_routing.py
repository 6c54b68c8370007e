"""OnCallRotation spec.routing end to end (issue 17), with real parts only: relops writes an
AlertmanagerConfig, the real Prometheus Operator renders it into an Alertmanager
configuration, a real Alertmanager loads that and delivers to webhooks this test serves on
loopback, one per participant.

- A burn-rate page for the rotation reaches whoever is on call; at a handoff, pages move to the
  next person (the delay from the handoff instant to relops's AlertmanagerConfig write, to the
  operator's rendering, to Alertmanager loading it and to the webhook is printed and bounded).
- During a coverage gap pages reach the fallback; an override sends them to its participant.
- The shift-starting notice relops posts to Alertmanager reaches the incoming person leadTime
  before the handoff.
- Tenancy: the rotation in namespace A never receives namespace B's alerts, even labelled with
  A's rotation (the operator's namespace matcher), and relops's AlertmanagerConfig is in A only.

One timeline for the module: the handoff rotation is made first, with its handoff about 80 s
out, and the other checks run while it approaches. The measured delays are printed: run pytest
with -s to see them (under ctest: PYTEST_ADDOPTS=-s).
"""

from __future__ import annotations

import datetime as dt
import json
import textwrap
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from alertmanager_support import (
    ALERTMANAGER_VERSION,
    Alertmanager,
    ConfigFollower,
    PrometheusOperator,
    WebhookSink,
    firing_alert,
    install_alertmanager_crds,
    parse_time,
)
from kube import Kubectl, unique_name, wait_until
from relops_process import Operator, writes_by

UTC = dt.timezone.utc
AM_NAME = "routing"
GENERATED_SECRET = f"alertmanager-{AM_NAME}-generated"
SELECTOR_LABEL = "relops.dev/e2e-routing"
# A generous bound for each step from a schedule instant to a delivered page.
ROUTING_BOUND = 30.0
NOTICE_BOUND = 15.0
TURN = dt.timedelta(minutes=2)
LEAD = dt.timedelta(minutes=1)
# The handoff of the `team` rotation, this far after the rotation is made: the shift-starting
# notice (LEAD before it) is then 20 s out, time enough for the routing to be in place.
HANDOFF_AFTER = dt.timedelta(seconds=80)


@dataclass
class Stack:
    kubectl: Kubectl
    tenant: str  # namespace A: the rotations
    other: str  # namespace B: another tenant, no rotation
    monitoring: str  # the Alertmanager object
    sink: WebhookSink
    alertmanager: Alertmanager
    follower: ConfigFollower
    relops: Operator
    operator: PrometheusOperator


def civil(t: dt.datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def rotation(stack: Stack, name: str, participants: list[str], layer: dict) -> str:
    """An OnCallRotation whose participants each page the webhook /<name>/<participant>,
    and the fallback /<name>/fallback; short group timers, so that the timing is relops's."""
    def webhook(path: str) -> dict:
        return {"webhookConfigs": [{"url": stack.sink.url(path), "sendResolved": False}]}

    return json.dumps({
        "apiVersion": "relops.dev/v1alpha1", "kind": "OnCallRotation",
        "metadata": {"name": name, "namespace": stack.tenant},
        "spec": {
            "timeZone": "UTC",
            "participants": [{"name": p} for p in participants],
            "layers": [layer],
            # A day ahead and behind: minute turns over the default four weeks would be
            # tens of thousands of shifts to schedule at every handoff.
            "horizon": "1d", "fairness": {"lookBack": "1d"},
            "routing": {
                "receivers": [{"participant": p, **webhook(f"/{name}/{p}")}
                              for p in participants],
                "fallback": webhook(f"/{name}/fallback"),
                "groupWait": "1s", "groupInterval": "1s", "repeatInterval": "1h",
                "notices": {"leadTime": "1m"},
            },
        },
    })


def status(kubectl: Kubectl, name: str, namespace: str) -> dict:
    return kubectl.get("oncallrotation", name, namespace).get("status", {})


def page(stack: Stack, rotation: str, probe: str, namespace: str | None = None) -> dict:
    """An SLO burn-rate page for the rotation, told apart from the others by `probe`."""
    return firing_alert({
        "alertname": "SLOBurnRateHigh", "slo": "checkout-availability",
        "namespace": namespace or stack.tenant,
        "oncall_rotation": f"{stack.tenant}/{rotation}", "severity": "page", "probe": probe})


def write_delay(kubectl: Kubectl, namespace: str, resource: str, name: str,
                instant: dt.datetime) -> float | None:
    """Seconds from the instant to the first write of the object at or after it, by the API
    server's audit clock (any client)."""
    times = [parse_time(e["requestReceivedTimestamp"]) for e in writes_by(
        kubectl.kubeconfig, "", namespace)
        if e["objectRef"].get("resource") == resource and e["objectRef"].get("name") == name
        and e["objectRef"].get("subresource", "") == ""]
    after = [t for t in times if t >= instant]
    return (min(after) - instant).total_seconds() if after else None


def route_to(config: str, namespace: str, rotation: str, receiver: str) -> bool:
    """Whether the rendered config routes the rotation's alerts to `receiver` (its top route,
    the one the operator scoped to the namespace, names that receiver)."""
    rendered = yaml.safe_load(config)
    name = f"{namespace}/relops-oncall-{rotation}"
    for route in rendered.get("route", {}).get("routes", []):
        if route.get("receiver", "").startswith(name + "/"):
            return route["receiver"] == f"{name}/{receiver}"
    return False


@pytest.fixture(scope="module")
def stack(kubectl: Kubectl, crds, tmp_path_factory) -> Stack:
    workdir = tmp_path_factory.mktemp("routing")
    run = uuid.uuid4().hex[:8]
    installed = install_alertmanager_crds(kubectl)
    tenant, other, monitoring = (unique_name(p) for p in ("e2e-rt-a", "e2e-rt-b", "e2e-rt-am"))
    started: list = []
    try:
        # The namespaces first: the operator drops an AlertmanagerConfig whose namespace it
        # has not seen yet, and reacts to a namespace only when its labels change.
        for namespace in (tenant, other, monitoring):
            kubectl.apply(json.dumps({
                "apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": namespace, "labels": {SELECTOR_LABEL: run}}}))
        operator = PrometheusOperator(kubectl.kubeconfig, workdir / "prometheus-operator.log")
        started.append(operator)
        # Only relops's AlertmanagerConfigs, only in this run's namespaces.
        kubectl.apply(textwrap.dedent(f"""\
            apiVersion: monitoring.coreos.com/v1
            kind: Alertmanager
            metadata: {{name: {AM_NAME}, namespace: {monitoring}}}
            spec:
              version: {ALERTMANAGER_VERSION}
              replicas: 1
              alertmanagerConfigSelector:
                matchLabels: {{app.kubernetes.io/managed-by: relops}}
              alertmanagerConfigNamespaceSelector:
                matchLabels: {{{SELECTOR_LABEL}: "{run}"}}
            """))
        wait_until("the operator's generated config Secret",
                   lambda: kubectl.exists("secret", GENERATED_SECRET, monitoring), timeout=60)
        sink = WebhookSink()
        started.append(sink)
        # Started on an empty route; the follower loads the operator's rendering at once.
        alertmanager = Alertmanager(
            workdir, "route: {receiver: 'null'}\nreceivers: [{name: 'null'}]\n")
        started.append(alertmanager)
        follower = ConfigFollower(kubectl, monitoring, GENERATED_SECRET, alertmanager)
        started.append(follower)
        follower.wait_for("the operator's rendering", lambda config: "receivers" in config)
        relops = Operator(kubectl.kubeconfig, workdir / "relops.log",
                          "--watch-namespace", tenant, "--watch-namespace", other,
                          "--alertmanager-url", alertmanager.url)
        started.append(relops)
        wait_until("relops ready", relops.ready, timeout=60)
        yield Stack(kubectl, tenant, other, monitoring, sink, alertmanager, follower, relops,
                    operator)
    finally:
        for part in reversed(started):
            if isinstance(part, Operator):
                if part.alive():
                    part.stop()
            else:
                part.stop()
        for namespace in (tenant, other, monitoring):
            kubectl.run("delete", "namespace", namespace, "--wait=false", check=False)
        for part in started:
            log = getattr(part, "log_path", None)
            if log:
                print(f"--- {Path(log).name} (last lines)")
                print("\n".join(Path(log).read_text(errors="replace").splitlines()[-15:]))
        # Relops elsewhere on this cluster discovers AlertmanagerConfig at its start: leave the
        # cluster as it was.
        for name in installed:
            kubectl.run("delete", name, "--wait=true", "--timeout=120s", check=False,
                        timeout=130)


@dataclass
class Handoff:
    name: str
    made_at: dt.datetime
    instant: dt.datetime  # alice -> bob


@pytest.fixture(scope="module")
def team(stack: Stack) -> Handoff:
    """The rotation whose handoff the module watches: alice's 2-minute turn ends
    HANDOFF_AFTER from now, then bob's begins."""
    now = dt.datetime.now(UTC).replace(microsecond=0)
    instant = now + HANDOFF_AFTER
    stack.kubectl.apply(rotation(stack, "team", ["alice", "bob"], {
        "name": "primary", "members": ["alice", "bob"], "start": civil(instant - TURN),
        "turnLength": "2m"}))
    return Handoff("team", now, instant)


def test_page_reaches_the_person_on_call(stack: Stack, team: Handoff):
    wait_until("team routed to alice", lambda: status(stack.kubectl, "team", stack.tenant)
               .get("routing", {}).get("participant") == "alice", timeout=30)
    current = status(stack.kubectl, "team", stack.tenant)
    assert current["routing"]["receiver"] == "participant-alice"
    assert current["routing"]["alertmanagerConfig"] == "relops-oncall-team"
    [routed] = [c for c in current["conditions"] if c["type"] == "Routed"]
    assert (routed["status"], routed["reason"]) == ("True", "ReceiverInEffect"), routed
    owners = stack.kubectl.get("alertmanagerconfig", "relops-oncall-team",
                               stack.tenant)["metadata"]["ownerReferences"]
    assert [(o["kind"], o["name"], o.get("controller")) for o in owners] == [
        ("OnCallRotation", "team", True)]
    rendering = stack.follower.wait_for(
        "team's route to alice",
        lambda config: route_to(config, stack.tenant, "team", "participant-alice"))
    print(f"team: rendered {rendering.seen_at - team.made_at.timestamp():.2f}s and loaded "
          f"{rendering.loaded_at - team.made_at.timestamp():.2f}s after the rotation was made")
    stack.alertmanager.post_alerts(page(stack, "team", "before-handoff"))
    arrival = stack.sink.wait_for("the page to alice", "/team/alice", probe="before-handoff")
    assert arrival.payload["receiver"] == f"{stack.tenant}/relops-oncall-team/participant-alice"
    assert not stack.sink.matching("/team/bob", probe="before-handoff")


def test_gap_pages_the_fallback_and_an_override_its_participant(stack: Stack):
    kubectl = stack.kubectl
    # The layer covers an hour two hours from now: now is a coverage gap.
    now = dt.datetime.now(UTC)
    window = (now + dt.timedelta(hours=2), now + dt.timedelta(hours=3))
    kubectl.apply(rotation(stack, "nightshift", ["carol", "dave"], {
        "name": "nights", "members": ["carol"], "start": "2026-01-05T00:00:00",
        "turnLength": "1d",
        "restrictions": [{"from": f"{window[0]:%H:%M}", "to": f"{window[1]:%H:%M}"}]}))
    wait_until("nightshift routed to the fallback", lambda: status(
        kubectl, "nightshift", stack.tenant).get("routing", {}).get("receiver") == "fallback",
        timeout=30)
    assert not status(kubectl, "nightshift", stack.tenant)["routing"].get("participant")
    stack.follower.wait_for("nightshift's route to the fallback", lambda config: route_to(
        config, stack.tenant, "nightshift", "fallback"))
    stack.alertmanager.post_alerts(page(stack, "nightshift", "in-gap"))
    stack.sink.wait_for("the gap's page to the fallback", "/nightshift/fallback", probe="in-gap")

    # dave covers from a few seconds from now: the gap's page, still firing, moves to him.
    start = dt.datetime.now(UTC).replace(microsecond=0) + dt.timedelta(seconds=6)
    kubectl.run("patch", "oncallrotation", "nightshift", "-n", stack.tenant, "--type=merge",
                "-p", json.dumps({"spec": {"overrides": [{
                    "participant": "dave", "start": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "end": (start + dt.timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "reason": "covers the night"}]}}))
    moved = stack.sink.wait_for("the gap's page to dave", "/nightshift/dave", probe="in-gap",
                                timeout=ROUTING_BOUND + 10)
    assert status(kubectl, "nightshift", stack.tenant)["routing"]["participant"] == "dave"
    rendering = stack.follower.wait_for("nightshift's route to dave", lambda config: route_to(
        config, stack.tenant, "nightshift", "participant-dave"))
    delays = {
        "AlertmanagerConfig": write_delay(kubectl, stack.tenant, "alertmanagerconfigs",
                                          "relops-oncall-nightshift", start),
        "rendered": rendering.seen_at - start.timestamp(),
        "loaded": rendering.loaded_at - start.timestamp(),
        "page at dave": moved.at - start.timestamp(),
    }
    print("override start -> " + ", ".join(f"{k} {v:.2f}s" for k, v in delays.items()))
    assert delays["AlertmanagerConfig"] is not None
    assert 0 <= delays["page at dave"] < ROUTING_BOUND, delays
    stack.alertmanager.post_alerts(page(stack, "nightshift", "in-override"))
    stack.sink.wait_for("a new page to dave", "/nightshift/dave", probe="in-override")
    assert not stack.sink.matching("/nightshift/fallback", probe="in-override")
    assert not stack.sink.matching("/nightshift/carol")


def test_other_namespace_cannot_page_the_rotation(stack: Stack, team: Handoff):
    # The same labels as team's pages but from namespace B; a control page from A beside it.
    stack.alertmanager.post_alerts(page(stack, "team", "from-b", namespace=stack.other),
                                   page(stack, "team", "control"))
    # (to alice, or to bob if the handoff came first)
    control = stack.sink.wait_for("the control page", None, probe="control")
    assert control.path in ("/team/alice", "/team/bob"), control.path
    # Well past the control page's delivery: the same group wait and interval apply to both.
    time.sleep(3)
    assert not stack.sink.matching(probe="from-b"), "namespace B's page reached a receiver"
    [held] = [a for a in stack.alertmanager.alerts() if a["labels"].get("probe") == "from-b"]
    assert [r["name"] for r in held["receivers"]] == ["null"], held["receivers"]
    print(f"control page from {stack.tenant} delivered to {control.path}; the same page from "
          f"{stack.other} routed to the null receiver only")
    listed = json.loads(stack.kubectl.run(
        "get", "alertmanagerconfigs", "-A", "-l", "app.kubernetes.io/managed-by=relops",
        "-o", "json").stdout)["items"]
    mine = [i for i in listed if i["metadata"]["namespace"] in (stack.tenant, stack.other)]
    assert {i["metadata"]["namespace"] for i in mine} == {stack.tenant}, [
        (i["metadata"]["namespace"], i["metadata"]["name"]) for i in mine]


def test_shift_notice_reaches_the_incoming_person_lead_time_before(stack: Stack, team: Handoff):
    due = team.instant - LEAD
    rendering = stack.follower.wait_for("team's route to alice", lambda config: route_to(
        config, stack.tenant, "team", "participant-alice"))
    assert rendering.loaded_at < due.timestamp(), (
        "the routing was not in Alertmanager before the notice fell due: "
        f"loaded {rendering.loaded_at - due.timestamp():.1f}s after")
    left = due.timestamp() - time.time()
    notice = stack.sink.wait_for("bob's shift-starting notice", "/team/bob",
                                 alertname="OnCallShiftStarting",
                                 timeout=max(0.0, left) + NOTICE_BOUND + 5)
    offset = notice.at - due.timestamp()
    print(f"shift-starting notice at bob {offset:+.2f}s from handoff - leadTime")
    assert -1.0 <= offset < NOTICE_BOUND
    [alert] = [a for a in notice.alerts() if a["labels"]["alertname"] == "OnCallShiftStarting"]
    labels = alert["labels"]
    assert labels["oncall_participant"] == "bob"
    assert labels["relops_notice_receiver"] == "participant-bob"
    assert labels["oncall_rotation"] == f"{stack.tenant}/team"
    assert parse_time(labels["oncall_handoff"]) == team.instant
    assert not stack.sink.matching("/team/alice", alertname="OnCallShiftStarting")


def test_handoff_moves_pages_to_the_next_person(stack: Stack, team: Handoff):
    kubectl = stack.kubectl
    left = team.instant.timestamp() - time.time()
    # The page to alice, still firing, follows the on-call person to bob.
    moved = stack.sink.wait_for("the firing page to reach bob after the handoff", "/team/bob",
                                probe="before-handoff", timeout=max(0.0, left) + ROUTING_BOUND)
    routing = status(kubectl, "team", stack.tenant)["routing"]
    assert routing["participant"] == "bob" and routing["receiver"] == "participant-bob"
    assert parse_time(routing["since"]) == team.instant
    rendering = stack.follower.wait_for("team's route to bob", lambda config: route_to(
        config, stack.tenant, "team", "participant-bob"))
    handoff = team.instant.timestamp()
    # relops's write by the API server's audit clock; the operator's rendering when the
    # Secret watch delivered it (the operator rewrites that Secret on every sync, so its
    # audit record does not tell a new rendering from an unchanged one).
    delays = {
        "AlertmanagerConfig": write_delay(kubectl, stack.tenant, "alertmanagerconfigs",
                                          "relops-oncall-team", team.instant),
        "rendered": rendering.seen_at - handoff,
        "loaded": rendering.loaded_at - handoff,
        "page at bob": moved.at - handoff,
    }
    print("handoff -> " + ", ".join(f"{k} {v:.2f}s" for k, v in delays.items()))
    assert delays["AlertmanagerConfig"] is not None, "no write of relops-oncall-team after it"
    assert 0 <= delays["AlertmanagerConfig"] <= delays["rendered"] < ROUTING_BOUND, delays
    assert 0 < delays["page at bob"] < ROUTING_BOUND, delays
    # A new page goes to bob only.
    stack.alertmanager.post_alerts(page(stack, "team", "after-handoff"))
    stack.sink.wait_for("a new page to bob", "/team/bob", probe="after-handoff")
    handoff_notice = stack.sink.wait_for("bob's handoff notice", "/team/bob",
                                         alertname="OnCallHandoff", timeout=10)
    print(f"handoff notice at bob {handoff_notice.at - handoff:+.2f}s after the handoff")
    time.sleep(2)  # past the group wait and interval: a stray copy would be here by now
    assert not stack.sink.matching("/team/alice", probe="after-handoff")
    # Only the handoff, this test's two pages and the notices: nothing reached the fallback.
    assert not stack.sink.matching("/team/fallback")
    print(f"rotation made {team.made_at:%H:%M:%S}, handoff {team.instant:%H:%M:%S}, "
          f"now {dt.datetime.now(UTC):%H:%M:%S}")


def test_relops_writes_only_when_the_receiver_changes(stack: Stack, team: Handoff):
    """No writes while nothing changes: every write relops made for `team` (its
    AlertmanagerConfig, its status, its Events) falls right after the rotation was made or
    right after its handoff, the two moments its receiver changed; none between them, none
    at the notice (a post to Alertmanager, not a write)."""
    assert dt.datetime.now(UTC) > team.instant, "runs after the handoff test"
    moments = [team.made_at, team.instant]
    writes = []
    for event in writes_by(stack.kubectl.kubeconfig, "relops", stack.tenant):
        ref = event["objectRef"]
        resource, name = ref.get("resource"), ref.get("name", "")
        # Events are named after the object they regard: team.<suffix>.
        if ((resource, name) in (("alertmanagerconfigs", "relops-oncall-team"),
                                 ("oncallrotations", "team"))
                or (resource == "events" and name.startswith("team."))):
            writes.append((parse_time(event["requestReceivedTimestamp"]), resource,
                           ref.get("subresource", "")))
    assert writes, "no audited write by relops for the team rotation"
    config_writes = [w for w in writes if w[1] == "alertmanagerconfigs"]
    assert len(config_writes) == 2, config_writes  # alice at creation, bob at the handoff
    for when, resource, subresource in writes:
        # Within 10 s after a moment (relops reacts in well under a second), or at a UTC
        # midnight, when every rotation's horizon moves.
        after = [(when - m).total_seconds() for m in moments if when >= m - dt.timedelta(seconds=1)]
        midnight = when.hour == 0 and when.minute == 0
        assert midnight or (after and min(after) < 10), (
            f"{resource}/{subresource} written at {when:%H:%M:%S}, not at a change "
            f"(made {team.made_at:%H:%M:%S}, handoff {team.instant:%H:%M:%S})")
    print(f"relops's writes for team: {len(writes)} "
          f"({', '.join(sorted({f'{r}/{s}' if s else r for _, r, s in writes}))})")
