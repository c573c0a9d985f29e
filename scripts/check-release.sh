#!/usr/bin/env bash
# Checks that a release archive runs on a clean Debian with no Rust: makes (once, cached) a
# minimal Debian 12 root file system with debootstrap, unpacks the archive there after checking
# it against SHA256SUMS, and runs it inside the chroot: --version, sandbox generate, detect,
# validate and run of an intent on a file. Needs root and debootstrap (Debian package).
# Usage: scripts/check-release.sh [DIST]   (default DIST: dist, as scripts/release.sh writes)
set -euo pipefail
cd "$(dirname "$0")/.."
dist=${1:-dist}
root=${AI4ICT_CHROOT:-$HOME/.cache/ai4ict/debian-12-minbase}

archive=$(ls "$dist"/ai4ict-*.tar.gz 2>/dev/null | head -n 1)
[ -n "$archive" ] || { echo "check-release.sh: no archive in $dist: run scripts/release.sh" >&2; exit 2; }
(cd "$dist" && sha256sum --check --quiet SHA256SUMS)
command -v debootstrap >/dev/null || { echo "check-release.sh: apt-get install debootstrap" >&2; exit 2; }

if [ ! -x "$root/bin/bash" ]; then
    echo "check-release.sh: making a minimal Debian 12 in $root (once)"
    mkdir -p "$root"
    debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian >/dev/null
fi
if chroot "$root" sh -c 'command -v cargo || command -v rustc || ls /root/.cargo' >/dev/null 2>&1; then
    echo "check-release.sh: $root has Rust in it: not a clean system" >&2
    exit 1
fi

work=$root/tmp/ai4ict-check
rm -rf "$work" && mkdir -p "$work"
tar -C "$work" -xzf "$archive" --strip-components=1
cp docs/examples/my-cells.yaml "$work/"
run() { echo "+ $*"; chroot "$root" env -i HOME=/tmp PATH=/usr/bin:/bin sh -c "cd /tmp/ai4ict-check && $*"; }
run ./ai4ict --version
run ./ai4ict sandbox generate --cells 50 --days 14 --out oss-export --quiet
run ./ai4ict detect --input oss-export/telemetry.csv --out detect > /dev/null
run ./ai4ict validate my-cells.yaml
run ./ai4ict run my-cells.yaml --quiet --no-hub
echo "check-release.sh: $(basename "$archive") runs on a clean Debian 12 (no Rust) in $root"
