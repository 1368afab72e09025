#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Checks that every file git tracks that carbontree wrote states its licence in
# its first lines: "SPDX-License-Identifier: Apache-2.0" in the file's comment
# syntax. Lists the files without it and exits 1.
#
# Usage: scripts/check-spdx.sh [--fix]
#   --fix  inserts the line where each kind of file allows a comment: first line
#          of C, CMake, SQL and YAML; after the #! line (and a Python coding line,
#          leading shellcheck directives, Dockerfile parser directives, which must
#          stay first). Files that already have it are left alone, so it can run
#          again on any tree.
set -euo pipefail
cd "$(dirname "$0")/.."

readonly IDENTIFIER='SPDX-License-Identifier: Apache-2.0'
# Where the identifier may be: after at most a #! line, a coding line and a few
# directives.
readonly HEAD_LINES=5

# Files that do not carry the identifier, and why. Patterns are bash globs on the
# path from the top of the tree ('*' also matches '/').
readonly EXCEPTED=(
    # The licence and the notices themselves.
    'LICENSE'
    'NOTICE'
    # Third-party data, verbatim copies under their own licences (see NOTICE).
    'reference-data/*'
    # Fuzzer inputs: every byte is the input, a comment would change what it tests.
    'tests/fuzz/corpus/*'
    'tests/fuzz/regressions/*'
    # Golden answers: the server's bytes, compared byte for byte.
    'tests/data/golden/*'
    # Migrations released before the licence: forward-only, never edited once merged.
    # They are carbontree's own and under Apache-2.0 like the rest (NOTICE says so);
    # every later migration states it in its first line.
    'migrations/0001_models.sql'
    'migrations/0002_ledger.sql'
    'migrations/0003_reference_data.sql'
    'migrations/0004_tokens.sql'
    # JSON has no comments; package.json states "license" itself, lock files are
    # written by npm.
    '*.json'
    # Documentation.
    '*.md'
)

fix=false
case "${1:-}" in
'') ;;
--fix) fix=true ;;
*)
    echo "usage: scripts/check-spdx.sh [--fix]" >&2
    exit 2
    ;;
esac

is_excepted() {
    local pattern
    for pattern in "${EXCEPTED[@]}"; do
        # shellcheck disable=SC2053 # the pattern is a glob on purpose
        if [[ "$1" == $pattern ]]; then
            return 0
        fi
    done
    return 1
}

# The comment style of a file from its name, else from its #! line:
# c (/* */), hash (#), dash (--), slash (//), xml (<!-- -->); nothing when unknown.
comment_style() {
    local path="$1" name="${1##*/}" first
    case "$name" in
    *.c | *.h | *.css) echo c ;;
    CMakeLists.txt | *.cmake) echo hash ;;
    *.sh | *.bash | *.py) echo hash ;;
    *.yaml | *.yml | .clang-format | .clang-tidy) echo hash ;;
    Dockerfile | *.dockerfile | .gitignore | .dockerignore | .editorconfig) echo hash ;;
    # libFuzzer and AFL dictionaries skip lines that start with '#'.
    *.dict) echo hash ;;
    *.sql | *.lua) echo dash ;;
    *.js | *.mjs | *.cjs) echo slash ;;
    *.html | *.svg) echo xml ;;
    *)
        IFS= read -r first <"$path" || true
        case "$first" in
        '#!'*/env\ node* | '#!'*/node*) echo slash ;;
        '#!'*lua*) echo dash ;;
        '#!'*sh | '#!'*sh\ * | '#!'*python*) echo hash ;;
        esac
        ;;
    esac
}

# The comment line that states the licence, in a style.
identifier_line() {
    case "$1" in
    c) echo "/* $IDENTIFIER */" ;;
    hash) echo "# $IDENTIFIER" ;;
    dash) echo "-- $IDENTIFIER" ;;
    slash) echo "// $IDENTIFIER" ;;
    xml) echo "<!-- $IDENTIFIER -->" ;;
    esac
}

# How many leading lines must stay before the identifier: a #! line, then a
# Python coding declaration (only honoured on line 1 or 2), shellcheck
# directives that apply to the whole file, and Dockerfile parser directives
# (only honoured before any comment).
prologue_lines() {
    awk -v name="${1##*/}" '
        NR == 1 && /^#!/ { n = 1; next }
        name ~ /\.py$/ && NR <= 2 && /^#.*coding[:=]/ { n = NR; next }
        /^# shellcheck / { n = NR; next }
        (name == "Dockerfile" || name ~ /\.dockerfile$/) && /^#[ \t]*[A-Za-z]+[ \t]*=/ { n = NR; next }
        { exit }
        END { print n + 0 }
    ' "$1"
}

has_identifier() {
    head -n "$HEAD_LINES" "$1" | grep -Eq "$IDENTIFIER( \\*/| -->)?[[:space:]]*\$"
}

# Another licence stated where ours would be (a third-party file).
other_identifier() {
    head -n "$HEAD_LINES" "$1" | grep -Eo 'SPDX-License-Identifier: *[^ *"]+' |
        grep -v ': *Apache-2\.0$' | head -n 1 || true
}

insert_identifier() {
    local path="$1" line="$2" after
    after="$(prologue_lines "$path")"
    if [ ! -s "$path" ]; then
        printf '%s\n' "$line" >"$path"
    elif [ "$after" -eq 0 ]; then
        sed -i "1i\\
$line" "$path"
    else
        sed -i "${after}a\\
$line" "$path"
    fi
}

missing=()
unknown=()
foreign=()
n_fixed=0
n_checked=0
while IFS= read -r -d '' path; do
    if is_excepted "$path" || [ -L "$path" ] || [ ! -f "$path" ]; then
        continue
    fi
    n_checked=$((n_checked + 1))
    if has_identifier "$path"; then
        continue
    fi
    other="$(other_identifier "$path")"
    if [ -n "$other" ]; then
        foreign+=("$path ($other)")
        continue
    fi
    style="$(comment_style "$path")"
    if [ -z "$style" ]; then
        unknown+=("$path")
    elif $fix; then
        insert_identifier "$path" "$(identifier_line "$style")"
        n_fixed=$((n_fixed + 1))
    else
        missing+=("$path")
    fi
done < <(git ls-files -z)

if $fix && [ "$n_fixed" -gt 0 ]; then
    echo "check-spdx: inserted '$IDENTIFIER' into $n_fixed files"
fi
status=0
if [ "${#missing[@]}" -gt 0 ]; then
    echo "check-spdx: no '$IDENTIFIER' in the first $HEAD_LINES lines of:" >&2
    printf '  %s\n' "${missing[@]}" >&2
    echo "check-spdx: scripts/check-spdx.sh --fix inserts it" >&2
    status=1
fi
if [ "${#unknown[@]}" -gt 0 ]; then
    echo "check-spdx: no '$IDENTIFIER', and no known comment syntax to insert it, in:" >&2
    printf '  %s\n' "${unknown[@]}" >&2
    echo "check-spdx: add the file's kind to comment_style, or to EXCEPTED with the reason," \
        "in scripts/check-spdx.sh" >&2
    status=1
fi
if [ "${#foreign[@]}" -gt 0 ]; then
    echo "check-spdx: another licence than Apache-2.0 in:" >&2
    printf '  %s\n' "${foreign[@]}" >&2
    echo "check-spdx: third-party files go to EXCEPTED in scripts/check-spdx.sh and to NOTICE" >&2
    status=1
fi
if [ "$status" -eq 0 ]; then
    echo "check-spdx: all $n_checked files carbontree wrote state '$IDENTIFIER'"
fi
exit "$status"
