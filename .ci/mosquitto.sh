#!/usr/bin/env bash
# Installs Mosquitto (Debian) and starts a broker for the live-source and MQTT-sink tests
# on 127.0.0.1 (port $AI4ICT_MQTT_PORT, default 18830), anonymous, without persistence,
# queueing up to 100000 messages for a persistent session; and a second broker that takes only
# users with passwords, each with its topics (port $AI4ICT_MQTT_SECURE_PORT, default 18831), the
# users' passwords in $AI4ICT_MQTT_DIR/secure; the same broker takes the same users over TLS
# from clients with a certificate of the test authority (port $AI4ICT_MQTT_TLS_PORT, default
# 18832; .ci/certs.sh makes the certificates):
#   admin.password    reads and writes every topic (the tests publish and subscribe with it)
#   reader.password   reads `ai4ict-test/#` only
#   alerts.password   writes `ai4ict-alerts/#` only
# Prints as its last line:
#   export AI4ICT_TEST_MQTT='mqtt://127.0.0.1:18830' AI4ICT_TEST_MQTT_SECURE='mqtt://127.0.0.1:18831' AI4ICT_TEST_MQTT_SECURE_DIR=… AI4ICT_TEST_MQTT_TLS='mqtts://127.0.0.1:18832' AI4ICT_TEST_CERTS=…
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

SPORT=${AI4ICT_MQTT_SECURE_PORT:-18831}
TPORT=${AI4ICT_MQTT_TLS_PORT:-18832}
SDIR="$DIR/secure"
CERTS=$(bash "$(dirname "$0")/certs.sh" | tail -n 1)
sanswers() { (exec 3<>"/dev/tcp/127.0.0.1/$SPORT") 2>/dev/null; }
if ! sanswers; then
    rm -rf "$SDIR"
    mkdir -p "$SDIR"
    : > "$SDIR/passwords"
    for user in admin reader alerts; do
        head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$SDIR/$user.password"
        mosquitto_passwd -b "$SDIR/passwords" "$user" "$(cat "$SDIR/$user.password")"
    done
    chmod 600 "$SDIR"/*.password
    cat > "$SDIR/acl" <<ACL
user admin
topic readwrite #

user reader
topic read ai4ict-test/#

user alerts
topic write ai4ict-alerts/#
ACL
    cat > "$SDIR/mosquitto.conf" <<CONF
allow_anonymous false
password_file $SDIR/passwords
acl_file $SDIR/acl
persistence false
listener $SPORT 127.0.0.1
listener $TPORT 127.0.0.1
cafile $CERTS/ca.pem
certfile $CERTS/server-cert.pem
keyfile $CERTS/server-key.pem
require_certificate true
CONF
    # Mosquitto reads its password and ACL files as the user it runs as.
    if id mosquitto >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        chown mosquitto "$SDIR/passwords" "$SDIR/acl"
        chmod 600 "$SDIR/passwords" "$SDIR/acl"
    fi
    log "starting the secured mosquitto on port $SPORT (log: $SDIR/mosquitto.log)"
    nohup /usr/sbin/mosquitto -c "$SDIR/mosquitto.conf" >"$SDIR/mosquitto.log" 2>&1 </dev/null &
fi
for _ in $(seq 1 60); do
    if sanswers; then break; fi
    sleep 0.5
done
sanswers || { log "the secured mosquitto does not answer on port $SPORT"; cat "$SDIR/mosquitto.log" >&2 || true; exit 1; }
log "secured Mosquitto (users, ACL) ready on port $SPORT"
echo "export AI4ICT_TEST_MQTT='mqtt://127.0.0.1:$PORT' AI4ICT_TEST_MQTT_SECURE='mqtt://127.0.0.1:$SPORT' AI4ICT_TEST_MQTT_SECURE_DIR='$SDIR' AI4ICT_TEST_MQTT_TLS='mqtts://127.0.0.1:$TPORT' AI4ICT_TEST_CERTS='$CERTS'"
