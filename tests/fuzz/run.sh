#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Fuzzes each target for a while (tests/fuzz/README.md): builds them, copies the
# seed corpus (never writing into the repository), runs libFuzzer with a 64 KiB input
# cap, 10 s per input and 2 GiB of memory, and prints one line per target. Exits
# non-zero on any crash, leak, timeout or out-of-memory; the failing input is kept
# under $FUZZ_OUT (default /tmp/carbontree-fuzz-findings) for regressions/.
#   tests/fuzz/run.sh [seconds per target, default 60]
set -uo pipefail
seconds="${1:-60}"
# shellcheck source=tests/fuzz/common.sh
source "$(dirname "$0")/common.sh"
out="${FUZZ_OUT:-/tmp/carbontree-fuzz-findings}"
status=0

for target in "${targets[@]}"; do
    dir="$work/$target"
    mkdir -p "$dir/corpus" "$dir/artifacts" "$dir/db"
    cp -R "$root/tests/fuzz/corpus/$target/." "$dir/corpus/"
    CARBONTREE_FUZZ_DIR="$dir/db" "$build/fuzz/$target" "$dir/corpus" \
        -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
        -dict="$root/tests/fuzz/carbontree.dict" -print_final_stats=1 \
        -artifact_prefix="$dir/artifacts/" >"$dir/log" 2>&1
    rc=$?
    execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -1)"
    speed="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$dir/log" | tail -1)"
    cov="$(grep -Eo 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9]+[a-zA-Z]*' "$dir/log" | tail -1)"
    if [ "$rc" -eq 0 ]; then
        echo "$target: ok, ${execs:-?} runs in ${seconds}s (${speed:-?}/s), ${cov:-no coverage line}"
    else
        status=1
        mkdir -p "$out/$target"
        cp "$dir/log" "$out/$target/log"
        cp "$dir/artifacts/"* "$out/$target/" 2>/dev/null
        what="$(grep -Eo 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer|UndefinedBehaviorSanitizer)[^(]*|runtime error:.*|invariant broken:.*' "$dir/log" | head -1)"
        echo "$target: FAILED (exit $rc) after ${execs:-?} runs: ${what:-see log}; input and log in $out/$target"
        grep -E 'invariant broken|runtime error|ERROR:|SUMMARY:|^    #[0-9]+ .* in ' "$dir/log" | head -25 | sed 's/^/    /'
    fi
done
exit "$status"
