#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The PostgreSQL baseline (migrations/pg/0011_baseline.sql) keeps the same
# aggregates as the SQLite migrations 0001-0011: one write scenario
# (tests/pgschema/scenario.py) runs on a SQLite file migrated with
# migrations/*.sql and on a throw-away PostgreSQL cluster loaded with the
# baseline, then every table is dumped in key order and compared (compare.py).
# Usage: tests/pgschema/equivalence.sh SOURCE_DIR
# Exit 77 (skipped) without PostgreSQL's server binaries, psql or sqlite3, unless
# CI is set: there, their absence is a failure.
set -euo pipefail

src=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
here=$src/tests/pgschema

missing() {
    if [ -n "${CI:-}" ]; then
        echo "FAIL: $1 (CI needs it: scripts/deps.sh test)" >&2
        exit 1
    fi
    echo "SKIP: $1" >&2
    exit 77
}

bindir=$(pg_config --bindir 2>/dev/null || true)
if [ ! -x "$bindir/initdb" ]; then
    for d in /usr/lib/postgresql/*/bin; do
        if [ -x "$d/initdb" ]; then bindir=$d; fi
    done
fi
[ -x "${bindir:-/nonexistent}/initdb" ] || missing "no PostgreSQL server binaries (initdb)"
command -v psql >/dev/null || missing "no psql"
command -v sqlite3 >/dev/null || missing "no sqlite3"
command -v python3 >/dev/null || missing "no python3"

work=$(mktemp -d "${TMPDIR:-/tmp}/pgschema.XXXXXX")
chmod 755 "$work"
pg_dir=""

# Starts a cluster in $1 (a directory it creates), listening on a Unix socket there
# only, and prints its connection URI. As root, the cluster runs as the postgres
# user (initdb refuses root), which then owns the directory.
pg_start() {
    local dir=$1 as=()
    mkdir -p "$dir"
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres: "$dir"
        as=(runuser -u postgres --)
    fi
    "${as[@]}" "$bindir/initdb" -D "$dir/data" -U carbontree -A trust --no-sync \
        --locale=C -E UTF8 >"$dir/initdb.log" 2>&1
    "${as[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-k $dir -c listen_addresses= -c fsync=off -c full_page_writes=off -c track_functions=pl" start \
        >/dev/null
    echo "postgresql:///postgres?host=$dir&user=carbontree"
}

pg_stop() {
    local dir=$1 as=()
    [ "$(id -u)" -eq 0 ] && as=(runuser -u postgres --)
    "${as[@]}" "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
}

cleanup() {
    [ -n "$pg_dir" ] && pg_stop "$pg_dir"
    rm -rf "$work"
}
trap cleanup EXIT

pg_dir=$work/pg
uri=$(pg_start "$pg_dir")


db=$work/ledger.db
{
    echo "PRAGMA synchronous=OFF;"
    for m in "$src"/migrations/[0-9][0-9][0-9][0-9]_*.sql; do
        cat "$m"
        echo ";"
    done
} | sqlite3 -bail "$db" >/dev/null
{
    echo "PRAGMA synchronous=OFF; PRAGMA foreign_keys=ON;"
    python3 "$here/scenario.py" sqlite
} | sqlite3 -bail "$db" >/dev/null

psql_q=(psql -X -q -v ON_ERROR_STOP=1 "$uri")
"${psql_q[@]}" -f "$src/migrations/pg/0011_baseline.sql" >/dev/null
python3 "$here/scenario.py" pg | "${psql_q[@]}" -f - >/dev/null

python3 "$here/scenario.py" triggers >"$work/covered"
python3 "$here/compare.py" "$db" "$uri" "$work/covered"
