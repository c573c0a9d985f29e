#!/usr/bin/env bash
# Installs Prometheus Alertmanager (Debian) and starts it for the alert-sink tests on
# 127.0.0.1 (port $AI4ICT_ALERTMANAGER_PORT, default 19093), without clustering, with its
# state in a temporary folder and one receiver that notifies nobody (the tests read the
# alerts back through the API); and a second one on HTTPS only, taking clients with a
# certificate of the test authority (port $AI4ICT_ALERTMANAGER_TLS_PORT, default 19094;
# .ci/certs.sh makes the certificates). Prints as its last line:
#   export AI4ICT_TEST_ALERTMANAGER='http://127.0.0.1:19093' AI4ICT_TEST_ALERTMANAGER_TLS='https://127.0.0.1:19094'
# Usage from .ci/run:  eval "$(bash .ci/alertmanager.sh | tail -n 1)"
# Idempotent: an Alertmanager already answering on the port is used as it is.
set -euo pipefail

log() { echo "alertmanager.sh: $*" >&2; }

export DEBIAN_FRONTEND=noninteractive
if [ ! -x /usr/bin/prometheus-alertmanager ]; then
    log "installing prometheus-alertmanager"
    apt-get update -qq >&2
    apt-get install -y -qq prometheus-alertmanager >&2
fi

PORT=${AI4ICT_ALERTMANAGER_PORT:-19093}
DIR=${AI4ICT_ALERTMANAGER_DIR:-/tmp/ai4ict-alertmanager}
# GET /-/ready with bash alone (curl may be missing).
ready() {
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT" &&
        printf 'GET /-/ready HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3 &&
        head -n 1 <&3 | grep -q ' 200') 2>/dev/null
}

if ! ready; then
    rm -rf "$DIR/data"
    mkdir -p "$DIR/data"
    cat > "$DIR/alertmanager.yml" <<CONF
route:
  receiver: nobody
  group_wait: 1s
receivers:
  - name: nobody
CONF
    log "starting prometheus-alertmanager on port $PORT (log: $DIR/alertmanager.log)"
    # Detached from this script's output, so `$(…)` in .ci/run does not wait for it.
    nohup /usr/bin/prometheus-alertmanager \
        --config.file="$DIR/alertmanager.yml" \
        --storage.path="$DIR/data" \
        --web.listen-address="127.0.0.1:$PORT" \
        --cluster.listen-address= \
        >"$DIR/alertmanager.log" 2>&1 </dev/null &
fi

# Wait until it is ready (at most 30 s).
for _ in $(seq 1 60); do
    if ready; then break; fi
    sleep 0.5
done
ready || { log "alertmanager is not ready on port $PORT"; cat "$DIR/alertmanager.log" >&2 || true; exit 1; }
log "Alertmanager ready on port $PORT"

TPORT=${AI4ICT_ALERTMANAGER_TLS_PORT:-19094}
TDIR="$DIR/tls"
CERTS=$(bash "$(dirname "$0")/certs.sh" | tail -n 1)
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$TPORT") 2>/dev/null; }
if ! listening; then
    rm -rf "$TDIR"
    mkdir -p "$TDIR/data"
    cat > "$TDIR/web.yml" <<CONF
tls_server_config:
  cert_file: $CERTS/server-cert.pem
  key_file: $CERTS/server-key.pem
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: $CERTS/ca.pem
CONF
    log "starting prometheus-alertmanager on HTTPS port $TPORT (log: $TDIR/alertmanager.log)"
    nohup /usr/bin/prometheus-alertmanager \
        --config.file="$DIR/alertmanager.yml" \
        --storage.path="$TDIR/data" \
        --web.listen-address="127.0.0.1:$TPORT" \
        --web.config.file="$TDIR/web.yml" \
        --cluster.listen-address= \
        >"$TDIR/alertmanager.log" 2>&1 </dev/null &
fi
for _ in $(seq 1 60); do
    if listening && grep -q "TLS is enabled" "$TDIR/alertmanager.log" 2>/dev/null; then break; fi
    sleep 0.5
done
listening || { log "alertmanager is not listening on port $TPORT"; cat "$TDIR/alertmanager.log" >&2 || true; exit 1; }
log "Alertmanager on HTTPS ready on port $TPORT"
echo "export AI4ICT_TEST_ALERTMANAGER='http://127.0.0.1:$PORT' AI4ICT_TEST_ALERTMANAGER_TLS='https://127.0.0.1:$TPORT'"
