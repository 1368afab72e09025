#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Replays every seed (corpus/<target>/) and every past finding (regressions/<target>/)
# through its target once, without fuzzing: the CI check that fixed crashes stay
# fixed. Prints one line per target and each failing file; exits non-zero on any.
set -uo pipefail
# shellcheck source=tests/fuzz/common.sh
source "$(dirname "$0")/common.sh"
status=0

for target in "${targets[@]}"; do
    dir="$work/$target"
    mkdir -p "$dir/db"
    mapfile -t files < <(find "$root/tests/fuzz/corpus/$target" "$root/tests/fuzz/regressions/$target" \
        -type f 2>/dev/null | LC_ALL=C sort)
    failed=()
    reasons=()
    # One process runs the files in order and stops at the first failure; name it from
    # the last "Running:" line and go on with the files after it.
    rest=("${files[@]}")
    while [ "${#rest[@]}" -gt 0 ]; do
        if CARBONTREE_FUZZ_DIR="$dir/db" "$build/fuzz/$target" -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$dir/" \
            -max_len=65536 "${rest[@]}" >"$dir/log" 2>&1; then
            break
        fi
        bad="$(sed -n 's/^Running: //p' "$dir/log" | tail -1)"
        reasons+=("$(grep -Eo 'invariant broken:.*|runtime error:.*|ERROR: [A-Za-z]+Sanitizer: [a-z-]+|ERROR: libFuzzer: [a-z-]+' "$dir/log" | head -1)")
        failed+=("${bad:-?}")
        next=()
        seen=0
        for f in "${rest[@]}"; do
            [ "$seen" -eq 1 ] && next+=("$f")
            [ "$f" = "$bad" ] && seen=1
        done
        [ "$seen" -eq 1 ] || { reasons[-1]+=" (before any input: see $dir/log)"; break; }
        rest=("${next[@]}")
    done
    if [ "${#failed[@]}" -eq 0 ]; then
        echo "$target: ok, ${#files[@]} inputs replayed (seeds and regressions)"
    else
        status=1
        echo "$target: FAILED on ${#failed[@]} of ${#files[@]} inputs:"
        for i in "${!failed[@]}"; do
            echo "    ${failed[$i]#"$root"/}: ${reasons[$i]:-see the log}"
        done
    fi
done
exit "$status"
