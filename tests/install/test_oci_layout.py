"""The container image built without a container engine (image/build-oci-layout.sh).

Builds an OCI image layout from the relops binary under test, reads its config with skopeo
(what a registry and a kubelet see) and its layer with Python's tarfile, and runs the binary
with nothing but the image's own shared libraries.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import tarfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent.parent
BUILD = REPO / "image" / "build-oci-layout.sh"
TAG = "test"


@pytest.fixture(scope="module")
def layout(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("oci") / "relops"
    subprocess.run([str(BUILD), os.environ["RELOPS_BINARY"], str(path), TAG],
                   check=True, capture_output=True, text=True, timeout=300)
    return path


def skopeo_config(layout: Path) -> dict:
    return json.loads(subprocess.run(
        ["skopeo", "inspect", "--config", f"oci:{layout}:{TAG}"],
        check=True, capture_output=True, text=True, timeout=60,
    ).stdout)


def layer_members(layout: Path) -> dict[str, tarfile.TarInfo]:
    index = json.loads((layout / "index.json").read_text())
    [manifest_ref] = [m for m in index["manifests"]
                      if m["annotations"]["org.opencontainers.image.ref.name"] == TAG]
    blob = lambda digest: layout / "blobs" / digest.replace(":", "/")  # noqa: E731
    manifest = json.loads(blob(manifest_ref["digest"]).read_text())
    members: dict[str, tarfile.TarInfo] = {}
    for layer in manifest["layers"]:
        assert layer["mediaType"].endswith("tar+gzip"), layer
        with gzip.open(blob(layer["digest"])) as stream, tarfile.open(fileobj=stream) as tar:
            for member in tar.getmembers():
                members[member.name.lstrip("./").rstrip("/")] = member
    return members


def test_config_runs_relops_as_nonroot(layout: Path):
    config = skopeo_config(layout)
    assert config["os"] == "linux"
    assert config["config"]["User"] == "65532:65532"
    assert config["config"]["Entrypoint"] == ["/usr/local/bin/relops", "run"]
    assert "Cmd" not in config["config"] or not config["config"]["Cmd"]
    assert set(config["config"]["ExposedPorts"]) == {"8080/tcp", "8081/tcp"}


def test_layer_holds_binary_zoneinfo_and_ca_bundle(layout: Path):
    members = layer_members(layout)
    binary = members["usr/local/bin/relops"]
    assert binary.isfile() and binary.mode & 0o111 and binary.uid == 0
    for zone in ["America/New_York", "Europe/Berlin", "Asia/Kolkata", "Etc/UTC"]:
        assert members[f"usr/share/zoneinfo/{zone}"].isfile() or \
            members[f"usr/share/zoneinfo/{zone}"].issym(), zone
    assert members["etc/ssl/certs/ca-certificates.crt"].size > 100_000
    assert members["usr/lib/ssl/cert.pem"].linkname == "/etc/ssl/certs/ca-certificates.crt"
    assert members["tmp"].mode & 0o1777 == 0o1777
    # No shell and no package manager: distroless.
    assert not any(name in members for name in ["bin/sh", "usr/bin/sh", "bin/bash", "usr/bin/dpkg"])


def test_passwd_names_nonroot(layout: Path, tmp_path: Path):
    subprocess.run(["umoci", "unpack", "--rootless", "--image", f"{layout}:{TAG}",
                    str(tmp_path / "bundle")], check=True, capture_output=True, timeout=120)
    passwd = (tmp_path / "bundle" / "rootfs" / "etc" / "passwd").read_text()
    assert "nonroot:x:65532:65532:" in passwd


def test_binary_runs_on_the_image_libraries_alone(layout: Path, tmp_path: Path):
    subprocess.run(["umoci", "unpack", "--rootless", "--image", f"{layout}:{TAG}",
                    str(tmp_path / "bundle")], check=True, capture_output=True, timeout=120)
    rootfs = tmp_path / "bundle" / "rootfs"
    [loader] = [p for p in rootfs.glob("lib*/ld-linux*.so*")]
    library_dirs = sorted({str(p.parent) for p in rootfs.glob("**/lib*.so*") if p.is_file()})
    # The image's loader, told to ignore the host's ld.so.cache and search the image first.
    loader_args = [str(loader), "--inhibit-cache", "--library-path", ":".join(library_dirs)]
    binary = str(rootfs / "usr/local/bin/relops")
    listed = subprocess.run([*loader_args, "--list", binary],
                            check=True, capture_output=True, text=True, timeout=30).stdout
    resolved = [line.split("=>")[1].split("(")[0].strip()
                for line in listed.splitlines() if "=>" in line]
    assert resolved, listed
    # Every library comes from the image, none falls back to the host's.
    assert all(path.startswith(str(rootfs)) for path in resolved), listed
    result = subprocess.run([*loader_args, binary, "version"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("relops "), result.stdout
