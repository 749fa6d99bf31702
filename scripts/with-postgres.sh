#!/usr/bin/env bash
# Runs a command against a throwaway PostgreSQL server on loopback, then stops the server and
# deletes its data. Installs Debian's postgresql first when the machine has none (CI starts from
# a fresh machine). PostgreSQL refuses to run as root, so as root the cluster runs as the
# `postgres` user (runuser); as anyone else, as that user.
#
#   scripts/with-postgres.sh <command> [args...]
#
# The command sees TEST_DATABASE_URL (a database of its own, trust auth on 127.0.0.1) and
# PGHOST/PGPORT/PGUSER for psql and pgbench.
set -euo pipefail

find_bin() {
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

PG_BIN="$(find_bin)"
if [[ -z "$PG_BIN" || ! -x "$PG_BIN/pg_ctl" ]]; then
    if [[ "$(id -u)" != 0 ]]; then
        echo "with-postgres: PostgreSQL is not installed; run as root or install Debian's postgresql package" >&2
        exit 1
    fi
    echo "with-postgres: installing Debian's postgresql" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql postgresql-contrib >/dev/null
    PG_BIN="$(find_bin)"
fi

if [[ "$(id -u)" == 0 ]]; then AS=(runuser -u postgres --); else AS=(); fi
DATA_DIR="$(mktemp -d /tmp/cost-tracker-pg.XXXXXX)"
[[ "$(id -u)" == 0 ]] && chown postgres:postgres "$DATA_DIR"
PORT="$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"

cleanup() {
    "${AS[@]}" "$PG_BIN/pg_ctl" -D "$DATA_DIR/data" -m fast stop >/dev/null 2>&1 || true
    rm -rf "$DATA_DIR"
}
trap cleanup EXIT

"${AS[@]}" "$PG_BIN/initdb" -D "$DATA_DIR/data" -U postgres -A trust --no-sync >/dev/null
"${AS[@]}" "$PG_BIN/pg_ctl" -D "$DATA_DIR/data" -l "$DATA_DIR/server.log" -w \
    -o "-p $PORT -k $DATA_DIR -c listen_addresses=127.0.0.1 -c max_connections=300" start >/dev/null
"${AS[@]}" "$PG_BIN/psql" -q -h 127.0.0.1 -p "$PORT" -U postgres -c "CREATE DATABASE cost_tracker" >/dev/null
echo "with-postgres: PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT" >&2

export TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$PORT/cost_tracker"
export PGHOST=127.0.0.1 PGPORT="$PORT" PGUSER=postgres PG_BIN
"$@"
