#!/usr/bin/env bash
# Installs what is missing and runs the whole test suite: a build with warnings as
# errors, the same suite under AddressSanitizer + UndefinedBehaviorSanitizer, and
# the OpenAPI lint.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh test
jobs="$(nproc)"

echo "== build (warnings are errors) and test"
cmake -S . -B build/test -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWARNINGS_AS_ERRORS=ON >/dev/null
cmake --build build/test -j"$jobs"
ctest --test-dir build/test --output-on-failure -j"$jobs"

echo "== build with AddressSanitizer + UndefinedBehaviorSanitizer and test"
cmake -S . -B build/asan -DCMAKE_BUILD_TYPE=Debug -DWARNINGS_AS_ERRORS=ON \
    -DSANITIZE='address;undefined' >/dev/null
cmake --build build/asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build/asan --output-on-failure -j"$jobs"

if [ -x tests/contract/lint.sh ]; then
    echo "== OpenAPI lint"
    tests/contract/lint.sh
fi
echo "== all tests passed"
