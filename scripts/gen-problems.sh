#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Writes the problem types of the error table (core/err.h) into openapi.yaml: each
# part between the lines "BEGIN generated <part> (scripts/gen-problems.sh)" and
# "END generated <part>" is rewritten from what tools/problem_types prints (the
# table of types in the Problem schema's description, the enum of its `type`).
# Then checks the hand-written parts that name problem types against the table:
# every type URI in the file is a type of the table, every *Problem schema's title
# and status are its types' own, its errors are empty where the table withholds
# the handler's detail, and every type has one line of the "When each is sent"
# list.
#
#   scripts/gen-problems.sh [--check] [--spec FILE] [--generator PROGRAM]
#
# --check writes nothing: it exits 1, saying what differs, when the spec is not
# what this script would write or a hand-written part disagrees with the table.
# PROGRAM is tools/problem_types as CMake builds it; without it the script
# compiles tools/problem_types.c and core/err.c with cc into a temporary folder.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

mode=write
spec="$root/openapi.yaml"
generator=""
while [ $# -gt 0 ]; do
    case $1 in
    --check) mode=check ;;
    --spec) spec=$2; shift ;;
    --generator) generator=$2; shift ;;
    *) echo "usage: $0 [--check] [--spec FILE] [--generator PROGRAM]" >&2; exit 2 ;;
    esac
    shift
done

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
if [ -z "$generator" ]; then
    generator="$tmp/problem_types"
    "${CC:-cc}" -std=c17 -I"$root/core" -o "$generator" "$root/tools/problem_types.c" \
        "$root/core/err.c"
fi
"$generator" >"$tmp/types.json"

python3 - "$mode" "$spec" "$tmp/types.json" <<'PY'
import difflib
import json
import re
import sys

mode, spec_path, types_path = sys.argv[1:4]
with open(types_path, encoding="utf-8") as f:
    table = json.load(f)
types = table["problem_types"]
base = table["type_base"]
by_slug = {t["slug"]: t for t in types}
with open(spec_path, encoding="utf-8") as f:
    text = f.read()
lines = text.split("\n")
problems = []


def table_rows():
    rows = ["| type | status | title | Retry-After (s) |", "|---|---|---|---|"]
    for t in types:
        retry = "≥ %d" % t["retry_after_s"] if t["retry_after_s"] > 0 else "—"
        rows.append("| `%s` | %d | %s | %s |" % (t["type"], t["status"], t["title"], retry))
    return rows


def enum_rows():
    return ["- " + t["type"] for t in types]


PARTS = {"problem table": table_rows, "problem type enum": enum_rows}
BEGIN = re.compile(r"^(\s*)(?:# |<!-- )BEGIN generated (.+?) \(scripts/gen-problems\.sh\)")
END = re.compile(r"^\s*(?:# |<!-- )END generated (.+?)(?: -->)?$")

# Each part: its marker lines found once, and its lines between them rewritten.
out, i, seen = [], 0, set()
while i < len(lines):
    out.append(lines[i])
    m = BEGIN.match(lines[i])
    if not m:
        i += 1
        continue
    indent, part = m.group(1), m.group(2)
    if part not in PARTS:
        problems.append("line %d: unknown generated part '%s'" % (i + 1, part))
        i += 1
        continue
    if part in seen:
        problems.append("line %d: generated part '%s' appears twice" % (i + 1, part))
    seen.add(part)
    j = i + 1
    while j < len(lines) and not (END.match(lines[j]) and END.match(lines[j]).group(1) == part):
        j += 1
    if j == len(lines):
        problems.append("line %d: generated part '%s' has no END line" % (i + 1, part))
        break
    out.extend(indent + row for row in PARTS[part]())
    out.append(lines[j])
    i = j + 1
for part in PARTS:
    if part not in seen:
        problems.append("no generated part '%s' (its BEGIN and END marker lines)" % part)
new_text = "\n".join(out)
# Markers out of place: the parts cannot be told from the rest, so nothing is written.
is_writable = not problems

# Hand-written parts that name problem types.
uri = re.compile(re.escape(base) + r"([A-Za-z0-9-]+)")
for n, line in enumerate(lines, 1):
    for m in uri.finditer(line):
        if m.group(1) not in by_slug:
            problems.append("line %d: problem type '%s' is not in the error table"
                            % (n, m.group(1)))

# components/schemas: each schema is a block at four spaces of indentation.
try:
    first = lines.index("  schemas:") + 1
except ValueError:
    first = len(lines)
blocks, name, start = [], None, first
for n in range(first, len(lines) + 1):
    line = lines[n] if n < len(lines) else ""
    ended = n == len(lines) or (line and not line.startswith("    ") and line.strip())
    if ended or re.match(r"^    [A-Za-z0-9_]+:\s*$", line):
        if name:
            blocks.append((name, start, n))
        if ended:
            break
        name, start = line.strip()[:-1], n


def member_values(block_lines, key):
    """Values of `key:` given as `const: x`, `enum: [a, b]` or an `enum:` list."""
    values = []
    for k, line in enumerate(block_lines):
        if line.strip() != key + ":":
            continue
        depth = len(line) - len(line.lstrip())
        for inner in block_lines[k + 1:]:
            if inner.strip() and len(inner) - len(inner.lstrip()) <= depth:
                break
            s = inner.strip()
            if s.startswith("const:"):
                values.append(s[len("const:"):].strip().strip("'\""))
            elif s.startswith("enum: ["):
                values += [v.strip().strip("'\"") for v in s[len("enum: ["):-1].split(",")]
            elif s.startswith("- ") and not s.startswith("- $ref"):
                values.append(s[2:].strip().strip("'\""))
    return values


for name, lo, hi in blocks:
    if name == "Problem" or not name.endswith("Problem"):
        continue
    body = lines[lo:hi]
    slugs = [uri.match(v).group(1) for v in member_values(body, "type")
             if uri.match(v) and uri.match(v).group(1) in by_slug]
    if not slugs:
        continue
    where = "schema %s (line %d)" % (name, lo + 1)
    titles = member_values(body, "title")
    if sorted(set(titles)) != sorted({by_slug[s]["title"] for s in slugs}):
        problems.append("%s: titles %s, the error table says %s"
                        % (where, titles, [by_slug[s]["title"] for s in slugs]))
    statuses = member_values(body, "status")
    if statuses != [str(by_slug[slugs[0]]["status"])] or \
            len({by_slug[s]["status"] for s in slugs}) != 1:
        problems.append("%s: status %s, the error table says %s"
                        % (where, statuses, sorted({by_slug[s]["status"] for s in slugs})))
    withheld = [s for s in slugs if by_slug[s]["generic_detail"] is not None]
    if withheld and not any(l.strip() == "maxItems: 0" for l in body):
        problems.append("%s: errors must have maxItems: 0 (the table withholds the "
                        "handler's detail and field errors of %s)" % (where, withheld))

# The hand-written "when" list of the Problem schema: one line per type.
when = {}
problem_block = next(((lo, hi) for name, lo, hi in blocks if name == "Problem"), (0, 0))
for line in lines[problem_block[0]:problem_block[1]]:
    m = re.match(r"^\s+- `([a-z0-9-]+)`: ", line)
    if m:
        when[m.group(1)] = when.get(m.group(1), 0) + 1
for t in types:
    if when.get(t["slug"], 0) != 1:
        problems.append("the 'When each is sent' list of the Problem schema needs one line "
                        "for `%s` (it has %d)" % (t["slug"], when.get(t["slug"], 0)))

if new_text != text:
    if mode == "check":
        diff = difflib.unified_diff(text.split("\n"), new_text.split("\n"), spec_path,
                                    "from core/err.h", lineterm="", n=1)
        problems.append("the generated problem types differ from the error table in "
                        "core/err.h (run scripts/gen-problems.sh):\n" + "\n".join(diff))
    elif is_writable:
        with open(spec_path, "w", encoding="utf-8") as f:
            f.write(new_text)
        print("gen-problems: wrote %d problem types into %s" % (len(types), spec_path))
if problems:
    for p in problems:
        print("gen-problems: %s: %s" % (spec_path, p), file=sys.stderr)
    sys.exit(1)
if mode == "check":
    print("gen-problems: %s agrees with the error table (%d problem types)"
          % (spec_path, len(types)))
PY
