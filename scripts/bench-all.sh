#!/usr/bin/env bash
# Re-runs every bench command of a release build and writes one table (bench-all/README.md):
# each bench's headline lines, its wall time and its exit status, with every full output beside
# it. Run it before and after a change on a measured path, and put both tables in the change's
# note: a regression shows up in the change that causes it.
#
# Usage: scripts/bench-all.sh [OUT_DIR]   (from the repository's root; default bench-all/)
# Needs `cargo build --release`. NAB's data is looked for where `bench nab` looks; without it
# that row says so. An existing OUT_DIR is refused, never overwritten.
set -uo pipefail
root=$(pwd)
bin=$root/target/release/ai4ict
out=${1:-bench-all}
[ -x "$bin" ] || { echo "bench-all.sh: build first: cargo build --release" >&2; exit 2; }
[ -e "$out" ] && { echo "bench-all.sh: $out exists; name another folder" >&2; exit 2; }
mkdir -p "$out"
table=$out/README.md
{
    echo "# ai4ict benches, $(date -u +%Y-%m-%dT%H:%MZ)"
    echo
    echo "\`$("$bin" --version)\`, commit \`$(git rev-parse --short HEAD 2>/dev/null || echo unknown)\`," \
        "$(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg) at the start."
    echo
    echo "| bench | exit | wall | headline (full output in the file named) |"
    echo "|---|---|---|---|"
} > "$table"

# bench NAME PATTERN COMMAND...: runs COMMAND, keeps its output, adds a row with the lines
# matching PATTERN (an extended regular expression).
bench() {
    local name=$1 pattern=$2
    shift 2
    local file=$out/$name.txt start end status
    echo "bench-all: $name …" >&2
    start=$(date +%s.%N)
    "$@" > "$file" 2>&1
    status=$?
    end=$(date +%s.%N)
    local lines
    lines=$(grep -E "$pattern" "$file" | head -n 12 | sed 's/|/\\|/g; s/^ *//' |
        awk 'NR > 1 { printf "<br>" } { printf "%s", $0 }')
    printf '| %s | %s | %s s | %s ([%s](%s.txt)) |\n' "$name" "$status" \
        "$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.0f", b - a }')" \
        "${lines:-no headline found}" "$name" "$name" >> "$table"
}

export AI4ICT_HUB=$out/hub.db
bench engine 'KPI values/s|engine / loop|alerts:' "$bin" bench engine
bench intrusion '^(population|novelty|port_scan|beaconing)' "$bin" bench intrusion
bench flows '^(GBDT|forest): best' "$bin" bench flows
bench ingest '^(overload|accepted|memory|passed|Error)' "$bin" bench ingest
if [ -n "${AI4ICT_TEST_NATS:-}" ] && "$bin" bench bus --help > /dev/null 2>&1; then
    bench bus '(process|Error)' "$bin" bench bus --nats "$AI4ICT_TEST_NATS"
else
    echo "| bus | - | - | needs a build with --features nats and AI4ICT_TEST_NATS (bash .ci/nats.sh) |" >> "$table"
fi
bench serve '(half-open|push|Error)' "$bin" bench serve
bench collector '(^offered|^received|^passed|^highest|FAILED)' "$bin" bench collector --find-max
bench anomaly '^ *(detector|auto|robust_seasonal|resonance|river|pyod) ' "$bin" bench anomaly --no-peers
bench false-alarms '^(auto|ensemble|robust_seasonal) ' "$bin" bench false-alarms --streams 20
bench sandbox '^ *(auto|robust_seasonal|resonance) ' "$bin" bench sandbox
if [ -d ../shared/data/nab ] || [ -d data/nab ] || [ -d shared/data/nab ]; then
    bench nab 'ai4ict_auto|ARTime|Numenta' "$bin" bench nab --detector auto --harness --shifts 7
else
    echo "| nab | - | - | NAB's data not found (see docs/getting-started.md) |" >> "$table"
fi
bench forecast 'MASE|auto' "$bin" bench forecast
bench hub 'p99|map|search' "$bin" hub bench
echo "bench-all: wrote $table" >&2
