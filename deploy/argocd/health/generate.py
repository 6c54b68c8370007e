#!/usr/bin/env python3
"""Renders relops.dev_<Kind>/health.lua for every relops kind from health.lua.in.

Argo CD needs one self-contained script per kind, so the shared logic lives in one template
and only the kind-specific part differs. `generate.py --check` renders in memory and fails
when a committed script differs (the drift check ctest runs as unit.argocd.health_drift).
"""
import argparse
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
TEMPLATE = HERE / "health.lua.in"

# A DRDrill with spec.suspend: true fires no runs; Argo CD shows it Suspended, as it does a
# suspended CronJob. Stalled still wins: a broken spec needs attention even while suspended.
DRDRILL_CHECKS = """if obj.spec ~= nil and obj.spec.suspend == true then
  hs.status = "Suspended"
  hs.message = "Drill schedule is suspended"
  return hs
end
"""
DRDRILL_PRECEDENCE = "--   2b. spec.suspend: true -> Suspended"

# Kind -> (extra checks after Stalled, extra line in the precedence comment); every other kind
# gets the template alone.
EXTRAS = {
    "DRDrill": (DRDRILL_CHECKS, DRDRILL_PRECEDENCE),
}

sys.path.insert(0, str(HERE.parent.parent))
import kinds  # noqa: E402  (deploy/kinds.py: the kinds, read from crds/)

# One script per kind users write (their objects are what an Application syncs).
KINDS = [k.kind for k in kinds.kinds() if k.written_by_users]


def render(kind: str) -> str:
    checks, precedence = EXTRAS.get(kind, ("", None))
    text = TEMPLATE.read_text()
    text = text.replace("@KIND_CHECKS@\n", checks + "\n" if checks else "")
    text = text.replace("--@KIND_PRECEDENCE@\n", precedence + "\n" if precedence else "")
    return text.replace("@KIND@", kind)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true",
                        help="fail if a committed health.lua differs from the template")
    args = parser.parse_args()
    drifted = []
    for kind in KINDS:
        path = HERE / f"relops.dev_{kind}" / "health.lua"
        wanted = render(kind)
        current = path.read_text() if path.exists() else None
        if current == wanted:
            continue
        if args.check:
            drifted.append(str(path.relative_to(HERE)))
        else:
            path.parent.mkdir(exist_ok=True)
            path.write_text(wanted)
            print(f"wrote {path.relative_to(HERE)}")
    if drifted:
        print("generated Argo CD health checks are out of date: " + ", ".join(drifted)
              + "\nrun: python3 deploy/argocd/health/generate.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
