#!/usr/bin/env bash
# Installs the NATS server (Debian) and starts it with JetStream (`-js`) for the live-source
# and NATS-sink tests on 127.0.0.1 (port $AI4ICT_NATS_PORT, default 14222), storing streams
# in a temporary folder. Prints as its last line:
#   export AI4ICT_TEST_NATS='nats://127.0.0.1:14222'
# Usage from .ci/run:  eval "$(bash .ci/nats.sh | tail -n 1)"
# Idempotent: a server already answering on the port is used as it is.
set -euo pipefail

log() { echo "nats.sh: $*" >&2; }

export DEBIAN_FRONTEND=noninteractive
if [ ! -x /usr/sbin/nats-server ] && ! command -v nats-server >/dev/null 2>&1; then
    log "installing nats-server"
    apt-get update -qq >&2
    apt-get install -y -qq nats-server >&2
fi
BIN=$(command -v nats-server || echo /usr/sbin/nats-server)

PORT=${AI4ICT_NATS_PORT:-14222}
DIR=${AI4ICT_NATS_DIR:-/tmp/ai4ict-nats}
answers() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }

if ! answers; then
    rm -rf "$DIR/jetstream"
    mkdir -p "$DIR"
    log "starting nats-server -js on port $PORT (log: $DIR/nats.log)"
    # Detached from this script's output, so `$(…)` in .ci/run does not wait for it.
    nohup "$BIN" -js -a 127.0.0.1 -p "$PORT" -sd "$DIR/jetstream" >"$DIR/nats.log" 2>&1 </dev/null &
fi

# Wait until the server is ready (at most 30 s).
for _ in $(seq 1 60); do
    if answers && { [ ! -f "$DIR/nats.log" ] || grep -q "Server is ready" "$DIR/nats.log"; }; then break; fi
    sleep 0.5
done
answers || { log "nats-server does not answer on port $PORT"; cat "$DIR/nats.log" >&2 || true; exit 1; }
log "NATS with JetStream ready on port $PORT"
echo "export AI4ICT_TEST_NATS='nats://127.0.0.1:$PORT'"
