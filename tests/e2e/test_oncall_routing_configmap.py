"""OnCallRotation spec.routing without the prometheus-operator (`--routing-output configmap`),
with real parts only: relops writes the routing as an Alertmanager configuration fragment in
the ConfigMap relops-oncall-<rotation>; the test assembles it into a whole configuration the
way relops documents it (the fragment's route under the root route's `routes`, its receivers
appended to `receivers`), `amtool check-config` accepts it, and the real Alertmanager
(Debian's 0.25) loads it and delivers to webhooks this test serves on loopback, one per
participant.

- A burn-rate page for the rotation reaches whoever is on call; at the handoff relops
  rewrites the ConfigMap, the test reloads Alertmanager with the new assembly, and pages
  reach the next person (the delay from the handoff instant to relops's write, to the watch,
  to the reload and to the webhook is printed and bounded).
- The fragment is scoped to its namespace: an alert labelled with the rotation but from
  another namespace falls through to the root route's blackhole.
- status.routing names the ConfigMap, and no AlertmanagerConfig is made or written.
- A receiver with no form in Alertmanager's own configuration (snsConfigs) stalls the
  rotation (ReceiverNotPortable, with a Warning Event) and no ConfigMap is written.

This relops is started with `--routing-output configmap`, so the test does not depend on
which CRDs the cluster serves; the prometheus-operator is not involved. One timeline for the
module: the handoff rotation is made first, its handoff HANDOFF_AFTER out, and the other
checks run while it approaches. The measured delays are printed: run pytest with -s to see
them (under ctest: PYTEST_ADDOPTS=-s).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from alertmanager_support import (
    Alertmanager,
    ConfigMapFollower,
    WebhookSink,
    assemble_config,
    check_config,
    firing_alert,
    parse_time,
)
from kube import Kubectl, unique_name, wait_until
from relops_process import Operator, writes_by

UTC = dt.timezone.utc
BLACKHOLE = "blackhole"
# A generous bound for each step from the handoff instant to a delivered page.
ROUTING_BOUND = 30.0
TURN = dt.timedelta(minutes=2)
# The handoff of the `team` rotation, this far after the rotation is made: time enough for
# the checks before it.
HANDOFF_AFTER = dt.timedelta(seconds=60)
# Where relops points a Secret reference: the file Alertmanager reads it from.
SECRETS_DIR = "/etc/alertmanager/secrets"


@dataclass
class Stack:
    kubectl: Kubectl
    tenant: str  # the rotations' namespace
    other: str  # another namespace, no rotation
    workdir: Path
    sink: WebhookSink
    alertmanager: Alertmanager
    relops: Operator


@dataclass
class Handoff:
    name: str
    made_at: dt.datetime
    instant: dt.datetime  # alice -> bob
    follower: ConfigMapFollower  # relops-oncall-team, watched from before it exists


def civil(t: dt.datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def child(rotation: str) -> str:
    return f"relops-oncall-{rotation}"


def key(rotation: str) -> str:
    return f"{rotation}.alertmanager.yaml"


def prefix(stack: Stack, rotation: str) -> str:
    """What the fragment's receiver names start with."""
    return f"{stack.tenant}/{child(rotation)}/"


def webhook(stack: Stack, path: str) -> dict:
    return {"webhookConfigs": [{"url": stack.sink.url(path), "sendResolved": False}]}


def rotation(stack: Stack, name: str, participants: list[str], layer: dict,
             fallback: dict) -> str:
    """An OnCallRotation whose participants each page the webhook /<name>/<participant>;
    short group timers, so that the timing is relops's."""
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
                "receivers": [{"participant": p, **webhook(stack, f"/{name}/{p}")}
                              for p in participants],
                "fallback": fallback,
                "groupWait": "1s", "groupInterval": "1s", "repeatInterval": "1h",
                "notices": {"leadTime": "1m"},
            },
        },
    })


def status(kubectl: Kubectl, name: str, namespace: str) -> dict:
    return kubectl.get("oncallrotation", name, namespace).get("status", {})


def condition(kubectl: Kubectl, name: str, namespace: str, kind: str) -> dict:
    found = [c for c in status(kubectl, name, namespace).get("conditions", [])
             if c["type"] == kind]
    return found[0] if found else {}


def page(stack: Stack, rotation: str, probe: str, namespace: str | None = None) -> dict:
    """An SLO burn-rate page for the rotation, told apart from the others by `probe`."""
    return firing_alert({
        "alertname": "SLOBurnRateHigh", "slo": "checkout-availability",
        "namespace": namespace or stack.tenant,
        "oncall_rotation": f"{stack.tenant}/{rotation}", "severity": "page", "probe": probe})


def routes_to(text: str, stack: Stack, rotation: str, receiver: str) -> bool:
    """Whether the fragment's route sends the rotation's alerts to `receiver`."""
    fragment = yaml.safe_load(text) or {}
    return fragment.get("route", {}).get("receiver") == prefix(stack, rotation) + receiver


def load(stack: Stack, text: str) -> float:
    """Assembles the fragment into a whole configuration, checks it with amtool and loads it
    into Alertmanager; returns when (wall clock) Alertmanager had it."""
    config = assemble_config(yaml.safe_load(text), blackhole=BLACKHOLE)
    check_config(config, stack.workdir)
    stack.alertmanager.load(config)
    return time.time()


def audited_writes(kubectl: Kubectl, namespace: str, resource: str, name: str | None,
                   user_agent: str = "") -> list[dt.datetime]:
    """When the API server received writes of the object (any name when None; the object
    itself, not its status), by clients whose User-Agent starts with `user_agent`."""
    return sorted(
        parse_time(e["requestReceivedTimestamp"])
        for e in writes_by(kubectl.kubeconfig, user_agent, namespace)
        if e["objectRef"].get("resource") == resource
        and (name is None or e["objectRef"].get("name") == name)
        and e["objectRef"].get("subresource", "") == "")


def write_delay(kubectl: Kubectl, namespace: str, resource: str, name: str,
                instant: dt.datetime) -> float | None:
    """Seconds from the instant to the first write of the object at or after it, by the API
    server's audit clock (any client)."""
    after = [t for t in audited_writes(kubectl, namespace, resource, name) if t >= instant]
    return (after[0] - instant).total_seconds() if after else None


@pytest.fixture(scope="module")
def stack(kubectl: Kubectl, crds, tmp_path_factory) -> Stack:
    workdir = tmp_path_factory.mktemp("routing-configmap")
    tenant, other = unique_name("e2e-rtc-a"), unique_name("e2e-rtc-b")
    started: list = []
    try:
        for namespace in (tenant, other):
            kubectl.run("create", "namespace", namespace)
        sink = WebhookSink()
        started.append(sink)
        # Started on the root route alone; each test loads the assembly it needs.
        alertmanager = Alertmanager(workdir, assemble_config(blackhole=BLACKHOLE))
        started.append(alertmanager)
        relops = Operator(kubectl.kubeconfig, workdir / "relops.log",
                          "--watch-namespace", tenant, "--watch-namespace", other,
                          "--routing-output", "configmap",
                          "--alertmanager-url", alertmanager.url)
        started.append(relops)
        wait_until("relops ready", relops.ready, timeout=60, interval=0.1)
        yield Stack(kubectl, tenant, other, workdir, sink, alertmanager, relops)
    finally:
        for part in reversed(started):
            if isinstance(part, Operator):
                if part.alive():
                    part.stop()
            else:
                part.stop()
        for namespace in (tenant, other):
            kubectl.run("delete", "namespace", namespace, "--wait=false", check=False)
        for part in started:
            log = getattr(part, "log_path", None)
            if log:
                print(f"--- {Path(log).name} (last lines)")
                print("\n".join(Path(log).read_text(errors="replace").splitlines()[-15:]))


@pytest.fixture(scope="module")
def team(stack: Stack) -> Handoff:
    """The rotation whose handoff the module watches: alice's 2-minute turn ends
    HANDOFF_AFTER from now, then bob's begins. Its fallback also has a Slack receiver whose
    URL is a Secret reference, which the fragment turns into a file."""
    follower = ConfigMapFollower(stack.kubectl, stack.tenant, child("team"), key("team"))
    now = dt.datetime.now(UTC).replace(microsecond=0)
    instant = now + HANDOFF_AFTER
    fallback = {**webhook(stack, "/team/fallback"),
                "slackConfigs": [{"apiURL": {"name": "slack-oncall", "key": "url"},
                                  "channel": "#oncall", "sendResolved": False}]}
    stack.kubectl.apply(rotation(stack, "team", ["alice", "bob"], {
        "name": "primary", "members": ["alice", "bob"], "start": civil(instant - TURN),
        "turnLength": "2m"}, fallback))
    yield Handoff("team", now, instant, follower)
    follower.stop()


def test_fragment_pages_the_person_on_call(stack: Stack, team: Handoff):
    kubectl = stack.kubectl
    version = team.follower.wait_for("team's route to alice", lambda text: routes_to(
        text, stack, "team", "participant-alice"))
    made = team.made_at.timestamp()
    configmap = kubectl.get("configmap", child("team"), stack.tenant)
    assert list(configmap["data"]) == [key("team")], list(configmap["data"])
    labels = configmap["metadata"]["labels"]
    assert labels["app.kubernetes.io/managed-by"] == "relops", labels
    owners = configmap["metadata"]["ownerReferences"]
    assert [(o["kind"], o["name"], o.get("controller")) for o in owners] == [
        ("OnCallRotation", "team", True)]

    fragment = yaml.safe_load(version.text)
    assert set(fragment) == {"route", "receivers"}, fragment
    names = prefix(stack, "team")
    receivers = {r["name"]: r for r in fragment["receivers"]}
    assert set(receivers) == {names + "participant-alice", names + "participant-bob",
                              names + "fallback"}, set(receivers)
    assert receivers[names + "participant-alice"]["webhook_configs"] == [
        {"url": stack.sink.url("/team/alice"), "send_resolved": False}]
    [slack] = receivers[names + "fallback"]["slack_configs"]
    assert slack["api_url_file"] == f"{SECRETS_DIR}/slack-oncall/url", slack
    route = fragment["route"]
    assert route["receiver"] == names + "participant-alice"
    assert sorted(route["matchers"]) == sorted([
        f'oncall_rotation="{stack.tenant}/team"', f'namespace="{stack.tenant}"']), route
    assert route["continue"] is True
    assert (route["group_wait"], route["group_interval"], route["repeat_interval"]) == (
        "1s", "1s", "1h"), route
    # The notices' routes: each straight to the receiver the notice names.
    assert [(r["receiver"], r["matchers"], r["group_wait"]) for r in route["routes"]] == [
        (names + r, [f'relops_notice_receiver="{r}"'], "0s")
        for r in ("participant-alice", "participant-bob", "fallback")], route["routes"]

    loaded_at = load(stack, version.text)
    print(f"team: ConfigMap seen {version.seen_at - made:.2f}s and loaded "
          f"{loaded_at - made:.2f}s after the rotation was made")
    stack.alertmanager.post_alerts(page(stack, "team", "before-handoff"))
    arrival = stack.sink.wait_for("the page to alice", "/team/alice", probe="before-handoff")
    assert arrival.payload["receiver"] == names + "participant-alice"
    assert not stack.sink.matching("/team/bob", probe="before-handoff")


def test_status_names_the_configmap_and_no_alertmanagerconfig(stack: Stack, team: Handoff):
    kubectl = stack.kubectl
    # relops writes the status after the ConfigMap: once alerts go where it says.
    wait_until("team's status.routing with alice", lambda: status(
        kubectl, "team", stack.tenant).get("routing", {}).get("participant") == "alice",
        timeout=30, interval=0.2)
    routing = status(kubectl, "team", stack.tenant)["routing"]
    assert routing["configMap"] == child("team"), routing
    assert "alertmanagerConfig" not in routing, routing
    assert (routing["receiver"], routing["participant"]) == ("participant-alice", "alice")
    routed = condition(kubectl, "team", stack.tenant, "Routed")
    assert (routed["status"], routed["reason"]) == ("True", "ReceiverInEffect"), routed
    assert f"ConfigMap {child('team')}" in routed["message"], routed
    # By the audit log: whoever serves or does not serve AlertmanagerConfig, relops wrote
    # none in either namespace.
    for namespace in (stack.tenant, stack.other):
        assert not audited_writes(kubectl, namespace, "alertmanagerconfigs", None, "relops")
    served = kubectl.run("api-resources", "--api-group=monitoring.coreos.com",
                         "-o", "name").stdout.split()
    if "alertmanagerconfigs.monitoring.coreos.com" in served:
        for namespace in (stack.tenant, stack.other):
            found = kubectl.run("get", "alertmanagerconfigs", "-n", namespace,
                                "-o", "name").stdout.split()
            assert not found, (namespace, found)
        print("AlertmanagerConfig is served on this cluster: none in the test's namespaces")
    else:
        print("AlertmanagerConfig is not served on this cluster: no objects to list "
              "(the audit log shows relops wrote none)")


def test_other_namespace_falls_to_the_blackhole(stack: Stack, team: Handoff):
    # The same labels as team's pages but from the other namespace; a control page beside it.
    stack.alertmanager.post_alerts(page(stack, "team", "from-other", namespace=stack.other),
                                   page(stack, "team", "control"))
    # Alertmanager is still on the assembly with alice (the test reloads it at the handoff).
    control = stack.sink.wait_for("the control page", "/team/alice", probe="control")
    held = {a["labels"]["probe"]: [r["name"] for r in a["receivers"]]
            for a in stack.alertmanager.alerts()
            if a["labels"].get("probe") in ("from-other", "control")}
    assert held == {"from-other": [BLACKHOLE],
                    "control": [prefix(stack, "team") + "participant-alice"]}, held
    # Past the root route's group wait as well: a stray copy would be here by now.
    time.sleep(1.5)
    assert not stack.sink.matching(probe="from-other"), "the other namespace's page was sent"
    print(f"control page from {stack.tenant} delivered to {control.path}; the same page from "
          f"{stack.other} routed to {BLACKHOLE} only")


def test_receiver_without_a_file_form_stalls(stack: Stack):
    kubectl = stack.kubectl
    name = "sns-pager"
    kubectl.apply(rotation(stack, name, ["erin"], {
        "name": "primary", "members": ["erin"], "start": "2026-01-05T00:00:00",
        "turnLength": "1d"}, {"snsConfigs": [{"topicARN": "arn:aws:sns:eu-west-1:1:x"}]}))

    def stalled_true() -> dict | None:
        found = condition(kubectl, name, stack.tenant, "Stalled")
        return found if found.get("status") == "True" else None
    stalled = wait_until("sns-pager Stalled=True", stalled_true, timeout=30, interval=0.2)
    assert stalled["reason"] == "ReceiverNotPortable", stalled
    assert "snsConfigs" in stalled["message"], stalled

    def warning() -> list[dict]:
        return [e for e in kubectl.get("events.events.k8s.io", namespace=stack.tenant)["items"]
                if e.get("reason") == "ReceiverNotPortable"
                and e.get("regarding", {}).get("name") == name]
    [event] = wait_until("a ReceiverNotPortable Event", warning, timeout=10, interval=0.2)
    assert event["type"] == "Warning", event
    assert "snsConfigs" in event.get("note", ""), event
    assert not kubectl.exists("configmap", child(name), stack.tenant)
    assert not audited_writes(kubectl, stack.tenant, "configmaps", child(name))
    routing = status(kubectl, name, stack.tenant).get("routing")
    print(f"{name}: Stalled {stalled['reason']}: {stalled['message']}; "
          f"status.routing {routing}")


def test_handoff_rewrites_the_configmap_and_pages_move(stack: Stack, team: Handoff):
    kubectl = stack.kubectl
    left = team.instant.timestamp() - time.time()
    version = team.follower.wait_for("team's route to bob", lambda text: routes_to(
        text, stack, "team", "participant-bob"), timeout=max(0.0, left) + ROUTING_BOUND)
    loaded_at = load(stack, version.text)
    stack.alertmanager.post_alerts(page(stack, "team", "after-handoff"))
    arrival = stack.sink.wait_for("a new page to bob", "/team/bob", probe="after-handoff")
    # The page to alice, still firing, follows the on-call person to bob.
    moved = stack.sink.wait_for("the firing page to reach bob after the handoff",
                                "/team/bob", probe="before-handoff")
    routing = status(kubectl, "team", stack.tenant)["routing"]
    assert (routing["participant"], routing["receiver"]) == ("bob", "participant-bob"), routing
    assert routing["configMap"] == child("team"), routing
    assert parse_time(routing["since"]) == team.instant
    handoff = team.instant.timestamp()
    delays = {
        "ConfigMap write": write_delay(kubectl, stack.tenant, "configmaps", child("team"),
                                       team.instant),
        "watch": version.seen_at - handoff,
        "loaded": loaded_at - handoff,
        "new page at bob": arrival.at - handoff,
        "firing page at bob": moved.at - handoff,
    }
    print("handoff -> " + ", ".join(
        f"{k} {v:.2f}s" if v is not None else f"{k} none" for k, v in delays.items()))
    assert delays["ConfigMap write"] is not None, f"no write of {child('team')} after it"
    assert 0 <= delays["ConfigMap write"] <= delays["watch"] < ROUTING_BOUND, delays
    assert 0 < delays["new page at bob"] < ROUTING_BOUND, delays
    assert arrival.payload["receiver"] == prefix(stack, "team") + "participant-bob"
    # relops's handoff notice, posted at the handoff while Alertmanager still had the
    # assembly with alice: the fragment's notice route sends it to bob all the same.
    notice = stack.sink.wait_for("bob's handoff notice", "/team/bob",
                                 alertname="OnCallHandoff", timeout=10)
    print(f"handoff notice at bob {notice.at - handoff:+.2f}s after the handoff")
    time.sleep(1.5)  # past the group wait and interval: a stray copy would be here by now
    assert not stack.sink.matching("/team/alice", probe="after-handoff")
    assert not stack.sink.matching("/team/fallback")
    print(f"rotation made {team.made_at:%H:%M:%S}, handoff {team.instant:%H:%M:%S}, "
          f"now {dt.datetime.now(UTC):%H:%M:%S}")


def test_configmap_written_only_when_the_receiver_changes(stack: Stack, team: Handoff):
    assert dt.datetime.now(UTC) > team.instant, "runs after the handoff test"
    writes = audited_writes(stack.kubectl, stack.tenant, "configmaps", child("team"),
                            "relops")
    # alice at creation, bob at the handoff; none at the notices (posts to Alertmanager).
    assert len(writes) == 2, [f"{w:%H:%M:%S.%f}" for w in writes]
    assert writes[0] < team.instant <= writes[1], writes
    # And the watch saw those two versions only.
    assert len(team.follower.versions) == 2, [v.resource_version for v in team.follower.versions]
    print(f"relops's writes of {child('team')}: " + ", ".join(f"{w:%H:%M:%S.%f}" for w in writes))
