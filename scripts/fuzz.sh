#!/usr/bin/env bash
# Runs each fuzz target of fuzz/ for a bounded time.
#
#   scripts/fuzz.sh [seconds-per-target] [target…]     (default: 60 s; csv_reader jsonl_reader intent_parser)
#
# Installs cargo-fuzz when it is missing. There is no nightly toolchain here: RUSTC_BOOTSTRAP=1
# lets the stable compiler take the -Z flags cargo-fuzz passes. The sanitizer is off by default
# (the project's code forbids `unsafe`, and it builds much faster); FUZZ_SANITIZER=address turns
# it on. Findings land in fuzz/artifacts/<target>/, the growing corpus in fuzz/corpus/<target>/
# (both git-ignored); seeds come from the test data and the ready-made intents.
set -uo pipefail

secs="${1:-60}"
[ $# -gt 0 ] && shift
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(csv_reader jsonl_reader intent_parser)

root="$(cd "$(dirname "$0")/.." && pwd)"
shared="$root/../shared/data/bad-input"
export RUSTC_BOOTSTRAP=1

if ! command -v cargo-fuzz >/dev/null 2>&1; then
    echo "installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked || exit 1
fi

cd "$root/fuzz" || exit 1
failed=()
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t"
    seeds=()
    case "$t" in
        csv_reader | jsonl_reader) seeds+=("$root/crates/connectors/tests/data") ;;
        intent_parser) [ -d "$root/intents" ] && seeds+=("$root/intents") ;;
    esac
    [ -d "$shared" ] && seeds+=("$shared")
    echo "== fuzzing $t for ${secs}s" >&2
    if ! cargo fuzz run --sanitizer "${FUZZ_SANITIZER:-none}" "$t" "corpus/$t" "${seeds[@]}" -- \
        -max_total_time="$secs" -max_len=65536 -rss_limit_mb=2048 -timeout=10 -print_final_stats=1; then
        failed+=("$t")
    fi
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzzing found problems in: ${failed[*]} (see fuzz/artifacts/)" >&2
    exit 1
fi
echo "fuzzing: ${#targets[@]} targets ran ${secs}s each without a finding" >&2
