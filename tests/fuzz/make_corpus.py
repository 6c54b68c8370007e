#!/usr/bin/env python3
"""Seed corpora and dictionaries for the libFuzzer targets in this folder.

Each target's corpus directory gets the committed seeds (seeds/<target>/) and the
examples in crds/examples/ written in that target's input format; each dictionary
lists the field names and enum values of the CRDs. libFuzzer adds what it finds to
the same directories, so later runs start from there (seed files are rewritten,
found ones are kept).
"""
import argparse
import json
import pathlib
import shutil

import yaml

# Which CRD describes the input of which target.
CRD_OF_TARGET = {
    "slo": "relops.dev_servicelevelobjectives.yaml",
    "policy": "relops.dev_errorbudgetpolicies.yaml",
    "changewindow": "relops.dev_changewindows.yaml",
    "oncall": "relops.dev_oncallrotations.yaml",
    "drill": "relops.dev_drdrills.yaml",
    "watch_stream": "relops.dev_servicelevelobjectives.yaml",
    "yaml_json": "relops.dev_oncallrotations.yaml",
    "report": "relops.dev_servicelevelobjectives.yaml",
}
# Targets whose input no CRD describes: the words of their grammar.
WORDS_OF_TARGET = {
    "kubeconfig": ["apiVersion", "kind", "Config", "clusters", "cluster", "server", "users",
                   "user", "contexts", "context", "current-context", "namespace", "name",
                   "certificate-authority", "certificate-authority-data", "client-certificate",
                   "client-certificate-data", "client-key", "client-key-data", "token",
                   "tokenFile", "username", "password", "exec", "command", "args", "env",
                   "installHint", "provideClusterInfo", "interactiveMode",
                   "insecure-skip-tls-verify", "tls-server-name", "auth-provider",
                   "client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1",
                   "https://", "http://", "IfAvailable", "Never", "Always"],
    "cron": ["*", "/", "-", ",", "@yearly", "@annually", "@monthly", "@weekly", "@daily",
             "@midnight", "@hourly", "JAN", "FEB", "DEC", "SUN", "MON", "SAT", "TZ=", "CRON_TZ=",
             "UTC", "America/New_York", "Europe/London", "Australia/Lord_Howe"],
    "units": ["s", "m", "h", "d", "w", ".", "-", "+", "Z", "T", ":", "e", "9999", "2026-03-08",
              "T02:30:00", "+05:45", "America/", "Etc/GMT+", "posixrules", "../"],
}
TARGETS = ["watch_stream", "kubeconfig", "slo", "policy", "changewindow", "oncall", "drill", "cron",
           "units", "yaml_json", "report"]


def schema_tokens(schema, tokens):
    """Property names and enum values of an OpenAPI schema, recursively."""
    if isinstance(schema, dict):
        for name, sub in schema.get("properties", {}).items():
            tokens.add(json.dumps(name))
            schema_tokens(sub, tokens)
        for value in schema.get("enum", []):
            tokens.add(json.dumps(value))
        for key in ("items", "additionalProperties"):
            if isinstance(schema.get(key), dict):
                schema_tokens(schema[key], tokens)


def dictionary(crd_path):
    crd = yaml.safe_load(crd_path.read_text())
    tokens = set()
    for version in crd["spec"]["versions"]:
        schema_tokens(version["schema"]["openAPIV3Schema"], tokens)
    # libFuzzer's dictionary syntax: one quoted token per line, escapes as in C.
    lines = []
    for token in sorted(tokens):
        escaped = token.replace("\\", "\\\\").replace('"', '\\"')
        lines.append(f'"{escaped}"')
    return "\n".join(lines) + "\n"


def examples(source):
    """(file stem, object) for every document in crds/examples/."""
    for path in sorted((source / "crds" / "examples").glob("*.yaml")):
        for index, document in enumerate(yaml.safe_load_all(path.read_text())):
            if document:
                yield f"{path.stem}-{index}", document


def write_seed(directory, name, content):
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"seed-{name}").write_bytes(content if isinstance(content, bytes) else
                                             content.encode())


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--source", type=pathlib.Path, required=True, help="the repository")
    parser.add_argument("--out", type=pathlib.Path, required=True, help="corpus root")
    args = parser.parse_args()
    here = pathlib.Path(__file__).resolve().parent

    for target in TARGETS:
        directory = args.out / target
        directory.mkdir(parents=True, exist_ok=True)
        committed = here / "seeds" / target
        if committed.is_dir():
            for seed in sorted(committed.iterdir()):
                shutil.copyfile(seed, directory / f"seed-{seed.name}")
        crd = CRD_OF_TARGET.get(target)
        if crd:
            text = dictionary(args.source / "crds" / crd)
        else:
            text = "".join(f"{json.dumps(word)}\n" for word in WORDS_OF_TARGET[target])
        (args.out / f"{target}.dict").write_text(text)

    kinds = {"ServiceLevelObjective": "slo", "ErrorBudgetPolicy": "policy",
             "ChangeWindow": "changewindow"}
    for name, document in examples(args.source):
        kind = document.get("kind")
        if kind in kinds:
            write_seed(args.out / kinds[kind], name, json.dumps(document))
        if kind == "OnCallRotation":
            write_seed(args.out / "oncall", name, json.dumps({"spec": document.get("spec")}))
        if kind == "DRDrill":
            spec = document.get("spec", {})
            write_seed(args.out / "drill", name, json.dumps({"spec": spec}))
            write_seed(args.out / "cron", name,
                       f'{spec.get("schedule", "")}\n{spec.get("timeZone", "UTC")}')
        # A watch stream delivering the example, split into chunks of 7 bytes (first byte).
        event = json.dumps({"type": "ADDED", "object": document}, separators=(",", ":"))
        write_seed(args.out / "watch_stream", name, b"\x06" + event.encode() + b"\n")
        write_seed(args.out / "yaml_json", name, yaml.safe_dump(document))
    for path in sorted((args.source / "crds" / "examples").glob("*.yaml")):
        write_seed(args.out / "yaml_json", f"file-{path.stem}", path.read_bytes())
    # The report's recorded cluster state (every kind, every status field it reads), and the
    # examples as one List.
    recorded = args.source / "tests" / "unit" / "app" / "report" / "testdata" / "cluster.json"
    write_seed(args.out / "report", "recorded", recorded.read_bytes())
    write_seed(args.out / "report", "examples",
               json.dumps({"items": [document for _, document in examples(args.source)]}))


if __name__ == "__main__":
    main()
