#!/usr/bin/env bash
# Makes the test PKI the TLS tests share (openssl, Debian), in $AI4ICT_CERTS_DIR (default
# /tmp/ai4ict-certs), unless it is there already:
#   ca.pem                              an authority of our own
#   server-cert.pem, server-key.pem     a server certificate for 127.0.0.1 and localhost
#   client-cert.pem, client-key.pem     a client certificate, for servers that check clients
# The keys are readable by every user: the servers (Mosquitto runs as `mosquitto`) read them,
# and they guard nothing but the tests. Prints the folder as its last line.
# Usage: CERTS=$(bash .ci/certs.sh | tail -n 1)
set -euo pipefail

DIR=${AI4ICT_CERTS_DIR:-/tmp/ai4ict-certs}
if [ ! -s "$DIR/client-cert.pem" ]; then
    if ! command -v openssl >/dev/null 2>&1; then
        apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssl >&2
    fi
    rm -rf "$DIR"
    mkdir -p "$DIR"
    cd "$DIR"
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=ai4ict test CA" \
        -keyout ca-key.pem -out ca.pem 2>/dev/null
    sign() { # name, subject, extensions
        openssl req -newkey rsa:2048 -nodes -subj "$2" -keyout "$1-key.pem" -out "$1.csr" 2>/dev/null
        printf '%s\n' "$3" > "$1.ext"
        openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 30 \
            -extfile "$1.ext" -out "$1-cert.pem" 2>/dev/null
    }
    sign server "/CN=127.0.0.1" "subjectAltName=IP:127.0.0.1,DNS:localhost"
    sign client "/CN=ai4ict" "extendedKeyUsage=clientAuth"
    chmod 644 ./*.pem
    chmod 755 "$DIR"
fi
echo "$DIR"
