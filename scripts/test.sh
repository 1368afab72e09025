#!/usr/bin/env bash
# Installs what is missing and runs the whole test suite: the formatting and licence
# checks; the problem types of openapi.yaml against the error table
# (scripts/gen-problems.sh --check); a build with warnings as errors and its unit, HTTP
# and README tests (the checks' own tests among them); the OpenAPI contract (lint, and
# every HTTP answer of those tests validated against it); the same suite under
# AddressSanitizer + UndefinedBehaviorSanitizer; the fuzzers (seeds, regressions, and
# 60 s of fuzzing per target).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh test
jobs="$(nproc)"

echo "== formatting (clang-format, .clang-format)"
git ls-files '*.c' '*.h' | xargs clang-format --dry-run --Werror

echo "== licence: SPDX identifiers (scripts/check-spdx.sh), NOTICE (scripts/check-notice.sh)"
scripts/check-spdx.sh
scripts/check-notice.sh

echo "== problem types: openapi.yaml agrees with the error table (core/err.h)"
scripts/gen-problems.sh --check

echo "== build (warnings are errors) and test; every HTTP answer is recorded for the contract check"
cmake -S . -B build/test -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWARNINGS_AS_ERRORS=ON >/dev/null
cmake --build build/test -j"$jobs"
contract_log="$PWD/build/test/contract.jsonl"
rm -f "$contract_log"
CARBONTREE_CONTRACT_LOG="$contract_log" ctest --test-dir build/test --output-on-failure -j"$jobs"

echo "== contract: lint openapi.yaml, test the validator, validate every recorded answer"
tests/contract/check.sh "$contract_log"

echo "== build with AddressSanitizer + UndefinedBehaviorSanitizer and test"
cmake -S . -B build/asan -DCMAKE_BUILD_TYPE=Debug -DWARNINGS_AS_ERRORS=ON \
    -DSANITIZE='address;undefined' >/dev/null
cmake --build build/asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build/asan --output-on-failure -j"$jobs"

echo "== fuzzing (clang, ASan + UBSan): replay seeds and regressions, then 60 s per target"
tests/fuzz/regress.sh
tests/fuzz/run.sh 60

echo "== all tests passed"
