"""The cron engine against an independent implementation: Python's croniter.

Thousands of random expressions (every field form: *, values, names, ranges,
steps, lists, macros) are evaluated from random instants in several zones,
including the days the clocks change, by croniter and by the engine (through
relops_cron_oracle, named by RELOPS_CRON_ORACLE). Their next fire times must be
the same, with one documented difference:

- A local time repeated by a fall-back change fires once in relops, at its
  first occurrence (the rule OnCallRotation uses); croniter fires it in both
  passes. So croniter's fires during the second pass of a repeated hour are
  dropped before comparing.

Skipped local times (spring forward) agree: both fire once, at the jump.

The generator leaves out two forms croniter (7.0) reads differently from
Kubernetes CronJob, whose reading relops follows; test_croniter_quirks pins them:
- a one-value range `N-N` (croniter fires on every value of the field);
- a day-of-week `*/N`, or a list that names all seven days, beside a restricted
  day-of-month: croniter treats it as unrestricted (only day-of-month counts),
  Kubernetes as restricted (either day counts).

And one DST difference is allowed rather than avoided: croniter fires a skipped
local time at the spring-forward jump for some expressions (a daily 02:30) but
drops it for others (an hourly :37); relops always fires it at the jump. So a
fire of relops that croniter lacks is accepted when it is exactly a jump instant.
"""

from __future__ import annotations

import os
import random
import subprocess
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from croniter import croniter

ZONES = ["UTC", "America/New_York", "Europe/Berlin", "Australia/Sydney",
         "Australia/Lord_Howe", "America/Santiago", "Asia/Kolkata", "Pacific/Chatham"]
# Instants near the changes of 2026 (and a leap year), plus random ones.
ANCHORS = [
    "2026-03-07T12:00:00Z", "2026-03-28T12:00:00Z", "2026-10-24T12:00:00Z",
    "2026-10-31T12:00:00Z", "2026-04-04T00:00:00Z", "2026-10-03T00:00:00Z",
    "2026-09-05T12:00:00Z", "2026-04-05T00:00:00Z", "2028-02-27T00:00:00Z",
    "2026-12-31T20:00:00Z",
]
MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
MACROS = ["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"]
FIRES = 12


def oracle_binary() -> str:
    binary = os.environ.get("RELOPS_CRON_ORACLE")
    if not binary:
        pytest.fail("RELOPS_CRON_ORACLE must name the built relops_cron_oracle (ctest sets it)")
    return binary


def value(rng: random.Random, v: int, first: int, names: list[str] | None) -> str:
    """v as a number, or as its name (names[0] is the value `first`)."""
    if names and rng.random() < 0.4 and 0 <= v - first < len(names):
        name = names[v - first]
        return name if rng.random() < 0.7 else name.lower()
    return str(v)


def item(rng: random.Random, low: int, high: int, names: list[str] | None,
         stepped_star: bool = True) -> str:
    kind = rng.randrange(6)
    if kind == 0:
        return "*"
    if kind == 1 and stepped_star:
        return f"*/{rng.randint(2, max(2, (high - low) // 2))}"
    if kind in (1, 2, 3):
        a, b = sorted(rng.sample(range(low, high + 1), 2))
        text = f"{value(rng, a, low, names)}-{value(rng, b, low, names)}"
        return text + (f"/{rng.randint(1, 5)}" if kind == 3 else "")
    if kind == 4:
        return f"{rng.randint(low, high)}/{rng.randint(1, 10)}"
    return value(rng, rng.randint(low, high), low, names)


def field(rng: random.Random, low: int, high: int, names: list[str] | None = None,
          star: float = 0.3, stepped_star: bool = True) -> str:
    if rng.random() < star:
        return "*"
    items = [item(rng, low, high, names, stepped_star)
             for _ in range(rng.choice([1, 1, 1, 2, 3]))]
    # "*" inside a list means everything; keep lists to restricting items.
    if len(items) > 1:
        items = [i for i in items if i != "*"] or [str(low)]
    return ",".join(items)


def weekdays(text: str) -> set[int]:
    """The days a generated day-of-week field names (the generator's own grammar)."""
    out: set[int] = set()
    for part in text.split(","):
        rng_part, _, step = part.partition("/")
        if rng_part == "*":
            low, high = 0, 6
        else:
            ends = [DAYS.index(x.upper()) if x.upper() in DAYS else int(x)
                    for x in rng_part.split("-")]
            low, high = ends[0], ends[-1] if len(ends) > 1 else (6 if step else ends[0])
        out.update(range(low, high + 1, int(step) if step else 1))
    return {d % 7 for d in out}


def expression(rng: random.Random) -> str:
    if rng.random() < 0.05:
        return rng.choice(MACROS)
    # Day-of-week 7 (Sunday) only as a plain value: croniter reads 7 in ranges
    # the same way, but keep ranges within 0-6 so steps mean the same in both.
    dow = field(rng, 0, 6, DAYS, star=0.6, stepped_star=False)
    while dow != "*" and len(weekdays(dow)) == 7:
        dow = field(rng, 0, 6, DAYS, star=0.6, stepped_star=False)
    return " ".join([
        field(rng, 0, 59, star=0.15),
        field(rng, 0, 23, star=0.4),
        field(rng, 1, 28 if rng.random() < 0.5 else 31, star=0.6),
        field(rng, 1, 12, MONTHS, star=0.7),
        dow,
    ])


def repeated_second_pass(t: datetime) -> bool:
    """t falls in the second pass of a repeated local hour (a fall-back change)."""
    naive = t.replace(tzinfo=None)
    zone = t.tzinfo
    first = naive.replace(tzinfo=zone, fold=0).utcoffset()
    second = naive.replace(tzinfo=zone, fold=1).utcoffset()
    return first != second and t.utcoffset() == second


def is_jump(t: int, zone: str) -> bool:
    """t is the instant a spring-forward change happens in zone."""
    tz = ZoneInfo(zone)
    before = datetime.fromtimestamp(t - 1, tz).utcoffset()
    after = datetime.fromtimestamp(t, tz).utcoffset()
    return after > before


def croniter_fires(expr: str, zone: str, after: datetime, count: int) -> list[int] | None:
    local = after.astimezone(ZoneInfo(zone))
    try:
        it = croniter(expr, local)
    except (ValueError, KeyError):
        return None
    out: list[int] = []
    guard = 0
    while len(out) < count and guard < count * 80:
        guard += 1
        try:
            t = it.get_next(datetime)
        except Exception:  # croniter gives up (no fire within its search limit)
            break
        if repeated_second_pass(t):
            continue
        out.append(int(t.timestamp()))
    return out


def engine_fires(cases: list[tuple[str, str, int]]) -> list[str]:
    lines = "".join(f"{expr}\t{zone}\t{after}\t{FIRES}\n" for expr, zone, after in cases)
    result = subprocess.run([oracle_binary()], input=lines, capture_output=True, text=True,
                            timeout=300, check=True)
    return result.stdout.splitlines()


def random_cases(seed: int, n: int) -> list[tuple[str, str, int]]:
    rng = random.Random(seed)
    cases = []
    for _ in range(n):
        zone = rng.choice(ZONES)
        if rng.random() < 0.6:
            base = datetime.strptime(rng.choice(ANCHORS), "%Y-%m-%dT%H:%M:%SZ")
            base = base.replace(tzinfo=timezone.utc) + timedelta(minutes=rng.randint(-1440, 2880))
        else:
            base = datetime(2025, 1, 1, tzinfo=timezone.utc) + timedelta(
                seconds=rng.randint(0, 5 * 365 * 86400))
        base += timedelta(seconds=rng.choice([0, 0, 1, 29, 59]))
        cases.append((expression(rng), zone, int(base.timestamp())))
    return cases


@pytest.mark.parametrize("seed", range(6))
def test_next_fire_times_match_croniter(seed: int):
    cases = random_cases(seed, 500)
    ours = engine_fires(cases)
    assert len(ours) == len(cases)
    compared = 0
    mismatches = []
    for (expr, zone, after), line in zip(cases, ours):
        assert not line.startswith("error:"), f"{expr!r} in {zone}: {line}"
        theirs = croniter_fires(expr, zone, datetime.fromtimestamp(after, timezone.utc), FIRES)
        if theirs is None:
            mismatches.append(f"croniter refused {expr!r}, relops accepted it")
            continue
        mine = [int(x) for x in line.split()]
        if len(mine) < FIRES or len(theirs) < FIRES:
            same = mine == theirs
        else:
            # Compare up to the earlier of the two last fires; relops may have
            # extra fires at spring-forward jumps (see the module docstring).
            horizon = min(mine[-1], theirs[-1])
            ours_set = {t for t in mine if t <= horizon}
            theirs_set = {t for t in theirs if t <= horizon}
            extra = ours_set - theirs_set
            same = theirs_set <= ours_set and all(is_jump(t, zone) for t in extra)
        n = min(len(mine), len(theirs))
        if not same:
            def show(xs):
                return [datetime.fromtimestamp(x, ZoneInfo(zone)).isoformat() for x in xs[:n + 1]]
            mismatches.append(f"{expr!r} in {zone} after {after}: relops {show(mine)} "
                              f"croniter {show(theirs)}")
        compared += 1
    assert not mismatches, f"{len(mismatches)} of {len(cases)} differ:\n" + "\n".join(
        mismatches[:20])
    assert compared == len(cases)


def test_both_refuse_what_is_not_cron():
    bad = ["61 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *", "* * * * 8",
           "* * * * MON,FUNDAY", "*/0 * * * *", "0 0 * * 5-2x", "0 0 1 JANUARY *"]
    ours = engine_fires([(expr, "UTC", 1767225600) for expr in bad])
    for expr, line in zip(bad, ours):
        assert line.startswith("error:"), f"relops accepted {expr!r}: {line}"
        with pytest.raises((ValueError, KeyError)):
            croniter(expr, datetime(2026, 1, 1, tzinfo=timezone.utc)).get_next(datetime)


def test_fall_back_difference_is_the_documented_one():
    # 01:30 New York on 1 November 2026: croniter fires at 01:30 EDT and 01:30
    # EST; relops once, at 01:30 EDT.
    after = int(datetime(2026, 10, 31, 12, tzinfo=timezone.utc).timestamp())
    ours = [int(x) for x in engine_fires([("30 1 * * *", "America/New_York", after)])[0].split()]
    it = croniter("30 1 * * *", datetime.fromtimestamp(after, ZoneInfo("America/New_York")))
    theirs = [int(it.get_next(datetime).timestamp()) for _ in range(3)]
    assert theirs[1] - theirs[0] == 3600  # the same local time, twice
    assert ours[0] == theirs[0]
    assert ours[1] == theirs[2]


def test_croniter_quirks_left_out_of_the_comparison():
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)  # a Thursday

    def theirs(expr: str) -> list[str]:
        it = croniter(expr, start)
        return [it.get_next(datetime).isoformat() for _ in range(3)]

    def ours(expr: str) -> list[str]:
        line = engine_fires([(expr, "UTC", int(start.timestamp()))])[0]
        return [datetime.fromtimestamp(int(x), timezone.utc).isoformat()
                for x in line.split()[:3]]

    # A one-value range: relops fires at 06:00 only, croniter every hour.
    assert ours("0 6-6 * * *")[:2] == ["2026-01-01T06:00:00+00:00", "2026-01-02T06:00:00+00:00"]
    assert theirs("0 6-6 * * *")[:2] == ["2026-01-01T01:00:00+00:00", "2026-01-01T02:00:00+00:00"]
    # Day-of-week */3 (Sun, Wed, Sat) with day-of-month 1-31: Kubernetes reads both as
    # restricted, so every day fires; croniter reads */3 as unrestricted.
    assert ours("0 0 1-31 * */3")[:2] == ["2026-01-02T00:00:00+00:00",
                                         "2026-01-03T00:00:00+00:00"]
    assert theirs("0 0 1-31 * */3")[:2] == ["2026-01-03T00:00:00+00:00",
                                           "2026-01-04T00:00:00+00:00"]
