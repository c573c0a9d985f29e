#!/usr/bin/env bash
# Installs PostgreSQL 15 (Debian), starts a cluster and creates the test database for the
# ai4ict-hub PostgreSQL backend. Prints the connection string as its last line:
#   export AI4ICT_TEST_POSTGRES='host=127.0.0.1 port=5432 user=ai4ict password=ai4ict dbname=ai4ict_test'
# Usage from .ci/run:  eval "$(bash .ci/postgres.sh | tail -n 1)"
# Idempotent: safe to run when PostgreSQL is already installed, running, or the database exists.
set -euo pipefail

log() { echo "postgres.sh: $*" >&2; }

export DEBIAN_FRONTEND=noninteractive
if ! command -v pg_ctlcluster >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    log "installing postgresql"
    apt-get update -qq >&2
    apt-get install -y -qq postgresql >&2
fi

VERSION=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
CLUSTER=${AI4ICT_PG_CLUSTER:-main}   # another name gives a separate cluster on its own port
if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -qx "$VERSION $CLUSTER"; then
    log "creating cluster $VERSION/$CLUSTER"
    pg_createcluster "$VERSION" "$CLUSTER" >&2
fi
if ! pg_lsclusters -h | awk -v v="$VERSION" -v c="$CLUSTER" '$1==v && $2==c {print $4}' | grep -qx online; then
    log "starting cluster $VERSION/$CLUSTER"
    pg_ctlcluster "$VERSION" "$CLUSTER" start >&2
fi
PORT=$(pg_lsclusters -h | awk -v v="$VERSION" -v c="$CLUSTER" '$1==v && $2==c {print $3}')

# Wait until the server accepts connections (at most 30 s).
for _ in $(seq 1 30); do
    if su postgres -c "pg_isready -q -p $PORT"; then break; fi
    sleep 1
done

psql_admin() { su postgres -c "psql -p $PORT -v ON_ERROR_STOP=1 -qtAc \"$1\""; }
if [ "$(psql_admin "SELECT 1 FROM pg_roles WHERE rolname='ai4ict'")" != "1" ]; then
    psql_admin "CREATE ROLE ai4ict LOGIN PASSWORD 'ai4ict'" >&2
fi
if [ "$(psql_admin "SELECT 1 FROM pg_database WHERE datname='ai4ict_test'")" != "1" ]; then
    psql_admin "CREATE DATABASE ai4ict_test OWNER ai4ict" >&2
fi
log "PostgreSQL $VERSION ready on port $PORT"
echo "export AI4ICT_TEST_POSTGRES='host=127.0.0.1 port=$PORT user=ai4ict password=ai4ict dbname=ai4ict_test'"
