#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Where the server's time goes in one benchmark scenario: runs the scenario against
# the database bench/run.sh left behind, records the server with perf (DWARF call
# graphs) and prints the functions that hold the most samples, callees included.
#
#   bench/profile.sh R1          # R1, R2, W1 or W2
#   BENCH_SECONDS=5 bench/profile.sh W2
#
# Knobs as in bench/run.sh: BENCH_MODELS, BENCH_WORK, BENCH_BUILD, BENCH_CONNECTIONS,
# BENCH_THREADS, BENCH_SECONDS (recording time, 3).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SCENARIO=${1:?usage: bench/profile.sh R1|R2|W1|W2}
MODELS=${BENCH_MODELS:-1000000}
WORK=${BENCH_WORK:-/tmp/carbontree-bench}
BUILD=${BENCH_BUILD:-$WORK/build}
SECONDS_REC=${BENCH_SECONDS:-3}
CONNS=${BENCH_CONNECTIONS:-32}
WRK_THREADS=${BENCH_THREADS:-2}
PORT=18085
DB=$WORK/bench-$MODELS.db
export BENCH_DIR=$ROOT/bench

case $SCENARIO in
    R1) script=r1.lua ids=deep.ids ;;
    R2) script=r2.lua ids=family.ids ;;
    W1) script=w1.lua ids=any.ids ;;
    W2) script=w2.lua ids=any.ids ;;
    *) echo "unknown scenario $SCENARIO (R1, R2, W1 or W2)" >&2; exit 2 ;;
esac
[ -f "$DB" ] && [ -x "$BUILD/carbontree" ] ||
    { echo "run bench/run.sh first (no $DB or $BUILD/carbontree)" >&2; exit 2; }
command -v perf >/dev/null || { apt-get install -y linux-perf >/dev/null; }

"$BUILD/carbontree" serve --db "$DB" --port "$PORT" --body-max 1048576 --log-level error \
    --max-connections 1024 --per-ip-connections 0 > "$WORK/profile-serve.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
until curl -sf -o /dev/null "http://127.0.0.1:$PORT/readyz"; do sleep 0.01; done
TOKEN=$("$BUILD/carbontree" token create --name "profile-$$" --admin --db "$DB" 2>/dev/null | tail -1)

BENCH_OUT=$WORK/profile.out BENCH_IDS=$WORK/$ids BENCH_TOKEN=$TOKEN BENCH_RUN=profile-$$-$(date +%s) \
    wrk -t"$WRK_THREADS" -c"$CONNS" -d"$((SECONDS_REC + 2))s" -s "$BENCH_DIR/$script" \
    "http://127.0.0.1:$PORT/" > "$WORK/profile.wrk" 2>&1 &
WRK=$!
sleep 1
perf record --call-graph dwarf,16384 -F 499 -p "$SERVER" -o "$WORK/perf.data" \
    -- sleep "$SECONDS_REC" 2> /dev/null
wait $WRK
printf '%s under wrk -t%s -c%s: %s requests/s\n\n' "$SCENARIO" "$WRK_THREADS" "$CONNS" \
    "$(cut -d' ' -f1 "$WORK/profile.out")"
# Samples per function, callees included, as a share of all the server's samples.
perf report -i "$WORK/perf.data" --children --sort symbol --stdio 2> /dev/null |
    grep -E '^ +[0-9.]+%' | grep -v -E '\[k\]|0x0000' | awk '$1 + 0 >= 2' | head -40 |
    awk '{printf "%8s %8s  %s\n", $1, $2, $4}'
