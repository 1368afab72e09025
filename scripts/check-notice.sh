#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Checks that NOTICE accounts for every third-party file: each file under
# reference-data/ is named in the Files: list of a NOTICE entry that has a
# Licence: line, each licence text there is the one an entry points to, and the
# files the build embeds in the binary are exactly those marked [embedded].
# Exits 1 and lists the problems otherwise.
#
# Not named as data: reference-data/SOURCES.md is carbontree's own description of
# the data, and reference-data/licenses/* are the licence texts themselves; an
# entry's Licence: line must name its text instead, so a text no entry uses, or
# an entry whose text is missing, fails too.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -f NOTICE ]; then
    echo "check-notice: no NOTICE file at the top of the tree" >&2
    exit 1
fi

if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    tree_files() { git ls-files -- "$1"; }
else
    # A source tarball: every file is part of it.
    tree_files() { find "$1" -path ./build -prune -o -type f -print | sed 's|^\./||' | LC_ALL=C sort; }
fi

# One line per fact NOTICE states, from its blank-line separated entries:
#   file <path> <licence> <0|1 embedded>     a Files: line under a Licence: line
#   file <path> - <0|1>                      a Files: line in an entry without one
#   text <path>                              a licence text a Licence: line names
notice_facts() {
    awk '
        function flush(   i) {
            for (i = 1; i <= n; i++)
                print "file", path[i], (licence == "" ? "-" : licence), embedded[i]
            n = 0; licence = ""; key = ""
        }
        /^[[:space:]]*$/ { flush(); next }
        /^  [A-Z][A-Za-z]*:/ {
            key = $1
            if (key == "Licence:")
                licence = $2
        }
        key == "Licence:" {
            for (i = 1; i <= NF; i++)
                if (match($i, /reference-data\/licenses\/[^ ,;)]+/))
                    print "text", substr($i, RSTART, RLENGTH)
        }
        key == "Files:" && /^    [^ ]/ {
            n++; path[n] = $1; embedded[n] = ($2 == "[embedded]")
        }
        END { flush() }
    ' NOTICE
}

# Every reference-data path a CMake file names is embedded in the binary
# (cmake/Embed.cmake turns the listed files into C arrays).
embedded_by_build() {
    tree_files . | grep -E '(^|/)CMakeLists\.txt$|\.cmake$' |
        xargs -r grep -ho 'reference-data/[A-Za-z0-9._/-]*' | LC_ALL=C sort -u
}

problems=()
facts="$(notice_facts)"

if ! grep -q '^Copyright [0-9]\{4\}\(-[0-9]\{4\}\)\? The carbontree authors$' NOTICE; then
    problems+=("NOTICE: no 'Copyright YYYY The carbontree authors' line")
fi

declare -A licence_of=() is_embedded=() text_used=()
while read -r kind path licence embedded; do
    case "$kind" in
    file)
        licence_of["$path"]="$licence"
        if [ "$licence" != - ] && ! [[ "$licence" =~ ^[A-Za-z0-9][A-Za-z0-9.+-]*$ ]]; then
            problems+=("NOTICE: '$licence' (for $path) is not an SPDX licence identifier")
        fi
        is_embedded["$path"]="$embedded"
        ;;
    text) text_used["$path"]=1 ;;
    esac
done <<<"$facts"

declare -A in_tree=()
n_data=0
while read -r path; do
    [ -n "$path" ] || continue
    in_tree["$path"]=1
    case "$path" in
    reference-data/SOURCES.md) continue ;;
    reference-data/licenses/*)
        if [ -z "${text_used[$path]:-}" ]; then
            problems+=("$path: licence text that no Licence: line in NOTICE names")
        fi
        continue
        ;;
    esac
    n_data=$((n_data + 1))
    if [ -z "${licence_of[$path]+set}" ]; then
        problems+=("$path: not named in NOTICE (list it under its source's Licence: line)")
    elif [ "${licence_of[$path]}" = "-" ]; then
        problems+=("$path: named in NOTICE in an entry without a Licence: line")
    fi
done < <(tree_files reference-data)

for path in "${!licence_of[@]}"; do
    if [ -z "${in_tree[$path]:-}" ]; then
        problems+=("NOTICE names $path, which is not in the tree")
    fi
done
for path in "${!text_used[@]}"; do
    if [ -z "${in_tree[$path]:-}" ]; then
        problems+=("NOTICE names the licence text $path, which is not in the tree")
    fi
done

declare -A built_in=()
while read -r path; do
    [ -n "$path" ] || continue
    built_in["$path"]=1
    if [ "${is_embedded[$path]:-0}" != 1 ]; then
        problems+=("$path: embedded in the binary by the build but not marked [embedded] in NOTICE")
    fi
done < <(embedded_by_build)
for path in "${!is_embedded[@]}"; do
    if [ "${is_embedded[$path]}" = 1 ] && [ -z "${built_in[$path]:-}" ]; then
        problems+=("$path: marked [embedded] in NOTICE but no CMake file embeds it")
    fi
done

if [ "${#problems[@]}" -gt 0 ]; then
    printf 'check-notice: %s\n' "${problems[@]}" | LC_ALL=C sort >&2
    echo "check-notice: ${#problems[@]} problem(s) in NOTICE" >&2
    exit 1
fi
echo "check-notice: NOTICE names all $n_data reference-data files with their licence"
