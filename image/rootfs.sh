#!/usr/bin/env bash
# Lays out the root filesystem of the relops image: what a distroless base holds and relops
# needs, nothing else (no shell, no package manager).
#
#   image/rootfs.sh BINARY DEST
#
# - BINARY at /usr/local/bin/relops, debug symbols stripped;
# - the shared libraries it loads, found by ldd, at the paths the loader looks in, with the
#   copyright files of the Debian packages they come from;
# - the zone database (/usr/share/zoneinfo, tzdata): OnCallRotation and DRDrill schedules are
#   computed in IANA zones, and Debian's date/tz library reads the system database;
# - the CA bundle (ca-certificates) where OpenSSL looks (/usr/lib/ssl/cert.pem, certs/);
# - /etc/passwd and /etc/group with `nonroot` (65532), /etc/nsswitch.conf, /etc/localtime (UTC)
#   and a sticky /tmp, as distroless has them.
# Used by the Dockerfile and by image/build-oci-layout.sh, so both images are the same.
set -euo pipefail

if (($# != 2)); then
  echo "usage: $0 BINARY DEST" >&2
  exit 64
fi
binary="$1"
dest="$2"
for file in "$binary" /usr/share/zoneinfo/UTC /etc/ssl/certs/ca-certificates.crt; do
  if [[ ! -e "$file" ]]; then
    echo "rootfs: $file is missing (install the Debian packages tzdata and ca-certificates)" >&2
    exit 1
  fi
done

mkdir -p "$dest"/{usr/local/bin,usr/share/doc,etc/ssl/certs,usr/lib/ssl,tmp}
chmod 1777 "$dest/tmp"
strip --strip-debug -o "$dest/usr/local/bin/relops" "$binary"
chmod 0755 "$dest/usr/local/bin/relops"

# Every library ldd resolves ("name => /path (addr)") and the loader ("/lib64/ld-... (addr)").
libraries="$(ldd "$binary" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}')"
if [[ "$(ldd "$binary")" == *"not found"* ]]; then
  echo "rootfs: ldd cannot resolve every library of $binary" >&2
  exit 1
fi
for library in $libraries; do
  mkdir -p "$dest$(dirname "$library")"
  cp -L "$library" "$dest$library"
  # Licences travel with the libraries, as in distroless.
  # dpkg knows a file by the path its package ships it at: before or after merged /usr.
  package="$( (dpkg -S "$library" || dpkg -S "$(readlink -f "$library")") 2>/dev/null |
    head -1 | cut -d: -f1)" || true
  if [[ -n "$package" && -f "/usr/share/doc/$package/copyright" ]]; then
    mkdir -p "$dest/usr/share/doc/$package"
    cp "/usr/share/doc/$package/copyright" "$dest/usr/share/doc/$package/copyright"
  fi
done

cp -a /usr/share/zoneinfo "$dest/usr/share/zoneinfo"
mkdir -p "$dest/usr/share/doc/tzdata" "$dest/usr/share/doc/ca-certificates"
cp /usr/share/doc/tzdata/copyright "$dest/usr/share/doc/tzdata/copyright"
cp /usr/share/doc/ca-certificates/copyright "$dest/usr/share/doc/ca-certificates/copyright"
ln -sfn /usr/share/zoneinfo/Etc/UTC "$dest/etc/localtime"

cp -L /etc/ssl/certs/ca-certificates.crt "$dest/etc/ssl/certs/ca-certificates.crt"
ln -sfn /etc/ssl/certs/ca-certificates.crt "$dest/usr/lib/ssl/cert.pem"
ln -sfn /etc/ssl/certs "$dest/usr/lib/ssl/certs"

cat >"$dest/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
PASSWD
cat >"$dest/etc/group" <<'GROUP'
root:x:0:
nogroup:x:65534:
nonroot:x:65532:
GROUP
echo "hosts: files dns" >"$dest/etc/nsswitch.conf"
mkdir -p "$dest/home/nonroot"
chmod 0755 "$dest/home/nonroot"
