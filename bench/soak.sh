#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# carbontree soak: builds the release binary, imports a generated family of
# SOAK_MODELS models into a fresh database (so the page caches fill during the
# warm-up, as on a ledger in use), serves it on loopback and runs bench/soak.py — a mixed workload (reads, deltas, counters,
# batch reports, registrations, token use) at a steady rate — printing RSS, open
# files and database size each minute, then checks stored against acknowledged
# totals and that the server stops cleanly.
#
#   bench/soak.sh                          # 30 minutes at 200 requests/s
#   SOAK_MINUTES=2 SOAK_RATE=100 bench/soak.sh
#
# Knobs: SOAK_MINUTES (30), SOAK_RATE (200 requests/s), SOAK_CLIENTS (4),
# SOAK_MODELS (100000), SOAK_WARMUP_MINUTES (5),
# SOAK_SAMPLE_SECONDS (60), SOAK_PORT (18180), SOAK_WORK (/tmp/carbontree-soak), SOAK_BUILD.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
MINUTES=${SOAK_MINUTES:-30}
RATE=${SOAK_RATE:-200}
CLIENTS=${SOAK_CLIENTS:-4}
SAMPLE=${SOAK_SAMPLE_SECONDS:-60}
MODELS=${SOAK_MODELS:-100000}
WARMUP=${SOAK_WARMUP_MINUTES:-5}
WORK=${SOAK_WORK:-/tmp/carbontree-soak}
BUILD=${SOAK_BUILD:-$WORK/build}
PORT=${SOAK_PORT:-18180}
TOKEN=soak-admin-token-0123456789abcdef0123
log() { printf '== %s\n' "$*" >&2; }

command -v ninja >/dev/null || { log "installing ninja"; apt-get install -y ninja-build >/dev/null; }
mkdir -p "$WORK"
log "building the release binary in $BUILD"
cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C "$BUILD" carbontree >/dev/null

DB=$WORK/soak.db
rm -f "$DB" "$DB-wal" "$DB-shm"
"$BUILD/carbontree" migrate --db "$DB" 2>/dev/null
FAMILY=$WORK/family-$MODELS.jsonl
[ -s "$FAMILY" ] || python3 "$ROOT/bench/gen_family.py" "$MODELS" > "$FAMILY"
log "importing $MODELS models"
"$BUILD/carbontree" import "$FAMILY" --db "$DB" 2>"$WORK/import.log"
python3 -c 'import json, sys
for line in sys.stdin:
    print(json.loads(line)["id"])' < "$FAMILY" > "$WORK/models.txt"
CARBONTREE_ADMIN_TOKEN=$TOKEN "$BUILD/carbontree" serve --db "$DB" --port "$PORT" \
    2>"$WORK/server.log" &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
until curl -sf -o /dev/null "http://127.0.0.1:$PORT/readyz"; do
    kill -0 "$PID" 2>/dev/null || { tail -5 "$WORK/server.log" >&2; exit 1; }
    sleep 0.05
done

log "soak: $MINUTES min at $RATE requests/s, $CLIENTS clients (server pid $PID)"
status=0
python3 "$ROOT/bench/soak.py" --port "$PORT" --pid "$PID" --db "$DB" --token "$TOKEN" \
    --minutes "$MINUTES" --rate "$RATE" --clients "$CLIENTS" --sample-seconds "$SAMPLE" \
    --models "$WORK/models.txt" --warmup-minutes "$WARMUP" ||
    status=$?

kill -TERM "$PID"
if ! wait "$PID"; then
    log "the server did not stop cleanly; the end of its log:"
    tail -20 "$WORK/server.log" >&2
    status=1
fi
trap - EXIT
log "integrity: $(sqlite3 "$DB" 'PRAGMA integrity_check' 2>/dev/null || echo 'sqlite3 not installed')"
exit "$status"
