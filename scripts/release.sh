#!/usr/bin/env bash
# Builds a release binary of `ai4ict` and packs it for another machine:
#   dist/ai4ict-<version>-<target>.tar.gz   the binary, README.md, LICENSE (if any),
#                                           completions/ (bash, zsh, fish, elvish, powershell)
#                                           and man/man1/ (one page per subcommand)
#   dist/SHA256SUMS                         checksums of the archives in dist/
#
# The binary is static (musl) when the Rust target <arch>-unknown-linux-musl is installed
# (`rustup target list --installed`) and a musl C compiler is on the PATH (the bundled SQLite
# is C); otherwise it is linked against this machine's glibc and runs where that glibc or a
# newer one is. Nothing is downloaded: install the musl target yourself to get a static build.
#
# Usage: scripts/release.sh [--out DIR]      (default DIR: dist)
set -euo pipefail
cd "$(dirname "$0")/.."

out=dist
while [ $# -gt 0 ]; do
    case "$1" in
        --out) out="${2:?--out needs a folder}"; shift 2 ;;
        -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "release.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done

version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
[ -n "$version" ] || { echo "release.sh: no version in Cargo.toml" >&2; exit 1; }
host=$(rustc -vV | sed -n 's/^host: //p')
musl="$(uname -m)-unknown-linux-musl"

target="$host"
if rustup target list --installed 2>/dev/null | grep -qx "$musl"; then
    if command -v musl-gcc >/dev/null || command -v "$(uname -m)-linux-musl-gcc" >/dev/null; then
        target="$musl"
        echo "release.sh: building a static binary for $target"
    else
        echo "release.sh: the $musl target is installed but no musl C compiler (musl-gcc," \
             "package musl-tools) is: building for $host, linked against glibc" >&2
    fi
else
    echo "release.sh: the $musl target is not installed: building for $host, linked against" \
         "this machine's glibc ($(ldd --version 2>/dev/null | head -n 1 | sed 's/.* //'))." \
         "For a static binary: rustup target add $musl; apt-get install musl-tools" >&2
fi

if [ "$target" = "$host" ]; then
    # The host's own target builds into target/release, so a warm build is reused.
    cargo build --release --locked -p ai4ict
    bin="target/release/ai4ict"
else
    cargo build --release --locked -p ai4ict --target "$target"
    bin="target/$target/release/ai4ict"
fi

name="ai4ict-$version-$target"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
dir="$stage/$name"
mkdir -p "$dir/completions" "$dir/man/man1"
cp "$bin" README.md "$dir/"
for f in LICENSE LICENSE-* COPYING NOTICE; do
    if [ -f "$f" ]; then cp "$f" "$dir/"; fi
done
"$bin" completions bash > "$dir/completions/ai4ict.bash"
"$bin" completions zsh > "$dir/completions/_ai4ict"
"$bin" completions fish > "$dir/completions/ai4ict.fish"
"$bin" completions elvish > "$dir/completions/ai4ict.elv"
"$bin" completions powershell > "$dir/completions/_ai4ict.ps1"
"$bin" man --out "$dir/man/man1" > /dev/null

mkdir -p "$out"
tar -C "$stage" -czf "$out/$name.tar.gz" "$name"
(cd "$out" && sha256sum ./*.tar.gz | sed 's| \./| |' > SHA256SUMS)
echo "release.sh: wrote $out/$name.tar.gz and $out/SHA256SUMS"
