#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The fault sweeps (tests/faults/sweep.c): the I/O-error sweep over every write
# route and the out-of-memory sweep over every route. Without --full, the sample CI
# runs (ctest -L faults); with it, every fault point of every case, in both modes.
# Builds test_faults in the build directory given (default build/dev, the dev
# preset: AddressSanitizer with LeakSanitizer, so a leak on any failure path fails).
#
#   tests/faults/sweep.sh [--full] [--case NAME] [build-dir]
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
args=()
build="$root/build/dev"
while [ $# -gt 0 ]; do
    case "$1" in
    --full) args+=(--full) ;;
    --case) args+=(--case "$2"); shift ;;
    -*) echo "usage: $0 [--full] [--case NAME] [build-dir]" >&2; exit 2 ;;
    *) build="$1" ;;
    esac
    shift
done
if [ ! -f "$build/CMakeCache.txt" ]; then
    cmake --preset dev -S "$root" >/dev/null
    build="$root/build/dev"
fi
cmake --build "$build" --target test_faults -j2 >/dev/null
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
status=0
for kind in io oom; do
    "$build/tests/test_faults" "$kind" "${args[@]}" || status=1
done
exit $status
