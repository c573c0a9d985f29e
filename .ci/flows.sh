#!/usr/bin/env bash
# Installs the flow exporters the NetFlow/IPFIX collector is tested against (Debian's
# softflowd, and nfdump with nfcapd and nfreplay); the tests run them themselves, on free
# ports, with their own files (nothing is started here; the nfdump package's service, if it
# runs, is not used). Prints as its last line:
#   export AI4ICT_TEST_SOFTFLOWD='/usr/sbin/softflowd' AI4ICT_TEST_NFDUMP='/usr/bin/nfdump'
# Usage from .ci/run:  eval "$(bash .ci/flows.sh | tail -n 1)"
# Idempotent: installed tools are used as they are.
set -euo pipefail

log() { echo "flows.sh: $*" >&2; }

export DEBIAN_FRONTEND=noninteractive
if [ ! -x /usr/sbin/softflowd ] || [ ! -x /usr/bin/nfdump ] || [ ! -x /usr/bin/nfreplay ]; then
    log "installing softflowd and nfdump"
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends softflowd nfdump >&2
fi

echo "export AI4ICT_TEST_SOFTFLOWD='/usr/sbin/softflowd' AI4ICT_TEST_NFDUMP='/usr/bin/nfdump'"
