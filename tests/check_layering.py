#!/usr/bin/env python3
"""The fences of relops's layout, checked on every C++ file's project includes.

1. The framework (operator/) includes nothing from the kinds (controllers/) or the
   application (app/).
2. A kind (controllers/<kind>/) includes nothing from another kind's folder and nothing
   from app/; what kinds share lives in controllers/common/.
3. controllers/common/ includes only itself and operator/base/.
4. A kind's pure logic — the sources of its `relops_<kind>_logic` library and every project
   header they reach — includes nothing from the Kubernetes client, the runtime or the
   server (operator/kube/, operator/runtime/, operator/server/): only operator/base/,
   controllers/common/ and its own folder.
5. The report (app/report/) is pure too: it includes only itself, controllers/common/ and
   operator/base/, so the CLI and the operator's endpoint render the same objects the same way
   and the report never reaches the client, the runtime or the server.

`check_layering.py ROOT` prints each violation with the chain of includes that leads to it
and exits 1 if there is any. `--self-test` plants one bad include per rule in a copy of the
tree and fails unless each is reported, and unless the untouched copy passes.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
from pathlib import Path

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.MULTILINE)
SOURCE_DIRS = ("app", "controllers", "operator")
FRAMEWORK_ONLY = ("operator/kube/", "operator/runtime/", "operator/server/")


def project_includes(root: Path, path: Path) -> list[str]:
    """The includes of `path` that name a file of the project (relative to the root)."""
    text = path.read_text(errors="replace")
    return [name for name in INCLUDE.findall(text) if (root / name).is_file()]


def kind_of(relative: str) -> str | None:
    parts = relative.split("/")
    return parts[1] if parts[0] == "controllers" and len(parts) > 2 else None


def logic_sources(root: Path) -> list[str]:
    """The sources of every controllers/<kind>/ relops_<kind>_logic library."""
    sources: list[str] = []
    for cmake in sorted((root / "controllers").glob("*/CMakeLists.txt")):
        kind = cmake.parent.name
        match = re.search(r"add_library\(\s*relops_\w+_logic\b([^)]*)\)", cmake.read_text())
        if not match:
            continue
        for word in match.group(1).split():
            if word.endswith(".cpp"):
                sources.append(f"controllers/{kind}/{word}")
    return sources


def check(root: Path) -> list[str]:
    problems: list[str] = []
    files = sorted(
        str(path.relative_to(root))
        for directory in SOURCE_DIRS if (root / directory).is_dir()
        for path in (root / directory).rglob("*")
        if path.suffix in (".h", ".cpp"))
    includes = {name: project_includes(root, root / name) for name in files}

    for name in files:
        kind = kind_of(name)
        for target in includes[name]:
            if name.startswith("operator/") and target.startswith(("controllers/", "app/")):
                problems.append(f"{name}: the framework includes {target}")
            if name.startswith("controllers/"):
                if target.startswith("app/"):
                    problems.append(f"{name}: a kind includes the application's {target}")
                other = kind_of(target)
                if kind not in (None, "common") and other not in (None, "common", kind):
                    problems.append(f"{name}: kind {kind} includes kind {other}'s {target}")
            if name.startswith("app/report/") and not target.startswith(
                    ("app/report/", "controllers/common/", "operator/base/")):
                problems.append(f"{name}: the report includes {target}")
            if name.startswith("controllers/common/") and not target.startswith(
                    ("controllers/common/", "operator/base/")):
                problems.append(f"{name}: common code includes {target}")

    # Pure logic: follow project includes from each logic source, outside-in.
    for source in logic_sources(root):
        if source not in includes:
            problems.append(f"{source}: listed in a logic library but not found")
            continue
        kind = kind_of(source)
        chains = {source: [source]}
        pending = [source]
        while pending:
            current = pending.pop()
            for target in includes.get(current, []):
                if target in chains:
                    continue
                chains[target] = chains[current] + [target]
                allowed = target.startswith(
                    ("operator/base/", "controllers/common/", f"controllers/{kind}/"))
                if target.startswith(FRAMEWORK_ONLY) or not allowed:
                    problems.append(f"{source}: pure logic reaches {target} via "
                                    + " -> ".join(chains[target]))
                    continue
                pending.append(target)
    return sorted(set(problems))


def plant(root: Path, file: str, include: str) -> None:
    path = root / file
    text = path.read_text()
    path.write_text(f'#include "{include}"\n' + text)


def self_test(root: Path) -> int:
    logic = logic_sources(root)
    if not logic:
        print("self-test: no logic library found")
        return 1
    kinds = sorted({kind_of(source) for source in logic} - {None})
    first, second = kinds[0], kinds[1]
    common = sorted((root / "controllers" / "common").glob("*.h"))
    plants = [
        ("framework includes a kind", "operator/runtime/manager.h",
         next(str(p.relative_to(root)) for p in sorted((root / "controllers" / first).glob("*.h")))),
        ("framework includes the application", "operator/runtime/manager.h", "app/kinds.h"),
        ("kind includes another kind", logic[-1].replace(".cpp", ".h")
         if (root / logic[-1].replace(".cpp", ".h")).is_file() else logic[-1],
         next(str(p.relative_to(root)) for p in sorted(
             (root / "controllers" / (second if kind_of(logic[-1]) == first else first))
             .glob("*.h")))),
        ("kind includes the application", logic[0], "app/kinds.h"),
        ("pure logic includes the client", logic[0], "operator/kube/client.h"),
        ("pure logic includes the runtime", logic[-1], "operator/runtime/manager.h"),
        ("pure logic includes the server", logic[0], "operator/server/http_server.h"),
    ]
    if common:
        plants.append(("common includes a kind", str(common[0].relative_to(root)),
                       next(str(p.relative_to(root)) for p in sorted(
                           (root / "controllers" / first).glob("*.h")))))
    if (root / "app" / "report" / "report.h").is_file():
        plants.append(("report includes the client", "app/report/report.h",
                       "operator/kube/client.h"))
        plants.append(("report includes a kind", "app/report/report.h",
                       next(str(p.relative_to(root)) for p in sorted(
                           (root / "controllers" / first).glob("*.h")))))
    failures = 0
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "tree"
        for directory in SOURCE_DIRS:
            shutil.copytree(root / directory, copy / directory)
        baseline = check(copy)
        if baseline:
            print("self-test: the unplanted tree already fails:\n  " + "\n  ".join(baseline))
            return 1
        for what, file, include in plants:
            planted = Path(scratch) / what.replace(" ", "-")
            shutil.copytree(copy, planted)
            plant(planted, file, include)
            found = [p for p in check(planted) if file in p and include in p]
            print(f"{'caught' if found else 'MISSED'}: {what} ({file} includes {include})")
            failures += not found
    return 1 if failures else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--self-test", action="store_true")
    args = parser.parse_args()
    if args.self_test:
        return self_test(args.root)
    problems = check(args.root)
    for problem in problems:
        print(problem)
    print(f"{len(problems)} layering violations" if problems else "layering holds")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
