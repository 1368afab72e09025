#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# scripts/gen-problems.sh --check passes on the committed openapi.yaml and fails,
# saying what differs, on copies where one line it checks disagrees with the error
# table; writing the copy again restores the committed file.
#
#   tests/contract/gen_problems_test.sh [tools/problem_types as built]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
generator=${1:-}
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

gen() {
    "$root/scripts/gen-problems.sh" ${generator:+--generator "$generator"} "$@"
}

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

gen --check >/dev/null || fail "the committed openapi.yaml disagrees with the error table"

# refused NAME SED-SCRIPT EXPECTED: a copy altered by SED-SCRIPT fails the check
# with EXPECTED in its message, and a write makes it the committed file again
# (for generated lines) or still fails (for hand-written ones).
refused() {
    local name=$1 script=$2 expected=$3 copy="$tmp/$1.yaml"
    sed "$script" "$root/openapi.yaml" >"$copy"
    cmp -s "$copy" "$root/openapi.yaml" && fail "$name: the alteration changed nothing"
    if gen --check --spec "$copy" >"$tmp/$name.out" 2>&1; then
        fail "$name: the check passed on an altered copy"
    fi
    grep -qF -- "$expected" "$tmp/$name.out" ||
        fail "$name: the message does not say '$expected':$(printf '\n')$(cat "$tmp/$name.out")"
    echo "ok: $name is refused"
}

refused table-status 's#^\(        | `https://carbontree.dev/problems/conflict` | \)409#\1410#' \
    'differ from the error table in core/err.h'
refused enum-line '\#^            - https://carbontree.dev/problems/shutting-down$#d' \
    '+            - https://carbontree.dev/problems/shutting-down'
refused retry-after 's#^\(        | `https://carbontree.dev/problems/busy` | 503 | Service busy | \)≥ 1#\1—#' \
    '| Service busy | ≥ 1 |'
refused unknown-type 's#problems/not-found$#problems/not-founds#' \
    "problem type 'not-founds' is not in the error table"
refused schema-title 's#^              const: Too many requests$#              const: Slow down#' \
    'schema RateLimitedProblem'
refused when-line '\#^        - `forbidden`: #d' 'needs one line for `forbidden`'
refused markers '\#END generated problem type enum#d' "has no END line"

# A write puts generated lines back as they were.
cp "$tmp/table-status.yaml" "$tmp/rewritten.yaml"
gen --spec "$tmp/rewritten.yaml" >/dev/null
cmp -s "$tmp/rewritten.yaml" "$root/openapi.yaml" || fail "a write did not restore the table"
gen --check --spec "$tmp/rewritten.yaml" >/dev/null || fail "the rewritten copy fails the check"
echo "ok: a write restores the generated lines"

# Markers out of place: a write leaves the file as it was.
cp "$tmp/markers.yaml" "$tmp/unwritten.yaml"
if gen --spec "$tmp/unwritten.yaml" >/dev/null 2>&1; then
    fail "a write passed with a part's END line missing"
fi
cmp -s "$tmp/unwritten.yaml" "$tmp/markers.yaml" || fail "a write changed a file without END line"
echo "ok: a write with markers out of place changes nothing"
