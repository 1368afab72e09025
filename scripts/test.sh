#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs what is missing and runs the whole test suite (with a throw-away
# PostgreSQL cluster for the statement layer's tests): the formatting and licence
# checks; the problem types of openapi.yaml against the error table
# (scripts/gen-problems.sh --check); the ci preset (gcc, warnings as errors) and its
# unit, HTTP and README tests (the checks' own tests among them); the OpenAPI contract
# (lint, and every HTTP answer of those tests validated against it); the same build
# with clang and its unit tests; the same suite under AddressSanitizer +
# UndefinedBehaviorSanitizer (the dev preset); the api, db, statement layer and
# HTTP suites under ThreadSanitizer (the tsan preset); the fuzzers (seeds,
# regressions, and 60 s of fuzzing per target). Presets are in CMakePresets.json; each builds in
# build/<preset>.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh test
jobs="$(nproc)"

echo "== a throw-away PostgreSQL cluster for the statement layer's tests (scripts/pg-cluster.sh)"
# A short folder: the server's socket path must fit in 107 bytes.
pg_dir="$(mktemp -d /tmp/carbontree-pg.XXXXXX)"
trap 'scripts/pg-cluster.sh stop "$pg_dir"' EXIT
CARBONTREE_TEST_PG_URI="$(scripts/pg-cluster.sh start "$pg_dir")"
export CARBONTREE_TEST_PG_URI CARBONTREE_TEST_PG_DIR="$pg_dir"

echo "== formatting (clang-format, .clang-format)"
git ls-files '*.c' '*.h' | xargs clang-format --dry-run --Werror

echo "== licence: SPDX identifiers (scripts/check-spdx.sh), NOTICE (scripts/check-notice.sh)"
scripts/check-spdx.sh
scripts/check-notice.sh

echo "== problem types: openapi.yaml agrees with the error table (core/err.h)"
scripts/gen-problems.sh --check

echo "== build (gcc, warnings are errors) and test; every HTTP answer is recorded for the contract check"
cmake --preset ci >/dev/null
cmake --build --preset ci -j"$jobs"
contract_log="$PWD/build/ci/contract.jsonl"
rm -f "$contract_log"
CARBONTREE_CONTRACT_LOG="$contract_log" ctest --preset ci -j"$jobs"
echo "screenshots of the explorer (browser_explorer), the CI artifact: build/ci/artifacts/screenshots/"

echo "== contract: lint openapi.yaml, test the validator, validate every recorded answer"
CARBONTREE_BIN="$PWD/build/ci/carbontree" tests/contract/check.sh "$contract_log"

echo "== build with clang (warnings are errors) and run its unit tests"
cmake --preset ci-clang >/dev/null
cmake --build --preset ci-clang -j"$jobs"
ctest --preset ci-clang -j"$jobs"

echo "== build with AddressSanitizer + UndefinedBehaviorSanitizer and test"
cmake --preset dev >/dev/null
cmake --build --preset dev -j"$jobs"
ctest --preset dev -j"$jobs"

echo "== build with ThreadSanitizer and run the suites that start threads (api, db, sql, HTTP)"
cmake --preset tsan >/dev/null
cmake --build --preset tsan -j"$jobs"
ctest --preset tsan -j"$jobs" -R '^test_((api|db|http)_|sql$)'

echo "== fuzzing (clang, ASan + UBSan): replay seeds and regressions, then 60 s per target"
tests/fuzz/regress.sh
tests/fuzz/run.sh 60

echo "== all tests passed"
