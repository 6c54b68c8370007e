#!/usr/bin/env bash
# Installs what building and testing relops needs and this machine lacks.
# Idempotent and quiet when everything is already there.
#
# C++ libraries and tools come from Debian's packages; the control-plane test
# binaries are built from Go modules by tests/cluster/binaries.sh.
set -euo pipefail

packages=(
  cmake ninja-build g++ ccache pkg-config
  libboost1.81-dev libssl-dev nlohmann-json3-dev libyaml-cpp-dev libhowardhinnant-date-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  openssl curl clang-format
  prometheus
  prometheus-alertmanager   # the real Alertmanager of the on-call routing e2e test
  lua5.1
  libfaketime   # the calendar SLO e2e test runs relops with its clock set before a period boundary
  chromium-headless-shell fonts-dejavu-core   # renders the report's HTML page in a unit test
  umoci skopeo
  clang libclang-rt-dev   # the fuzz preset: clang and its libFuzzer/sanitizer runtimes
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if ((${#missing[@]} > 0)); then
  echo "install-deps: installing ${missing[*]}" >&2
  sudo=""
  if ((EUID != 0)); then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

if ! command -v go >/dev/null; then
  echo "install-deps: Go is required to build the test control plane (tests/cluster)" >&2
  exit 1
fi
if ! python3 -c 'import pytest' 2>/dev/null; then
  echo "install-deps: installing pytest" >&2
  python3 -m pip install --quiet pytest
fi
# icalendar: the independent parser the on-call ICS check (tests/unit/controllers/oncall) uses.
if ! python3 -c 'import icalendar' 2>/dev/null; then
  echo "install-deps: installing icalendar" >&2
  python3 -m pip install --quiet icalendar
fi
# croniter: the independent cron implementation the DRDrill schedule check
# (tests/unit/controllers/drill) compares the engine with.
if ! python3 -c 'import croniter' 2>/dev/null; then
  echo "install-deps: installing croniter" >&2
  python3 -m pip install --quiet croniter
fi
# pyflakes: tests/check-python.sh (unit.python_names) finds names a test uses but never defines.
if ! python3 -c 'import pyflakes' 2>/dev/null; then
  echo "install-deps: installing pyflakes" >&2
  python3 -m pip install --quiet pyflakes
fi
# PyYAML: tests/argocd/run_health_tests.py reads the Argo CD health test cases and testdata.
if ! python3 -c 'import yaml' 2>/dev/null; then
  echo "install-deps: installing PyYAML" >&2
  python3 -m pip install --quiet PyYAML
fi
