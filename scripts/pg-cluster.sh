#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A throw-away PostgreSQL cluster for the tests of the PostgreSQL driver.
# Usage: scripts/pg-cluster.sh start|stop|restart|uri DIR
#   start    initdb in DIR (created, must not hold anything else), start the server
#            listening on a Unix socket in DIR only (no TCP), print its URI
#   stop     stop the server and remove DIR; nothing to do when there is none
#   restart  stop and start the server of DIR again (connections are cut)
#   uri      print the URI of the cluster in DIR
# Both start and stop are safe to call twice. The server runs as the user calling
# the script, or as the system user postgres when that is root (initdb refuses to
# run as root). fsync stays on: the tests see what a real server does. Keep DIR
# short: the socket's path (DIR/.s.PGSQL.5432) must fit in 107 bytes.
set -euo pipefail

usage() {
    echo "usage: $0 start|stop|restart|uri DIR" >&2
    exit 2
}
[ $# -eq 2 ] || usage
cmd="$1"
dir="$2"

bindir=""
if command -v pg_config >/dev/null 2>&1; then
    bindir="$(pg_config --bindir)"
fi
if [ ! -x "$bindir/initdb" ]; then
    bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
fi
if [ ! -x "$bindir/initdb" ]; then
    echo "pg-cluster: no initdb found (Debian package postgresql)" >&2
    exit 1
fi

# The user the server runs as, and the way to run a command as that user.
as_owner=()
if [ "$(id -u)" -eq 0 ]; then
    if ! id postgres >/dev/null 2>&1; then
        useradd --system --no-create-home --shell /usr/sbin/nologin postgres
    fi
    as_owner=(runuser -u postgres --)
fi

data="$dir/data"
# The role and password of the tests: password authentication, so that a wrong
# password is refused as it would be in production.
role="carbontree"

uri() {
    printf 'postgresql://%s:%s@/carbontree?host=%s\n' "$role" "$(cat "$dir/password")" "$dir"
}

running() {
    [ -f "$data/postmaster.pid" ] && "${as_owner[@]}" "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1
}

start_server() {
    "${as_owner[@]}" "$bindir/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 30 \
        -o "-c listen_addresses='' -c unix_socket_directories='$dir' -c fsync=on" start >/dev/null
}

case "$cmd" in
start)
    if [ -d "$data" ]; then
        running || start_server
        uri
        exit 0
    fi
    mkdir -p "$dir"
    dir="$(cd "$dir" && pwd)"
    data="$dir/data"
    (umask 077 && head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$dir/password")
    # The superuser's password file is read by initdb and removed after.
    cp "$dir/password" "$dir/pwfile"
    if [ "${#as_owner[@]}" -gt 0 ]; then
        chown -R postgres "$dir"
    fi
    "${as_owner[@]}" "$bindir/initdb" -D "$data" -U "$role" --pwfile="$dir/pwfile" \
        --auth=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || {
        cat "$dir/initdb.log" >&2
        exit 1
    }
    rm -f "$dir/pwfile"
    start_server
    PGPASSWORD="$(cat "$dir/password")" "$bindir/psql" -q -X -v ON_ERROR_STOP=1 \
        -h "$dir" -U "$role" -d postgres -c "CREATE DATABASE carbontree" >/dev/null
    uri
    ;;
stop)
    if [ -d "$data" ] && [ -f "$data/postmaster.pid" ]; then
        "${as_owner[@]}" "$bindir/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
restart)
    [ -d "$data" ] || {
        echo "pg-cluster: no cluster in $dir" >&2
        exit 1
    }
    "${as_owner[@]}" "$bindir/pg_ctl" -D "$data" -m fast -w stop >/dev/null
    start_server
    ;;
uri)
    [ -f "$dir/password" ] || {
        echo "pg-cluster: no cluster in $dir" >&2
        exit 1
    }
    uri
    ;;
*)
    usage
    ;;
esac
