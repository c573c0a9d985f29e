#!/usr/bin/env bash
# Installs Mosquitto (Debian) and starts a broker for the live-source and MQTT-sink tests
# on 127.0.0.1 (port $AI4ICT_MQTT_PORT, default 18830), anonymous, without persistence,
# queueing up to 100000 messages for a persistent session. Prints as its last line:
#   export AI4ICT_TEST_MQTT='mqtt://127.0.0.1:18830'
# Usage from .ci/run:  eval "$(bash .ci/mosquitto.sh | tail -n 1)"
# Idempotent: a broker already answering on the port is used as it is.
set -euo pipefail

log() { echo "mosquitto.sh: $*" >&2; }

export DEBIAN_FRONTEND=noninteractive
if [ ! -x /usr/sbin/mosquitto ]; then
    log "installing mosquitto"
    apt-get update -qq >&2
    apt-get install -y -qq mosquitto >&2
fi

PORT=${AI4ICT_MQTT_PORT:-18830}
DIR=${AI4ICT_MQTT_DIR:-/tmp/ai4ict-mosquitto}
answers() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }

if ! answers; then
    mkdir -p "$DIR"
    cat > "$DIR/mosquitto.conf" <<CONF
listener $PORT 127.0.0.1
allow_anonymous true
persistence false
max_queued_messages 100000
max_inflight_messages 100
CONF
    log "starting mosquitto on port $PORT (log: $DIR/mosquitto.log)"
    # Detached from this script's output, so `$(…)` in .ci/run does not wait for it.
    nohup /usr/sbin/mosquitto -c "$DIR/mosquitto.conf" >"$DIR/mosquitto.log" 2>&1 </dev/null &
fi

# Wait until the broker accepts connections (at most 30 s).
for _ in $(seq 1 60); do
    if answers; then break; fi
    sleep 0.5
done
answers || { log "mosquitto does not answer on port $PORT"; cat "$DIR/mosquitto.log" >&2 || true; exit 1; }
log "Mosquitto ready on port $PORT"
echo "export AI4ICT_TEST_MQTT='mqtt://127.0.0.1:$PORT'"
