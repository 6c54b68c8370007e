"""OnCallRotation reconciled by `relops run` on the test cluster: a handoff
shows in status and as an Event within 2 s of its instant, a coverage gap is
Covered=False, an override takes effect and expires on time."""

from __future__ import annotations

import datetime as dt
import json
import textwrap
import time

import pytest

from kube import Kubectl, wait_until
from relops_process import calendar_key, free_port, writes_by

UTC = dt.timezone.utc


def parse_time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def status(kubectl: Kubectl, name: str, namespace: str) -> dict:
    return kubectl.get("oncallrotation", name, namespace).get("status", {})


def condition(kubectl: Kubectl, name: str, namespace: str, kind: str) -> dict:
    for c in status(kubectl, name, namespace).get("conditions", []):
        if c["type"] == kind:
            return c
    return {}


def on_call(kubectl: Kubectl, name: str, namespace: str) -> str:
    return status(kubectl, name, namespace).get("onCall", {}).get("participant", "")


def first_write_after(kubectl: Kubectl, namespace: str, instant: dt.datetime, resource: str,
                      subresource: str = "") -> float | None:
    """Seconds from the instant to the first write relops made to the resource at or
    after it, by the API server's audit clock (the test's own polling is no measure)."""
    times = [parse_time(e["requestReceivedTimestamp"]) for e in writes_by(
        kubectl.kubeconfig, "relops", namespace)
        if e["objectRef"].get("resource") == resource
        and e["objectRef"].get("subresource", "") == subresource]
    after = [t for t in times if t >= instant]
    return (min(after) - instant).total_seconds() if after else None


def events(kubectl: Kubectl, namespace: str, reason: str) -> list[dict]:
    items = kubectl.get("events.events.k8s.io", namespace=namespace)["items"]
    return [e for e in items if e.get("reason") == reason]


@pytest.fixture
def relops(namespace: str, crds, operators):
    op = operators("--watch-namespace", namespace)
    return op


def test_handoff_shows_in_status_and_as_an_event_within_two_seconds(
    kubectl: Kubectl, namespace: str, relops
):
    kubectl.apply(textwrap.dedent(f"""\
        apiVersion: relops.dev/v1alpha1
        kind: OnCallRotation
        metadata: {{name: minutes, namespace: {namespace}}}
        spec:
          timeZone: UTC
          participants: [{{name: ana}}, {{name: ben}}]
          layers:
          - {{name: primary, members: [ana, ben], start: "2026-01-01T00:00:00", turnLength: 1m}}
          # A day ahead and behind: minute turns over the default four weeks
          # would be 80,000 shifts to schedule at every handoff.
          horizon: 1d
          fairness: {{lookBack: 1d}}
        """))
    wait_until("Ready", lambda: condition(kubectl, "minutes", namespace, "Ready")
               .get("status") == "True", timeout=60)

    def announced() -> tuple[dt.datetime, str, str]:
        # One read: the next handoff and who is on call until then.
        current = status(kubectl, "minutes", namespace)
        return (parse_time(current["nextHandoff"]["time"]), current["nextHandoff"]["to"],
                current["onCall"]["participant"])

    instant, incoming, outgoing = announced()
    if (instant - dt.datetime.now(UTC)).total_seconds() < 5:  # too close to watch it happen
        wait_until("the following handoff to be announced",
                   lambda: announced()[0] > instant, timeout=90)
        instant, incoming, outgoing = announced()
    assert incoming and outgoing and incoming != outgoing
    time.sleep(max(0.0, (instant - dt.datetime.now(UTC)).total_seconds()))

    wait_until("the incoming person in status", lambda: on_call(
        kubectl, "minutes", namespace) == incoming, timeout=30, interval=0.2)
    note = f"Handoff from {outgoing} to {incoming}"
    wait_until("the Handoff event", lambda: any(
        e.get("note", "").startswith(note) for e in events(kubectl, namespace, "Handoff")),
        timeout=30, interval=0.2)
    status_delay = first_write_after(kubectl, namespace, instant, "oncallrotations", "status")
    event_delay = first_write_after(kubectl, namespace, instant, "events")
    print(f"status {status_delay:.2f}s and event {event_delay:.2f}s after the handoff instant")
    assert status_delay < 2.0
    assert event_delay < 2.0
    # The metric follows: only the incoming person is on call.
    series = dict(namespace=namespace, name="minutes", layer="")
    wait_until("the shift metric to follow", lambda: relops.metric(
        "relops_oncall_shift_info", participant=incoming, **series) == 1, timeout=5)
    assert relops.metric("relops_oncall_shift_info", participant=outgoing, **series) == 0
    # The next handoff is the one after, and only one Event per handoff.
    assert parse_time(status(kubectl, "minutes", namespace)["nextHandoff"]["time"]) > instant
    assert sum(e.get("note", "").startswith(note) for e in
               events(kubectl, namespace, "Handoff")) == 1


def test_gap_is_covered_false_with_the_first_gap(kubectl: Kubectl, namespace: str, relops):
    kubectl.apply(textwrap.dedent(f"""\
        apiVersion: relops.dev/v1alpha1
        kind: OnCallRotation
        metadata: {{name: office-hours, namespace: {namespace}}}
        spec:
          timeZone: Europe/Berlin
          participants: [{{name: ana}}, {{name: ben}}]
          layers:
          - name: primary
            members: [ana, ben]
            start: "2026-01-05T09:00:00"
            turnLength: 1d
            restrictions: [{{from: "09:00", to: "17:00"}}]
        """))
    wait_until("Covered=False", lambda: condition(kubectl, "office-hours", namespace, "Covered")
               .get("status") == "False", timeout=60)
    covered = condition(kubectl, "office-hours", namespace, "Covered")
    gaps = status(kubectl, "office-hours", namespace)["gaps"]
    assert gaps, "status lists no gap"
    assert covered["reason"] == "CoverageGap"
    wait_until("a CoverageGap Warning", lambda: events(kubectl, namespace, "CoverageGap"),
               timeout=10)
    assert events(kubectl, namespace, "CoverageGap")[0]["type"] == "Warning"
    # 16 h a day uncovered: the metric counts the gap seconds in the horizon.
    gap_seconds = relops.metric("relops_oncall_coverage_gap_seconds",
                                namespace=namespace, name="office-hours")
    assert gap_seconds >= 16 * 3600, gap_seconds


def test_override_takes_effect_and_expires(kubectl: Kubectl, namespace: str, relops):
    kubectl.apply(textwrap.dedent(f"""\
        apiVersion: relops.dev/v1alpha1
        kind: OnCallRotation
        metadata: {{name: covered, namespace: {namespace}}}
        spec:
          timeZone: UTC
          participants: [{{name: ana}}, {{name: ben}}, {{name: cai}}]
          layers:
          - {{name: primary, members: [ana, ben], start: "2026-01-05T00:00:00", turnLength: 1w}}
        """))
    wait_until("Ready", lambda: condition(kubectl, "covered", namespace, "Ready")
               .get("status") == "True", timeout=60)
    regular = on_call(kubectl, "covered", namespace)
    assert regular in ("ana", "ben")

    now = dt.datetime.now(UTC).replace(microsecond=0)
    start, end = now + dt.timedelta(seconds=10), now + dt.timedelta(seconds=25)
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    kubectl.run("patch", "oncallrotation", "covered", "-n", namespace, "--type=merge", "-p",
                json.dumps({"spec": {"overrides": [{
                    "participant": "cai", "start": start.strftime(fmt),
                    "end": end.strftime(fmt), "reason": "dentist"}]}}))
    wait_until("the override to take effect", lambda: on_call(kubectl, "covered", namespace)
               == "cai", timeout=60, interval=0.2)
    took_effect = first_write_after(kubectl, namespace, start, "oncallrotations", "status")
    wait_until("the override to expire", lambda: on_call(kubectl, "covered", namespace)
               == regular, timeout=60, interval=0.2)
    expired = first_write_after(kubectl, namespace, end, "oncallrotations", "status")
    print(f"override in status {took_effect:.2f}s after its start, out {expired:.2f}s after its end")
    assert took_effect < 2.0
    assert expired < 2.0


def test_unschedulable_spec_stalls_with_a_reason_and_an_event(
    kubectl: Kubectl, namespace: str, relops
):
    # Shaped like an IANA name, so the schema accepts it; no such zone exists.
    kubectl.apply(textwrap.dedent(f"""\
        apiVersion: relops.dev/v1alpha1
        kind: OnCallRotation
        metadata: {{name: nowhere, namespace: {namespace}}}
        spec:
          timeZone: Mars/Olympus_Mons
          participants: [{{name: ana}}]
          layers:
          - {{name: primary, members: [ana], start: "2026-01-05T09:00:00", turnLength: 1w}}
        """))
    wait_until("Stalled=True", lambda: condition(kubectl, "nowhere", namespace, "Stalled")
               .get("status") == "True", timeout=60)
    stalled = condition(kubectl, "nowhere", namespace, "Stalled")
    assert stalled["reason"] == "UnknownTimeZone"
    assert "Mars/Olympus_Mons" in stalled["message"]
    assert condition(kubectl, "nowhere", namespace, "Ready")["status"] == "False"
    wait_until("a Warning event naming the zone", lambda: any(
        e["type"] == "Warning" and "Mars/Olympus_Mons" in e.get("note", "")
        for e in kubectl.get("events.events.k8s.io", namespace=namespace)["items"]), timeout=10)
    # Stalled is terminal until the spec changes: no retry loop, relops stays up.
    writes = relops.metric("rest_client_requests_total", method="PATCH")
    time.sleep(5)
    assert relops.metric("rest_client_requests_total", method="PATCH") == writes
    assert relops.alive()


def test_calendar_feed_needs_the_token_from_status(
    kubectl: Kubectl, namespace: str, crds, operators, tmp_path
):
    """Feeds are on their own listener; the URL's token is published in the rotation's status;
    a missing or wrong token is the same 404 as a missing rotation; contacts only on opt-in."""
    import icalendar

    port = free_port()
    feeds = operators("--watch-namespace", namespace, "--calendar-bind-address",
                      f"127.0.0.1:{port}", "--calendar-key-file", calendar_key(tmp_path))
    kubectl.apply(textwrap.dedent(f"""\
        apiVersion: relops.dev/v1alpha1
        kind: OnCallRotation
        metadata: {{name: team, namespace: {namespace}}}
        spec:
          timeZone: America/New_York
          participants:
          - {{name: ana, email: ana@example.com, chat: "@ana", pager: PANA}}
          - {{name: ben, email: ben@example.com}}
          layers:
          - {{name: primary, members: [ana, ben], start: "2026-01-05T09:00:00", turnLength: 1d}}
        """))
    wait_until("the feed path in status",
               lambda: status(kubectl, "team", namespace).get("calendarPath"), timeout=60)
    path = status(kubectl, "team", namespace)["calendarPath"]
    prefix = f"/calendars/{namespace}/team/"
    assert path.startswith(prefix) and path.endswith(".ics"), path
    token = path[len(prefix):-len(".ics")]
    assert len(token) == 64

    code, headers, body = feeds.calendar_get(path)
    assert code == 200, (code, body)
    assert headers["Content-Type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(body)
    shifts = [e for e in calendar.walk("VEVENT")]
    # A week back and four weeks ahead of daily turns.
    assert len(shifts) >= 30, len(shifts)
    now = dt.datetime.now(UTC)
    current = [e for e in shifts if e.decoded("DTSTART") <= now < e.decoded("DTEND")]
    assert len(current) == 1
    assert on_call(kubectl, "team", namespace) in str(current[0]["SUMMARY"])
    unfolded = body.replace("\r\n ", "")  # RFC 5545 folds long lines
    for contact in ("ana@example.com", "@ana", "PANA", "ben@example.com"):
        assert contact not in unfolded, contact

    wrong = "0" * 64 if token != "0" * 64 else "1" * 64
    for probe in (f"/calendars/{namespace}/team.ics",           # no token, no bearer
                  f"{prefix}{wrong}.ics",                        # a wrong token
                  f"/calendars/{namespace}/missing/{token}.ics",  # another name, same token
                  f"/calendars/{namespace}/missing.ics"):
        code, _, text = feeds.calendar_get(probe)
        assert (code, text) == (404, "404 page not found\n"), probe
    # Never on the metrics listener.
    assert feeds._get(feeds.metrics_port, path)[0] == 404

    kubectl.run("patch", "oncallrotation", "team", "-n", namespace, "--type=merge",
                "-p", '{"spec": {"calendarFeed": {"includeContacts": true}}}')
    wait_until("contacts after the opt-in",
               lambda: "ana@example.com" in feeds.calendar_get(path)[2].replace("\r\n ", ""),
               timeout=30)
