#!/usr/bin/env bash
# Makes the screenshots committed under docs/screenshots/ (the README shows them): the shipped
# anomaly intent's report, the energy-saving page and a `detect` plot, rendered by headless
# Chromium at a laptop's width. Needs a release build (`cargo build --release`) and chromium.
# Usage: scripts/screenshots.sh   (from the repository's root; writes in a scratch folder)
set -euo pipefail
root=$(pwd)
bin=$root/target/release/ai4ict
[ -x "$bin" ] || { echo "screenshots.sh: build first: cargo build --release" >&2; exit 2; }
command -v chromium >/dev/null || { echo "screenshots.sh: chromium is not installed" >&2; exit 2; }
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cd "$scratch"
export AI4ICT_HUB=$scratch/hub.db
"$bin" run "$root/intents/cell-kpi-anomaly.yaml" --quiet || [ $? -eq 3 ]
"$bin" run "$root/intents/energy-saving.yaml" --quiet || [ $? -eq 3 ]
"$bin" sandbox generate --cells 50 --days 14 --out net --quiet
"$bin" detect --input net/telemetry.csv --out detect --plots 6 > /dev/null
mkdir -p "$root/docs/screenshots"
shot() {
    chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1366,"$3" \
        --screenshot="$root/docs/screenshots/$2.png" "file://$scratch/$1" 2>/dev/null
    echo "wrote docs/screenshots/$2.png"
}
shot out/cell-kpi-anomaly/report.html anomaly-report 2400
shot out/energy-saving/energy.html energy-page 1400
shot detect/plot.html detect-plot 2000
