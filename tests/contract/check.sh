#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Contract checks: lints openapi.yaml, parses it with two strict YAML parsers
# (yaml_parsers.mjs), runs the checks' own tests, then validates every HTTP response
# recorded in a log against openapi.yaml.
#
#   [CARBONTREE_BIN=build/ci/carbontree] tests/contract/check.sh <contract.jsonl> [validate.mjs options, e.g. --coverage]
#
# With CARBONTREE_BIN (required under CI=true) it also runs the tests that start a
# server of their own: schema_table.test.mjs and examples.test.mjs.
#
# The log is written by the HTTP test harness when CARBONTREE_CONTRACT_LOG names a
# file (see tests/http/harness.c), e.g.
#   rm -f build/ci/contract.jsonl
#   CARBONTREE_CONTRACT_LOG=$PWD/build/ci/contract.jsonl ctest --preset ci -L http
#   tests/contract/check.sh build/ci/contract.jsonl
set -eu
if [ $# -lt 1 ]; then
    echo "usage: $0 <contract.jsonl> [--coverage] [--allow-empty]" >&2
    exit 2
fi
log=$1
shift
case $log in
/*) ;;
*) log=$PWD/$log ;;
esac
case ${CARBONTREE_BIN:-} in
'' | /*) ;;
*) CARBONTREE_BIN=$PWD/$CARBONTREE_BIN ;;
esac
export CARBONTREE_BIN
here=$(cd "$(dirname "$0")" && pwd)
"$here/lint.sh"
cd "$here"
node yaml_parsers.mjs
node --test validator.test.mjs yaml_parsers.test.mjs
# The tests that need a real server: the request schemas refuse what it refuses, and
# every request example runs in order with its documented status.
if [ -n "${CARBONTREE_BIN:-}" ]; then
    node --test schema_table.test.mjs examples.test.mjs
elif [ "${CI:-}" = true ]; then
    echo "FAIL: CARBONTREE_BIN must name the carbontree binary under CI" >&2
    exit 1
else
    echo "SKIP: schema_table.test.mjs, examples.test.mjs (set CARBONTREE_BIN to the carbontree binary)"
fi
exec node validate.mjs "$log" "$@"
