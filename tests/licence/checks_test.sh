#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Tests of scripts/check-notice.sh and scripts/check-spdx.sh. check-notice must pass
# on the tree as it is. Both then run on a copy of the tree in a temporary git
# repository: check-spdx --fix must leave the copy passing, by inserting one line
# per file, the same way when run again; each check must fail, naming the file and
# saying what to do, on a C file without the identifier, a file of an unknown
# kind, a file under another licence, a reference-data file NOTICE does not name,
# a licence text no entry uses, and a file embedded but not marked so.
# Usage: checks_test.sh [source dir]
# Exits 77 (skipped) when the source dir is not a git checkout.
set -euo pipefail

src="$(cd "${1:-$(dirname "$0")/../..}" && pwd)"
if ! git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    echo "SKIP: $src is not a git checkout; the checks look at the files git tracks"
    exit 77
fi

work="$(mktemp -d /tmp/carbontree-licence-XXXXXX)"
trap 'rm -rf "$work"' EXIT
failures=0

fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

# expect_pass NAME CHECK...: the command exits 0.
expect_pass() {
    local name="$1" out
    shift
    if out="$("$@" 2>&1)"; then
        echo "ok: $name"
    else
        fail "$name: '$*' failed:"
        printf '%s\n' "$out" >&2
    fi
}

# expect_fail NAME WORDS CHECK...: the command exits 1 and its output contains
# WORDS (a fixed string; the file name and what to do).
expect_fail() {
    local name="$1" words="$2" out status=0
    shift 2
    out="$("$@" 2>&1)" || status=$?
    if [ "$status" -ne 1 ]; then
        fail "$name: '$*' exited $status, not 1:"
        printf '%s\n' "$out" >&2
    elif ! grep -qF -- "$words" <<<"$out"; then
        fail "$name: the output of '$*' does not say '$words':"
        printf '%s\n' "$out" >&2
    else
        echo "ok: $name"
    fi
}

# ---- the tree as it is ----

expect_pass "check-notice passes on the tree" "$src/scripts/check-notice.sh"

# ---- a copy of the tree, in its own repository ----

repo="$work/repo"
mkdir "$repo"
(cd "$src" && git ls-files -z | tar --null -T - -cf -) | tar -C "$repo" -xf -
git -C "$repo" init -q
git -C "$repo" add -A
notice="$repo/scripts/check-notice.sh"
spdx="$repo/scripts/check-spdx.sh"

expect_pass "check-notice passes on the copy" "$notice"
expect_pass "check-spdx --fix knows how to mark every file of the tree" "$spdx" --fix
expect_pass "check-spdx passes after --fix" "$spdx"
git -C "$repo" diff >"$work/first.diff"
expect_pass "check-spdx --fix again" "$spdx" --fix
if git -C "$repo" diff | cmp -s - "$work/first.diff"; then
    echo "ok: check-spdx --fix changes nothing the second time"
else
    fail "check-spdx --fix changed the tree again on its second run"
fi
bad_numstat="$(git -C "$repo" diff --numstat | awk '$1 != 1 || $2 != 0')"
if [ -z "$bad_numstat" ]; then
    echo "ok: check-spdx --fix only inserts one line per file"
else
    fail "check-spdx --fix did more than insert one line in: $bad_numstat"
fi
if git -C "$repo" diff -U0 | grep '^+[^+]' | grep -vqF 'SPDX-License-Identifier: Apache-2.0'; then
    fail "check-spdx --fix inserted a line that is not the identifier"
fi
if command -v clang-format >/dev/null 2>&1; then
    expect_pass "clang-format accepts the C files after --fix" \
        bash -c "cd '$repo' && git ls-files -z '*.c' '*.h' | xargs -0 clang-format --dry-run --Werror"
fi
git -C "$repo" add -A

# ---- check-spdx on files without the identifier ----

printf '/* A file someone forgot to mark. */\nint forgotten;\n' >"$repo/core/forgotten.c"
git -C "$repo" add core/forgotten.c
expect_fail "check-spdx names a C file without the identifier" "  core/forgotten.c" "$spdx"
expect_fail "check-spdx says how to fix it" "check-spdx.sh --fix inserts it" "$spdx"
expect_pass "check-spdx --fix marks the C file" "$spdx" --fix
if [ "$(head -n 1 "$repo/core/forgotten.c")" = "/* SPDX-License-Identifier: Apache-2.0 */" ] &&
    [ "$(sed -n 2p "$repo/core/forgotten.c")" = "/* A file someone forgot to mark. */" ]; then
    echo "ok: the identifier is the C file's first line"
else
    fail "core/forgotten.c after --fix: $(head -n 2 "$repo/core/forgotten.c")"
fi

# Lines that must stay first: the #! line, a Python coding line, shellcheck
# directives, Dockerfile parser directives.
mkdir -p "$repo/tools"
printf '#!/bin/sh\n# shellcheck shell=sh\necho hi\n' >"$repo/tools/hello"
printf '#!/usr/bin/env python3\n# -*- coding: utf-8 -*-\nprint("hi")\n' >"$repo/tools/hello.py"
printf '# syntax=docker/dockerfile:1\nFROM debian:12\n' >"$repo/tools/Dockerfile"
printf 'SELECT 1;\n' >"$repo/tools/one.sql"
git -C "$repo" add tools
expect_fail "check-spdx names a script without the identifier" "  tools/hello" "$spdx"
expect_pass "check-spdx --fix marks the scripts" "$spdx" --fix
check_lines() {
    local file="$1" expected="$2"
    if [ "$(head -n 3 "$repo/$file")" = "$(printf '%b' "$expected")" ]; then
        echo "ok: --fix puts the identifier in its place in $file"
    else
        fail "$file after --fix:"
        head -n 3 "$repo/$file" >&2
    fi
}
check_lines tools/hello \
    '#!/bin/sh\n# shellcheck shell=sh\n# SPDX-License-Identifier: Apache-2.0'
check_lines tools/hello.py \
    '#!/usr/bin/env python3\n# -*- coding: utf-8 -*-\n# SPDX-License-Identifier: Apache-2.0'
check_lines tools/Dockerfile \
    '# syntax=docker/dockerfile:1\n# SPDX-License-Identifier: Apache-2.0\nFROM debian:12'
check_lines tools/one.sql '-- SPDX-License-Identifier: Apache-2.0\nSELECT 1;'

printf 'opaque\n' >"$repo/tools/blob.xyz"
git -C "$repo" add tools/blob.xyz
expect_fail "check-spdx names a file whose comment syntax it does not know" \
    "  tools/blob.xyz" "$spdx" --fix
expect_fail "check-spdx says where to teach it a kind" "add the file's kind to comment_style" \
    "$spdx"
git -C "$repo" rm -q --cached tools/blob.xyz

printf '/* SPDX-License-Identifier: MIT */\nint borrowed;\n' >"$repo/core/borrowed.c"
git -C "$repo" add core/borrowed.c
expect_fail "check-spdx names a file under another licence, and --fix leaves it" \
    "core/borrowed.c (SPDX-License-Identifier: MIT)" "$spdx" --fix
if [ "$(head -n 1 "$repo/core/borrowed.c")" = "/* SPDX-License-Identifier: MIT */" ]; then
    echo "ok: --fix leaves a file under another licence alone"
else
    fail "--fix changed core/borrowed.c"
fi
git -C "$repo" rm -q --cached core/borrowed.c

printf 'notes\n' >"$repo/tools/notes.md"
git -C "$repo" add tools/notes.md
expect_pass "check-spdx passes over excepted kinds (Markdown)" "$spdx"

# ---- check-notice ----

mkdir -p "$repo/reference-data/new-source"
printf 'a,b\n1,2\n' >"$repo/reference-data/new-source/table.csv"
git -C "$repo" add reference-data/new-source/table.csv
expect_fail "check-notice names a reference-data file NOTICE does not list" \
    "reference-data/new-source/table.csv: not named in NOTICE" "$notice"

cp "$repo/NOTICE" "$work/NOTICE.orig"
printf '\nNew source\n  Source: https://example.org/new\n  Files:\n    %s\n' \
    reference-data/new-source/table.csv >>"$repo/NOTICE"
expect_fail "check-notice refuses an entry without a Licence: line" \
    "reference-data/new-source/table.csv: named in NOTICE in an entry without a Licence: line" \
    "$notice"

cp "$work/NOTICE.orig" "$repo/NOTICE"
printf '\nNew source\n  Licence: %s\n  Files:\n    %s\n' \
    'MIT (reference-data/licenses/new-source.LICENSE.txt)' \
    reference-data/new-source/table.csv >>"$repo/NOTICE"
expect_fail "check-notice names a licence text that is missing" \
    "the licence text reference-data/licenses/new-source.LICENSE.txt, which is not in the tree" \
    "$notice"
printf 'MIT License\n' >"$repo/reference-data/licenses/new-source.LICENSE.txt"
git -C "$repo" add reference-data/licenses/new-source.LICENSE.txt
expect_pass "check-notice passes once the file is listed under a licence" "$notice"

printf 'MIT License\n' >"$repo/reference-data/licenses/unused.LICENSE.txt"
git -C "$repo" add reference-data/licenses/unused.LICENSE.txt
expect_fail "check-notice names a licence text no entry uses" \
    "reference-data/licenses/unused.LICENSE.txt: licence text that no Licence: line in NOTICE names" \
    "$notice"
git -C "$repo" rm -q --cached reference-data/licenses/unused.LICENSE.txt

git -C "$repo" rm -q --cached reference-data/new-source/table.csv
expect_fail "check-notice names a file NOTICE lists that is not in the tree" \
    "NOTICE names reference-data/new-source/table.csv, which is not in the tree" "$notice"

cp "$work/NOTICE.orig" "$repo/NOTICE"
git -C "$repo" rm -q --cached reference-data/licenses/new-source.LICENSE.txt
sed -i 's|^\(    reference-data/mlco2-impact/gpus.csv\) \[embedded\]$|\1|' "$repo/NOTICE"
expect_fail "check-notice names an embedded file not marked [embedded]" \
    "reference-data/mlco2-impact/gpus.csv: embedded in the binary by the build but not marked" \
    "$notice"
cp "$work/NOTICE.orig" "$repo/NOTICE"
sed -i 's|^\(    reference-data/mlco2-impact/gpus.csv\) \[embedded\]$|\1|; s|^\(    reference-data/green-algorithms/defaults_PUE.csv\)$|\1 [embedded]|' \
    "$repo/NOTICE"
expect_fail "check-notice names a file marked [embedded] that the build does not embed" \
    "reference-data/green-algorithms/defaults_PUE.csv: marked [embedded] in NOTICE but no CMake" \
    "$notice"
cp "$work/NOTICE.orig" "$repo/NOTICE"
expect_pass "check-notice passes on the restored copy" "$notice"

if [ "$failures" -gt 0 ]; then
    echo "$failures check(s) failed" >&2
    exit 1
fi
echo "all checks behaved"
