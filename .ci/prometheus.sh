#!/usr/bin/env bash
# Installs Prometheus (Debian) for the remote-write tests, which start their own server on a
# free port with their own config and storage (none is started here, and the package's
# service, if it runs, holds port 9090, which the tests do not use). Prints as its last line:
#   export AI4ICT_TEST_PROMETHEUS='/usr/bin/prometheus'
# Usage from .ci/run:  eval "$(bash .ci/prometheus.sh | tail -n 1)"
# Idempotent: an installed Prometheus is used as it is.
set -euo pipefail

log() { echo "prometheus.sh: $*" >&2; }

export DEBIAN_FRONTEND=noninteractive
if [ ! -x /usr/bin/prometheus ]; then
    log "installing prometheus"
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends prometheus >&2
fi

echo "export AI4ICT_TEST_PROMETHEUS='/usr/bin/prometheus'"
