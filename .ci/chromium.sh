#!/usr/bin/env bash
# Installs Debian's Chromium and a CJK font for the browser tests (crates/cli/tests/screenshots.rs,
# console.rs) and prints, as its last line, the variable that names it:
#   export AI4ICT_TEST_CHROMIUM=/usr/bin/chromium
# Usage from .ci/run:  eval "$(bash .ci/chromium.sh | tail -n 1)"
# Idempotent: installs nothing when chromium is already there.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
if ! command -v chromium >/dev/null 2>&1; then
    echo "chromium.sh: installing chromium" >&2
    apt-get update -qq >&2
    apt-get install -y -qq chromium >&2
fi
# The web console's Chinese pages (crates/cli/tests/console.rs) need a CJK font to render.
if ! fc-list :lang=zh 2>/dev/null | grep -q .; then
    echo "chromium.sh: installing a CJK font" >&2
    apt-get update -qq >&2
    apt-get install -y -qq fonts-wqy-zenhei >&2
fi
chromium --headless --no-sandbox --version >&2
echo "export AI4ICT_TEST_CHROMIUM=$(command -v chromium)"
