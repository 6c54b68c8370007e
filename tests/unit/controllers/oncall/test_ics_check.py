"""An independent check of `relops oncall schedule --format ics`.

Python's icalendar library (not relops's own code) parses the feed, and its
events must be exactly the shifts that `--format json` reports. Runs the built
binary named by RELOPS_BINARY; needs no cluster.
"""

from __future__ import annotations

import json
import os
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pytest
from icalendar import Calendar

SOURCE = Path(os.environ.get("RELOPS_SOURCE_DIR", Path(__file__).resolve().parents[3]))
EXAMPLES = SOURCE / "crds" / "examples"


def relops(*args: str) -> str:
    binary = os.environ.get("RELOPS_BINARY")
    if not binary:
        pytest.fail("RELOPS_BINARY must name the built relops binary (ctest sets it)")
    result = subprocess.run(
        [binary, "oncall", *args], capture_output=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout.decode("utf-8")


def utc(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


CASES = [
    # The March change in New York, an override and a weekend layer.
    ("oncallrotation-payments.yaml", "2026-03-01T00:00:00", "2026-03-22T00:00:00"),
    # The November change.
    ("oncallrotation-payments.yaml", "2026-10-25T00:00:00", "2026-11-08T00:00:00"),
    # Overnight restrictions and gaps in Berlin across the March change.
    ("oncallrotation-follow-the-sun.yaml", "2026-03-23T00:00:00", "2026-04-06T00:00:00"),
    ("oncallrotation-minimal.yaml", "2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z"),
]


@pytest.mark.parametrize("example,start,end", CASES)
def test_ics_events_match_json_shifts(example: str, start: str, end: str):
    path = str(EXAMPLES / example)
    window = ["-f", path, "--from", start, "--to", end]
    shifts = json.loads(relops("schedule", *window, "--format", "json"))["shifts"]
    raw = relops("schedule", *window, "--format", "ics")

    # RFC 5545: CRLF everywhere, content lines at most 75 octets.
    assert "\n" not in raw.replace("\r\n", "")
    for line in raw.encode("utf-8").split(b"\r\n"):
        assert len(line) <= 75, line

    calendar = Calendar.from_ical(raw)
    assert str(calendar["VERSION"]) == "2.0"
    assert calendar.get("PRODID")
    events = calendar.walk("VEVENT")
    assert len(events) == len(shifts) > 0

    uids = set()
    for event, shift in zip(events, shifts):
        assert event.decoded("DTSTART") == utc(shift["start"])
        assert event.decoded("DTEND") == utc(shift["end"])
        assert event.decoded("DTSTART").tzinfo is not None
        summary = str(event["SUMMARY"])
        assert summary.endswith(f"({shift['layer']})"), summary
        description = str(event["DESCRIPTION"])
        assert f"Participant: {shift['participant']}" in description
        assert event.get("DTSTAMP") is not None
        uids.add(str(event["UID"]))
    assert len(uids) == len(events), "UIDs must be unique"


def test_uids_are_stable_between_runs_and_windows():
    path = str(EXAMPLES / "oncallrotation-payments.yaml")
    first = Calendar.from_ical(
        relops("schedule", "-f", path, "--from", "2026-03-01T00:00:00",
               "--to", "2026-03-15T00:00:00", "--format", "ics"))
    second = Calendar.from_ical(
        relops("schedule", "-f", path, "--from", "2026-03-01T00:00:00",
               "--to", "2026-03-22T00:00:00", "--format", "ics"))
    # Every shift wholly inside both windows keeps its UID.
    inner = {str(e["UID"]): e.decoded("DTEND") for e in first.walk("VEVENT")}
    outer = {str(e["UID"]): e.decoded("DTEND") for e in second.walk("VEVENT")}
    cutoff = utc("2026-03-15T04:00:00Z")
    for uid, end in inner.items():
        if end < cutoff:
            assert uid in outer and outer[uid] == end


def test_escaped_text_round_trips(tmp_path: Path):
    rotation = tmp_path / "rotation.yaml"
    rotation.write_text(
        "apiVersion: relops.dev/v1alpha1\n"
        "kind: OnCallRotation\n"
        "metadata: {name: escapes}\n"
        "spec:\n"
        "  timeZone: UTC\n"
        "  participants:\n"
        "    - name: a\n"
        "      displayName: 'Ada, Lovelace; \\ the first — programmer with a long name'\n"
        "  layers:\n"
        "    - {name: primary, members: [a], start: '2026-01-01T00:00:00', turnLength: 1d}\n",
        encoding="utf-8",
    )
    raw = relops("schedule", "-f", str(rotation), "--from", "2026-01-01T00:00:00Z",
                 "--to", "2026-01-02T00:00:00Z", "--format", "ics")
    for line in raw.encode("utf-8").split(b"\r\n"):
        assert len(line) <= 75
    (event,) = Calendar.from_ical(raw).walk("VEVENT")
    assert str(event["SUMMARY"]) == (
        "On call: Ada, Lovelace; \\ the first — programmer with a long name (primary)"
    )
