#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# carbontree benchmark: builds the release binary and a bare
# libmicrohttpd "hello" reference, generates and imports a model family, then
# runs bounded wrk scenarios on loopback, each paired with the reference, and
# prints one table. Afterwards checks that stored inference totals equal the
# totals the server acknowledged.
#
#   bench/run.sh                      # 1,000,000 models
#   BENCH_MODELS=100000 bench/run.sh  # a smaller family
#
# BENCH_ONLY=EXPORT runs the whole-family CSV export row alone; BENCH_ONLY=IMPORT
# the import row alone (seconds, lines/s and CPU seconds beside the target);
# BENCH_ONLY=R1 runs R1 twice (the second time with the cache warm) beside the
# reference, on the database and the sample of models an earlier run left when there
# is one, and prints the server's peak RSS and its cache's counters.
#
# Knobs: BENCH_MODELS (1000000), BENCH_SECONDS per scenario (10), BENCH_CONNECTIONS
# (32), BENCH_THREADS (wrk threads, 2), BENCH_WORK (scratch dir, /tmp/carbontree-bench),
# BENCH_BUILD (build dir, $BENCH_WORK/build), BENCH_SERVE_ARGS (more serve flags, such
# as --cache-size 0), BENCH_PORT, BENCH_HELLO_PORT and BENCH_SMALL_PORT (18080, 18090,
# 18081), BENCH_REUSE (set: serve the database and sample an earlier run left in
# BENCH_WORK instead of importing again) and BENCH_EXPORT (0: no export row).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH_DIR=$ROOT/bench
MODELS=${BENCH_MODELS:-1000000}
SECONDS_EACH=${BENCH_SECONDS:-10}
CONNS=${BENCH_CONNECTIONS:-32}
WRK_THREADS=${BENCH_THREADS:-2}
WORK=${BENCH_WORK:-/tmp/carbontree-bench}
BUILD=${BENCH_BUILD:-$WORK/build}
PORT=${BENCH_PORT:-18080}
HELLO_PORT=${BENCH_HELLO_PORT:-18090}
SMALL_PORT=${BENCH_SMALL_PORT:-18081}
export BENCH_DIR

mkdir -p "$WORK"
log() { printf '== %s\n' "$*" >&2; }

command -v wrk >/dev/null || { log "installing wrk"; apt-get install -y wrk >/dev/null; }
command -v sqlite3 >/dev/null || { log "installing sqlite3"; apt-get install -y sqlite3 >/dev/null; }
command -v ninja >/dev/null || { log "installing ninja"; apt-get install -y ninja-build >/dev/null; }
[ -x /usr/bin/time ] || { log "installing time"; apt-get install -y time >/dev/null; }

log "building the release binary in $BUILD"
cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C "$BUILD" carbontree >/dev/null
CT=$BUILD/carbontree
log "building the hello reference"
cc -O2 -o "$WORK/hello" "$BENCH_DIR/hello.c" $(pkg-config --cflags --libs libmicrohttpd)

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

# wait_ready PORT: seconds until GET /readyz answers 200
wait_ready() {
    local start end
    start=$(date +%s.%N)
    until curl -sf -o /dev/null "http://127.0.0.1:$1/readyz"; do sleep 0.005; done
    end=$(date +%s.%N)
    echo "$end - $start" | bc -l
}

# import FAMILY_SIZE DB: generates and imports a family; prints the seconds
import_family() {
    local n=$1 db=$2 file=$WORK/family-$1.jsonl
    [ -s "$file" ] || python3 "$BENCH_DIR/gen_family.py" "$n" > "$file"
    rm -f "$db" "$db-wal" "$db-shm"
    "$CT" migrate --db "$db" 2>/dev/null
    local start end
    start=$(date +%s.%N)
    /usr/bin/time -f 'cpu %U user %S sys' -a -o "$WORK/import-$n.log" \
        "$CT" import "$file" --db "$db" 2> "$WORK/import-$n.log" || true
    end=$(date +%s.%N)
    tail -2 "$WORK/import-$n.log" >&2
    echo "$end - $start" | bc -l
}

# serve DB PORT: starts the server and records its pid in SERVER_PID
serve() {
    # shellcheck disable=SC2086 # BENCH_SERVE_ARGS is a list of flags
    "$CT" serve --db "$1" --port "$2" --body-max 1048576 --log-level error \
        --max-connections 1024 --per-ip-connections 0 ${BENCH_SERVE_ARGS:-} \
        > "$WORK/serve-$2.log" 2>&1 &
    SERVER_PID=$!
    PIDS+=("$SERVER_PID")
}

# run_wrk NAME SCRIPT PORT [IDS]: runs wrk; leaves "rps p50 p99 ok bad" in $WORK/NAME.out
run_wrk() {
    BENCH_OUT=$WORK/$1.out BENCH_IDS=${4:-/dev/null} BENCH_TOKEN=${TOKEN:-} BENCH_RUN=$RUN \
        wrk -t"$WRK_THREADS" -c"$CONNS" -d"${SECONDS_EACH}s" --latency -s "$BENCH_DIR/$2" \
        "http://127.0.0.1:$3/" > "$WORK/$1.wrk" 2>&1
    cat "$WORK/$1.out"
}

# Requests still in flight when wrk stops commit a moment later: let them land.
stored_total() { sleep 1; sqlite3 "$DB" "SELECT coalesce(sum(inferences), 0) FROM model_ledger"; }

# The whole-family CSV export: one family of MODELS models (one base), streamed
# to curl while the server's peak RSS (VmHWM) is read; prints its row.
export_row() {
    local db=$WORK/export-$MODELS.db file=$WORK/export-$MODELS.jsonl port=18082 pid
    local root start end rows members rss_kib
    log "streaming the CSV of a $MODELS-model family"
    [ -s "$file" ] || python3 "$BENCH_DIR/gen_family.py" "$MODELS" 6 1 > "$file"
    if [ ! -s "$db" ]; then
        "$CT" migrate --db "$db" 2>/dev/null
        "$CT" import "$file" --db "$db" 2> "$WORK/import-export.log" || true
    fi
    root=$(head -1 "$file" | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
    members=$(sqlite3 "$db" "SELECT descendants FROM model_ledger l JOIN models m ON m.id = l.model_id WHERE m.namespace || '/' || m.name = '$root'")
    serve "$db" "$port"
    pid=$SERVER_PID
    wait_ready "$port" > /dev/null
    start=$(date +%s.%N)
    rows=$(curl -sf "http://127.0.0.1:$port/v1/models/$root/family?format=csv&all=true" | wc -l)
    end=$(date +%s.%N)
    rss_kib=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
    kill "$pid"; wait "$pid" 2>/dev/null || true
    printf '%-34s %10d rows %6.1f s %8.1f MiB %-30s %s\n' "family CSV export, all=true" \
        "$((rows - 1))" "$(echo "$end - $start" | bc -l)" "$(echo "$rss_kib / 1024" | bc -l)" \
        "<=64 MiB, $members rows" \
        "$(if [ "$((rows - 1))" -eq "$members" ] && [ "$rss_kib" -le 65536 ]; then echo yes; else echo NO; fi)"
}
if [ "${BENCH_ONLY:-}" = EXPORT ]; then
    export_row
    exit 0
fi
# The machine is shared: CPU seconds tell the import's own cost apart from the wait.
import_row() {
    local s=$1
    printf '%-34s %10.1f s %10.0f lines/s %22s %-30s %s\n' "import of $MODELS models" "$s" \
        "$(echo "$MODELS / $s" | bc -l)" "$(grep -o 'cpu .*' "$WORK/import-$MODELS.log")" \
        "<=60 s (1M)" "$(yes_no "$s <= 60 * $MODELS / 1000000")"
}
yes_no() { if [ "$(echo "$1" | bc -l)" = 1 ]; then echo yes; else echo NO; fi; }
if [ "${BENCH_ONLY:-}" = IMPORT ]; then
    log "generating and importing $MODELS models"
    import_row "$(import_family "$MODELS" "$WORK/import-only-$MODELS.db")"
    exit 0
fi

RUN=$(date +%s)
DB=$WORK/bench-$MODELS.db
if { [ "${BENCH_ONLY:-}" = R1 ] || [ -n "${BENCH_REUSE:-}" ]; } && [ -s "$DB" ] &&
    [ -s "$WORK/deep-$MODELS.ids" ]; then
    # R1 alone reads, or BENCH_REUSE is set: the family and the sample of an earlier
    # run serve again, so that two builds compare on the same models.
    log "reusing $DB"
    IMPORT_S=0
else
    log "generating and importing $MODELS models"
    IMPORT_S=$(import_family "$MODELS" "$DB")
    sqlite3 "$DB" "SELECT namespace || '/' || name FROM models WHERE depth >= (SELECT max(depth) - 2 FROM models) ORDER BY random() LIMIT 20000" > "$WORK/deep-$MODELS.ids"
fi
TOKEN=$("$CT" token create --name "bench-$RUN" --admin --db "$DB" 2>/dev/null | tail -1)

log "sampling models"
cp "$WORK/deep-$MODELS.ids" "$WORK/deep.ids"
sqlite3 "$DB" "SELECT m.namespace || '/' || m.name FROM models m JOIN model_ledger l ON l.model_id = m.id WHERE l.descendants > 1 ORDER BY random() LIMIT 20000" > "$WORK/family.ids"
sqlite3 "$DB" "SELECT namespace || '/' || name FROM models ORDER BY random() LIMIT 20000" > "$WORK/any.ids"

"$WORK/hello" "$HELLO_PORT" > /dev/null 2>&1 &
PIDS+=($!)
sync
log "starting the server on the $MODELS-model database"
serve "$DB" "$PORT"
STARTUP_S=$(wait_ready "$PORT")
SERVER=$SERVER_PID

declare -A RPS P50 P99 OK REF
scenario() { # NAME SCRIPT IDS
    local out ref
    log "$1 (reference, then carbontree)"
    ref=$(run_wrk "$1-ref" hello.lua "$HELLO_PORT")
    out=$(run_wrk "$1" "$2" "$PORT" "${3:-}")
    read -r RPS[$1] P50[$1] P99[$1] OK[$1] _ <<< "$out"
    read -r REF[$1] _ <<< "$ref"
}

scenario R1 r1.lua "$WORK/deep.ids"
if [ "${BENCH_ONLY:-}" = R1 ]; then
    # The same reads again: the first run met every model once with an empty cache.
    scenario R1-warm r1.lua "$WORK/deep.ids"
    RSS_KIB=$(awk '/VmHWM/ {print $2}' "/proc/$SERVER/status")
    metric() { curl -sf "http://127.0.0.1:$PORT/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
    printf '\nR1 alone: %s models, wrk -t%s -c%s -d%ss, serve %s; server peak RSS %.1f MiB\n' \
        "$MODELS" "$WRK_THREADS" "$CONNS" "$SECONDS_EACH" "${BENCH_SERVE_ARGS:-(defaults)}" \
        "$(echo "$RSS_KIB / 1024" | bc -l)"
    printf '%-24s %10s %10s %8s %8s %8s  %s\n' scenario req/s reference ratio p50_ms p99_ms target
    for s in R1 R1-warm; do
        printf '%-24s %10.0f %10.0f %8.2f %8.2f %8.2f  %s\n' "$s" "${RPS[$s]}" "${REF[$s]}" \
            "$(echo "${RPS[$s]} / ${REF[$s]}" | bc -l)" "${P50[$s]}" "${P99[$s]}" \
            ">=0.5x ref, p99<=5ms, RSS<=64MiB"
    done
    printf 'cache: %s hits, %s misses, %s evictions, %s entries, %s bytes\n' \
        "$(metric carbontree_cache_hits_total)" "$(metric carbontree_cache_misses_total)" \
        "$(metric carbontree_cache_evictions_total)" "$(metric carbontree_cache_entries)" \
        "$(metric carbontree_cache_bytes)"
    exit 0
fi
scenario R2 r2.lua "$WORK/family.ids"
# The aggregate reads: each reads maintained rows or walks an index, whatever
# the ledger's size.
scenario FAMILIES families.lua
scenario TOTALS totals.lua
scenario TOPN topn.lua
scenario SERIES series.lua "$WORK/any.ids"
# Bytes the server hands to write(2)/pwrite(2): WAL frames and checkpoints.
written() { awk '/^wchar/ {print $2}' "/proc/$SERVER/io"; }
BEFORE_W1=$(stored_total)
WCHAR_0=$(written)
scenario W1 w1.lua "$WORK/any.ids"
AFTER_W1=$(stored_total)
WCHAR_1=$(written)
scenario W2 w2.lua "$WORK/any.ids"
AFTER_W2=$(stored_total)
WCHAR_2=$(written)
# A lone writer (one connection): what group commit adds to one write's latency is
# its latency minus one synced write of this disk.
log "W1 with one connection (lone writes)"
BENCH_OUT=$WORK/W1-lone.out BENCH_IDS=$WORK/any.ids BENCH_TOKEN=$TOKEN BENCH_RUN=$RUN-lone \
    wrk -t1 -c1 -d"${SECONDS_EACH}s" --latency -s "$BENCH_DIR/w1.lua" \
    "http://127.0.0.1:$PORT/" > "$WORK/W1-lone.wrk" 2>&1
read -r LONE_RPS LONE_P50 LONE_P99 _ < "$WORK/W1-lone.out"
SYNC_MS=$(dd if=/dev/zero of="$WORK/sync.test" bs=4k count=200 oflag=dsync 2>&1 |
    awk '/copied/ {for (i = 1; i <= NF; i++) if ($i ~ /^s,?$/) print $(i - 1) * 1000 / 200}')
rm -f "$WORK/sync.test"
RSS_KIB=$(awk '/VmHWM/ {print $2}' "/proc/$SERVER/status")
kill "$SERVER"; wait "$SERVER" 2>/dev/null || true

log "R1 on a 1,000-model family"
SMALL_DB=$WORK/bench-1000.db
import_family 1000 "$SMALL_DB" > /dev/null
sqlite3 "$SMALL_DB" "SELECT namespace || '/' || name FROM models WHERE depth >= (SELECT max(depth) - 2 FROM models) ORDER BY random() LIMIT 20000" > "$WORK/deep-small.ids"
serve "$SMALL_DB" "$SMALL_PORT"
wait_ready "$SMALL_PORT" > /dev/null
read -r SMALL_RPS _ <<< "$(run_wrk R1-small r1.lua "$SMALL_PORT" "$WORK/deep-small.ids")"
kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true

RSS_MIB=$(echo "$RSS_KIB / 1024" | bc -l)
ratio() { echo "$1 / $2" | bc -l; }
W2_INC=$(echo "${RPS[W2]} * 1000" | bc -l)

printf '\ncarbontree benchmark: %s models, wrk -t%s -c%s -d%ss, %s, %s cores, %s\n\n' \
    "$MODELS" "$WRK_THREADS" "$CONNS" "$SECONDS_EACH" "$(uname -m)" "$(nproc)" "$(date -u +%F)"
printf '%-34s %10s %8s %8s %8s %8s %-30s %s\n' scenario req/s p50_ms p99_ms RSS_MiB ratio target met?
row() { printf '%-34s %10.0f %8.2f %8.2f %8.1f %8.2f %-30s %s\n' "$@"; }
for s in R1 R2 W1; do
    r=$(ratio "${RPS[$s]}" "${REF[$s]}")
    case $s in
        R1) t=">=0.5x ref, p99<=5ms"; m=$(yes_no "$r >= 0.5 && ${P99[$s]} <= 5") ;;
        R2) t="(no target)"; m=- ;;
        W1) t=">=0.2x ref"; m=$(yes_no "$r >= 0.2") ;;
    esac
    row "$s" "${RPS[$s]}" "${P50[$s]}" "${P99[$s]}" "$RSS_MIB" "$r" "$t" "$m"
done
for s in FAMILIES TOTALS TOPN SERIES; do
    row "$s" "${RPS[$s]}" "${P50[$s]}" "${P99[$s]}" "$RSS_MIB" "$(ratio "${RPS[$s]}" "${REF[$s]}")" \
        "(no target)" -
done
r=$(ratio "${RPS[W2]}" "${REF[W2]}")
row "W2 batch (x1000 increments)" "${RPS[W2]}" "${P50[W2]}" "${P99[W2]}" "$RSS_MIB" "$r" \
    ">=200000 increments/s" "$(yes_no "$W2_INC >= 200000")"
printf '%-34s %10.0f increments/s\n' "  W2 increments" "$W2_INC"
W1_BYTES=$(echo "($WCHAR_1 - $WCHAR_0) / ($AFTER_W1 - $BEFORE_W1)" | bc -l)
printf '%-34s %10.0f bytes %43s %-30s %s\n' "  W1 bytes written per write" "$W1_BYTES" "" \
    "<=8192 bytes" "$(yes_no "$W1_BYTES <= 8192")"
printf '%-34s %10.0f bytes\n' "  W2 bytes written per increment" \
    "$(echo "($WCHAR_2 - $WCHAR_1) / ($AFTER_W2 - $AFTER_W1)" | bc -l)"
printf '%-34s %10.0f %8.2f %8.2f %17s %-30s %s\n' "W1, one connection" "$LONE_RPS" "$LONE_P50" \
    "$LONE_P99" "" "p50 <= sync + 1 ms" "$(yes_no "$LONE_P50 <= $SYNC_MS + 1")"
printf '%-34s %19.2f %35s (dd oflag=dsync, 4 KiB)\n' "  one synced 4 KiB write, ms" "$SYNC_MS" ""
for s in R1 R2 FAMILIES TOTALS TOPN SERIES W1 W2; do
    printf '%-34s %10.0f\n' "  reference during $s" "${REF[$s]}"
done
printf '%-34s %10.0f %44s %-30s %s\n' "R1, 1,000-model family" "$SMALL_RPS" \
    "$(printf '%.2fx' "$(ratio "$SMALL_RPS" "${RPS[R1]}")")" "1M within 1.5x of 1k" \
    "$(yes_no "$SMALL_RPS / ${RPS[R1]} <= 1.5")"
if [ "$IMPORT_S" = 0 ]; then
    printf '%-34s %12s %41s %-30s %s\n' "import of $MODELS models" "(reused)" "" "<=60 s (1M)" -
else
    import_row "$IMPORT_S"
fi
printf '%-34s %10.3f s %43s %-30s %s\n' "start-up to ready /readyz" "$STARTUP_S" "" "<=0.5 s" \
    "$(yes_no "$STARTUP_S <= 0.5")"
printf '%-34s %10.1f MiB %41s %-30s %s\n' "server peak RSS (VmHWM)" "$RSS_MIB" "" "<=64 MiB" \
    "$(yes_no "$RSS_MIB <= 64")"
[ "${BENCH_EXPORT:-1}" = 0 ] || export_row

printf '\ncorrectness: stored totals against acknowledged totals\n'
W1_STORED=$((AFTER_W1 - BEFORE_W1)); W1_ACK=${OK[W1]}
W2_STORED=$((AFTER_W2 - AFTER_W1)); W2_ACK=$((OK[W2] * 1000))
status=0
# A request in flight when wrk stops may commit without wrk reading its answer:
# stored may exceed acknowledged by at most one request per connection, never
# fall below it (an acknowledged write is durable).
for pair in "W1 $W1_STORED $W1_ACK 1" "W2 $W2_STORED $W2_ACK 1000"; do
    read -r name stored ack unit <<< "$pair"
    if [ "$stored" -eq "$ack" ]; then verdict=ok
    elif [ "$stored" -gt "$ack" ] && [ $((stored - ack)) -le $((CONNS * unit)) ]; then
        verdict="ok ($(((stored - ack) / unit)) requests were in flight when wrk stopped)"
    else verdict=MISMATCH; status=1; fi
    printf '  %s: stored %s, acknowledged %s: %s\n' "$name" "$stored" "$ack" "$verdict"
done
exit $status
