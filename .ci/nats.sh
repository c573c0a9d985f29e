#!/usr/bin/env bash
# Installs the NATS server (Debian) and starts it with JetStream (`-js`) for the live-source
# and NATS-sink tests on 127.0.0.1 (port $AI4ICT_NATS_PORT, default 14222), storing streams
# in a temporary folder; and a second one that takes TLS only, from clients with a certificate
# of the test authority, and users with passwords and permissions (port $AI4ICT_NATS_SECURE_PORT, default 14223), its certificate authority and the
# users' passwords in $AI4ICT_NATS_DIR/secure:
#   ca.pem                    the authority that signed the certificates (the server's and the clients')
#   admin.password            may do anything (the tests publish and make streams with it)
#   reader.password           may read streams through JetStream consumers, publish nothing else
#   alerts.password           may publish to `alerts.>` only
# Prints as its last line:
#   export AI4ICT_TEST_NATS='nats://127.0.0.1:14222' AI4ICT_TEST_NATS_SECURE='tls://127.0.0.1:14223' AI4ICT_TEST_NATS_SECURE_DIR=…
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

# The secured server: TLS with a certificate of our own authority, users with permissions.
SPORT=${AI4ICT_NATS_SECURE_PORT:-14223}
SDIR="$DIR/secure"
sanswers() { (exec 3<>"/dev/tcp/127.0.0.1/$SPORT") 2>/dev/null; }
if ! sanswers; then
    CERTS=$(bash "$(dirname "$0")/certs.sh" | tail -n 1)
    rm -rf "$SDIR"
    mkdir -p "$SDIR"
    cp "$CERTS/ca.pem" "$SDIR/ca.pem"
    (
        cd "$SDIR"
        for user in admin reader alerts; do
            openssl rand -hex 16 > "$user.password"
        done
        chmod 600 ./*.password
    )
    cat > "$SDIR/nats.conf" <<CONF
listen: 127.0.0.1:$SPORT
jetstream { store_dir: "$SDIR/jetstream" }
tls {
  cert_file: "$CERTS/server-cert.pem", key_file: "$CERTS/server-key.pem", timeout: 5
  ca_file: "$CERTS/ca.pem", verify: true
}
authorization {
  users = [
    { user: admin, password: "$(cat "$SDIR/admin.password")" }
    { user: reader, password: "$(cat "$SDIR/reader.password")",
      permissions: {
        publish: { allow: ["\$JS.API.INFO", "\$JS.API.STREAM.INFO.>", "\$JS.API.CONSUMER.>", "\$JS.ACK.>", "\$JS.FC.>"] },
        subscribe: { allow: ["_INBOX.>"] }
      } }
    { user: alerts, password: "$(cat "$SDIR/alerts.password")",
      permissions: { publish: { allow: ["alerts.>"] }, subscribe: { deny: [">"] } } }
  ]
}
CONF
    log "starting the secured nats-server on port $SPORT (log: $SDIR/nats.log)"
    nohup "$BIN" -c "$SDIR/nats.conf" >"$SDIR/nats.log" 2>&1 </dev/null &
fi
for _ in $(seq 1 60); do
    if sanswers && grep -q "Server is ready" "$SDIR/nats.log" 2>/dev/null; then break; fi
    sleep 0.5
done
sanswers || { log "the secured nats-server does not answer on port $SPORT"; cat "$SDIR/nats.log" >&2 || true; exit 1; }
log "secured NATS (TLS, users) ready on port $SPORT"
echo "export AI4ICT_TEST_NATS='nats://127.0.0.1:$PORT' AI4ICT_TEST_NATS_SECURE='tls://127.0.0.1:$SPORT' AI4ICT_TEST_NATS_SECURE_DIR='$SDIR'"
