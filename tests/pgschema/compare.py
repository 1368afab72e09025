#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Compares a SQLite ledger and a PostgreSQL one after the same writes.

Usage: compare.py SQLITE_FILE POSTGRES_URI [COVERED]

COVERED: a file naming, one a line, the triggers the scenario says it covers.

The two schemas must have the same tables with the same columns in the same
order, the same triggers and the same indexes by name; then every table, in its
primary key's order, must hold the same rows: integers and text exactly, doubles
to 1e-9 relative (1e-12 absolute near zero), timestamps left out (each engine
writes its own clock). family_inference_daily is compared without its rows of
count 0, which a move of a model's counts between representatives leaves behind
(the engines move them through different intermediate representatives), and by
the (family, day) pairs it holds, which is what a family's series reads.
Ids compared without case must compare, order and stay unique the same way (the
model list's prefix search bounds a range with "\x7f"), and every trigger's
function must have run on PostgreSQL (track_functions=pl), so that the scenario
exercised each of them.
"""
import csv
import io
import math
import sqlite3
import subprocess
import sys

TIMESTAMPS = {"created_at", "updated_at", "loaded_at"}

# Reads whose answer depends on how namespaces and names compare: the same text on
# both engines, the same rows expected.
CASE_READS = [
    "SELECT namespace, name FROM models ORDER BY namespace, name, id",
    "SELECT id FROM models WHERE namespace = 'ORG' AND name = 'A-B'",
    "SELECT name FROM models WHERE namespace = 'ORG' AND name >= 'a' AND name < 'a\x7f' "
    "ORDER BY namespace, name",
    "SELECT namespace, name FROM models WHERE (namespace, name) > ('org', 'A1') "
    "AND namespace < 'p' ORDER BY namespace, name",
    "SELECT lower(namespace), count(*) FROM models GROUP BY namespace ORDER BY 1",
    "SELECT models FROM ledger_totals WHERE namespace = 'Other'",
]


SEPARATOR = "-- next result --"


def psql(uri, queries):
    """Runs queries in one session; returns each one's rows, as text, \\N for NULL."""
    script = "".join(f"{q};\n\\echo '{SEPARATOR}'\n" for q in queries)
    out = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "--csv", "-P", "null=\\N",
                          "-P", "tuples_only=on", uri, "-f", "-"], input=script, check=True,
                         capture_output=True, text=True).stdout
    parts = out.split(SEPARATOR + "\n")[:-1]
    return [list(csv.reader(io.StringIO(part))) for part in parts]


def same_value(a, b):
    """a from SQLite (typed), b from psql (text, \\N for NULL)."""
    if a is None or b == "\\N":
        return a is None and b == "\\N"
    if isinstance(a, bytes):
        return b == "\\x" + a.hex()
    if isinstance(a, int) and not isinstance(a, bool):
        try:
            return a == int(b)
        except ValueError:
            return False
    if isinstance(a, float):
        try:
            x = float(b)
        except ValueError:
            return False
        return math.isclose(a, x, rel_tol=1e-9, abs_tol=1e-12)
    return str(a) == b


def main():
    lite = sqlite3.connect(sys.argv[1])
    uri = sys.argv[2]
    failures = []

    def check(what, left, right):
        if left != right:
            failures.append(f"{what}:\n  sqlite:   {left}\n  postgres: {right}")

    tables = sorted(r[0] for r in lite.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"))
    triggers = sorted(r[0] for r in lite.execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger'"))
    indexes = sorted(r[0] for r in lite.execute(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"))
    queries = [
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
        "ORDER BY 1",
        "SELECT tgname, p.proname FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid "
        "WHERE NOT tgisinternal ORDER BY 1",
        # Indexes of their own, not those that back a key or a UNIQUE.
        "SELECT indexrelid::regclass::text FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public' "
        "WHERE NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) "
        "ORDER BY 1",
        "SELECT funcname FROM pg_stat_user_functions WHERE calls > 0",
        "SELECT DISTINCT ancestor_id, day FROM family_inference_daily ORDER BY 1, 2",
    ]
    queries += CASE_READS
    dumps = []
    for table in tables:
        info = list(lite.execute(f"PRAGMA table_xinfo({table})"))
        columns = [r[1] for r in info]
        key = [r[1] for r in sorted((r for r in info if r[5] > 0), key=lambda r: r[5])]
        kept = [c for c in columns if c not in TIMESTAMPS]
        where = " WHERE count <> 0" if table == "family_inference_daily" else ""
        sql = f"SELECT {', '.join(kept)} FROM {table}{where} ORDER BY {', '.join(key)}"
        dumps.append((table, columns, kept, sql))
        queries.append("SELECT column_name FROM information_schema.columns "
                       f"WHERE table_schema = 'public' AND table_name = '{table}' "
                       "ORDER BY ordinal_position")
        queries.append(sql)
    results = psql(uri, queries)
    pg_tables, pg_triggers, pg_indexes, called, family_days = results[:5]
    for sql, right in zip(CASE_READS, results[5:]):
        left = [[str(x) for x in r] for r in lite.execute(sql)]
        check(sql, left, right)
        if not left:
            failures.append(f"{sql}: no rows (the scenario should give some)")
    base = 5 + len(CASE_READS)

    check("tables", tables, [r[0] for r in pg_tables])
    check("triggers", triggers, [r[0] for r in pg_triggers])
    check("indexes", indexes, [r[0] for r in pg_indexes])
    n_rows = 0
    for i, (table, columns, kept, sql) in enumerate(dumps):
        pg_columns, right = results[base + 2 * i], results[base + 1 + 2 * i]
        check(f"{table}: columns", columns, [r[0] for r in pg_columns])
        left = list(lite.execute(sql))
        n_rows += len(left)
        if len(left) != len(right):
            failures.append(f"{table}: {len(left)} rows in sqlite, {len(right)} in postgres")
            continue
        for a, b in zip(left, right):
            if len(a) != len(b) or not all(same_value(x, y) for x, y in zip(a, b)):
                failures.append(f"{table}: row differs ({', '.join(kept)}):\n"
                                f"  sqlite:   {list(a)}\n  postgres: {b}")
    check("family days", [[str(a), d] for a, d in lite.execute(
        "SELECT DISTINCT ancestor_id, day FROM family_inference_daily ORDER BY 1, 2")],
        family_days)
    if len(sys.argv) > 3:
        with open(sys.argv[3], encoding="utf-8") as f:
            check("triggers the scenario lists", triggers, sorted(f.read().split()))
    # An id that differs from a registered one only in case is the same id.
    dup = "INSERT INTO models (namespace, name) VALUES ('ORG', 'A-B')"
    try:
        lite.execute(dup)
        failures.append(f"sqlite accepted {dup}")
    except sqlite3.IntegrityError:
        pass
    refused = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", uri, "-c", dup],
                             capture_output=True, text=True)
    if refused.returncode == 0 or "duplicate key" not in refused.stderr:
        failures.append(f"postgres did not refuse {dup} as a duplicate: {refused.stderr}")
    ran = {r[0] for r in called}
    idle = [t for t, f in pg_triggers if f not in ran]
    if idle:
        failures.append(f"triggers the scenario never ran: {', '.join(idle)}")

    if failures:
        print("\n".join(failures), file=sys.stderr)
        sys.exit(1)
    print(f"same schema ({len(tables)} tables, {len(triggers)} triggers, {len(indexes)} indexes) "
          f"and same {n_rows} rows; every trigger ran")


if __name__ == "__main__":
    main()
