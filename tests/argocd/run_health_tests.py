#!/usr/bin/env python3
"""Runs the Argo CD health checks in deploy/argocd/health the way Argo CD tests its own
resource_customizations: for each relops.dev_<Kind>/health_test.yaml case, load
testdata/<case>.yaml as the global `obj`, run health.lua under Lua 5.1 (Argo CD embeds
gopher-lua, a Lua 5.1) and compare the returned status and message.

Usage: run_health_tests.py [--lua lua5.1] [HEALTH_DIR]
Fails (never skips) when the interpreter is missing: install Debian's lua5.1
(tests/install-deps.sh does).
"""
import argparse
import pathlib
import shutil
import subprocess
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
KINDS = ["ServiceLevelObjective", "ErrorBudgetPolicy", "OnCallRotation", "DRDrill"]


class KubernetesLoader(yaml.SafeLoader):
    """Like the API server's JSON: timestamps stay strings (PyYAML would make datetimes)."""


KubernetesLoader.add_constructor("tag:yaml.org,2002:timestamp",
                                 yaml.SafeLoader.construct_yaml_str)


def luaString(text: str) -> str:
    out = []
    for byte in text.encode("utf-8"):
        char = chr(byte)
        if char in '"\\':
            out.append("\\" + char)
        elif 32 <= byte < 127:
            out.append(char)
        else:
            out.append("\\%d" % byte)  # Lua 5.1 decimal escape
    return '"' + "".join(out) + '"'


def luaValue(value) -> str:
    """A Lua table constructor for a JSON-shaped value, as gopher-lua sees decoded JSON."""
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return luaString(value)
    if isinstance(value, list):
        return "{" + ", ".join(luaValue(item) for item in value) + "}"
    if isinstance(value, dict):
        return "{" + ", ".join("[%s] = %s" % (luaString(str(key)), luaValue(item))
                               for key, item in value.items()) + "}"
    raise TypeError(f"cannot express {type(value).__name__} in Lua")


# obj is a global, as in Argo CD; the check's return value is printed as two lines.
HARNESS = """
obj = {obj}
local check, loadError = loadfile({script})
if check == nil then error(loadError) end
local hs = check()
if type(hs) ~= "table" then error("health.lua returned " .. type(hs) .. ", not a table") end
io.write(tostring(hs.status), "\\n", tostring(hs.message), "\\n")
"""


def runCase(lua: str, script: pathlib.Path, obj) -> tuple[str, str]:
    program = HARNESS.format(obj=luaValue(obj), script=luaString(str(script)))
    result = subprocess.run([lua, "-"], input=program, capture_output=True, text=True,
                            timeout=30)
    if result.returncode != 0:
        raise RuntimeError(f"lua failed ({result.returncode}): {result.stderr.strip()}")
    lines = result.stdout.split("\n")
    return lines[0], lines[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lua", default="lua5.1")
    parser.add_argument("health_dir", nargs="?", default=ROOT / "deploy/argocd/health",
                        type=pathlib.Path)
    args = parser.parse_args()

    lua = shutil.which(args.lua)
    if lua is None:
        print(f"FAIL: {args.lua} not found; install the Debian package lua5.1 "
              "(tests/install-deps.sh)", file=sys.stderr)
        return 1

    failures = 0
    total = 0
    for kind in KINDS:
        directory = args.health_dir / f"relops.dev_{kind}"
        script = directory / "health.lua"
        testFile = directory / "health_test.yaml"
        for path in (script, testFile):
            if not path.is_file():
                print(f"FAIL {kind}: missing {path}", file=sys.stderr)
                failures += 1
        if not script.is_file() or not testFile.is_file():
            continue
        cases = (yaml.safe_load(testFile.read_text()) or {}).get("tests") or []
        if not cases:
            print(f"FAIL {kind}: no cases in {testFile}", file=sys.stderr)
            failures += 1
        listed = set()
        for case in cases:
            total += 1
            inputPath = case["inputPath"]
            listed.add(pathlib.PurePosixPath(inputPath).name)
            wanted = case["healthStatus"]
            label = f"{kind} {inputPath}"
            try:
                obj = yaml.load((directory / inputPath).read_text(), Loader=KubernetesLoader)
                status, message = runCase(lua, script, obj)
            except Exception as error:  # report every case, then fail
                print(f"FAIL {label}: {error}", file=sys.stderr)
                failures += 1
                continue
            if status != wanted["status"] or message != wanted.get("message", ""):
                print(f"FAIL {label}\n  want {wanted['status']}: {wanted.get('message', '')!r}"
                      f"\n  got  {status}: {message!r}", file=sys.stderr)
                failures += 1
            else:
                print(f"ok   {label}: {status}")
        # A testdata file no case lists is a test that silently never runs.
        for orphan in sorted(p.name for p in (directory / "testdata").glob("*.yaml")):
            if orphan not in listed:
                print(f"FAIL {kind}: testdata/{orphan} is not listed in health_test.yaml",
                      file=sys.stderr)
                failures += 1

    print(f"{total} cases, {failures} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
