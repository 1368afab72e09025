#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The write scenario of the schema equivalence test, as SQL for one engine.

Usage: scenario.py sqlite|pg > scenario.sql

Each helper writes the rows one db/*.c function writes, with the same statements
on base tables (the triggers do the rest): register (db_model_insert),
activity (db_activity_add and its refresh of the model's own sums), increment
(db_inferences_add), fold (db_fold), profile (db_profile_set), reparent
(db_model_set_parents), delete_model (db_model_delete), bulk_model (the bulk
loader's rows for one model). The figures C computes (a model's CO2e per
inference) are written as literals. Only the statements SQLite and PostgreSQL
spell differently differ: INSERT OR IGNORE and REPLACE, and SQLite's total()
and iif() written as coalesce(sum()) and CASE. Which step fires which trigger is
listed in TRIGGERS below (scenario.py triggers prints their names).
"""
import sys

# Each trigger of migrations/0007-0011 and the step that first fires it (and makes
# it change something). compare.py checks that this names every trigger and that
# PostgreSQL ran each.
TRIGGERS = {
    "models_aggregates_insert": "A root",
    "models_aggregates_depth": "5 loses its parents (depth 2 to 0)",
    "models_aggregates_delete": "7 leaves the ledger (its activities, its count)",
    "models_totals_inference_co2e_delete": "7 leaves the ledger (its figure set)",
    "models_dividend_delete": "7 leaves the ledger (a descendant without pre-training)",
    "models_usage_delete": "7 leaves the ledger (folded days)",
    "activities_aggregates_insert": "A root, then its pre-training",
    "activities_aggregates_delete": "Activities deleted; 7 leaves the ledger",
    "activities_dividend_insert": "The second root's pre-training, after its descendants",
    "activities_dividend_delete": "Activities deleted: a root's training",
    "model_ledger_aggregates_insert": "A root; the bulk-loaded model (with a count)",
    "model_ledger_totals_inference_co2e": "A profile and the figures it gives (with pending)",
    "model_ledger_dividend_share": "every ledger row, closure and own-emissions change",
    "model_ledger_dividend_totals": "Its family (2 gets a share); 5 becomes a root",
    "model_ledger_dividend_own": "Activities below the roots",
    "model_ledger_dividend_insert": "A root",
    "model_ledger_usage_rep": "every ledger row; the profile on 2",
    "model_ledger_usage_rep_move": "the profile on 2; 3 moves; 3's training energy",
    "model_ledger_usage_rep_insert": "A root",
    "model_ledger_usage_rep_training": "Training energy below a root (3)",
    "model_closure_dividend_insert": "Its family (2 under 1); 3 moves",
    "model_closure_dividend_delete": "3 moves from 2 to 4; 5 loses its parents",
    "model_closure_usage_insert": "3 moves from 2 to 4 (3 and 7 have folded days)",
    "model_closure_usage_delete": "3 moves from 2 to 4 (3 and 7 have folded days)",
    "inference_profiles_usage_rep_insert": "A profile (on 2); 7's derived profile",
    "inference_profiles_usage_rep_delete": "2's profile removed; 7 leaves (cascade)",
}

DIALECT = sys.argv[1] if len(sys.argv) > 1 else "sqlite"
if DIALECT == "triggers":
    print("\n".join(sorted(TRIGGERS)))
    sys.exit(0)
if DIALECT not in ("sqlite", "pg"):
    sys.exit("usage: scenario.py sqlite|pg|triggers")

out = []
def w(s=""): out.append(s)

def refresh_own(k):
    def s(col, kinds=None):
        cond = f"model_id = {k}" + (f" AND kind IN ({kinds})" if kinds else "")
        return f"(SELECT coalesce(sum({col}), 0) FROM activities WHERE {cond})"
    lk = "'training', 'fine_tuning'"
    tk = "'training'"
    w("UPDATE model_ledger SET")
    w(f"    own_co2e_kg = {s('co2e_kg')},")
    w(f"    own_co2e_kg_low = {s('co2e_kg_low')},")
    w(f"    own_co2e_kg_high = {s('co2e_kg_high')},")
    w(f"    lineage_kwh = {s('energy_kwh', lk)},")
    w(f"    lineage_kwh_low = {s('energy_kwh_low', lk)},")
    w(f"    lineage_kwh_high = {s('energy_kwh_high', lk)},")
    w(f"    training_kwh = {s('energy_kwh', tk)},")
    w(f"    training_kwh_low = {s('energy_kwh_low', tk)},")
    w(f"    training_kwh_high = {s('energy_kwh_high', tk)},")
    w(f"    n_activities = (SELECT count(*) FROM activities WHERE model_id = {k})")
    w(f"WHERE model_id = {k};")

def register(k, ns, name, depth, parents):
    w(f"INSERT INTO models (namespace, name, task, license, url, parameters, depth)")
    w(f"VALUES ('{ns}', '{name}', 'text-generation', 'mit', NULL, {k * 1000}, {depth});")
    for i, (p, rel) in enumerate(parents):
        w(f"INSERT INTO model_parents (child_id, parent_id, relation, position) VALUES ({k}, {p}, '{rel}', {i});")
    rebuild_closure(k)
    w(f"INSERT INTO model_ledger (model_id) VALUES ({k});")
    w(f"UPDATE model_ledger SET descendants = descendants + 1 WHERE model_id IN")
    w(f"    (SELECT ancestor_id FROM model_closure WHERE descendant_id = {k} AND ancestor_id <> {k});")

def rebuild_closure(k):
    w(f"DELETE FROM model_closure WHERE descendant_id = {k};")
    w(f"INSERT INTO model_closure (ancestor_id, descendant_id) VALUES ({k}, {k});")
    sel = (f"SELECT c.ancestor_id, {k} FROM model_parents e "
           f"JOIN model_closure c ON c.descendant_id = e.parent_id WHERE e.child_id = {k}")
    if DIALECT == "sqlite":
        w(f"INSERT OR IGNORE INTO model_closure (ancestor_id, descendant_id) {sel};")
    else:
        w(f"INSERT INTO model_closure (ancestor_id, descendant_id) {sel} ON CONFLICT DO NOTHING;")

ACT = ("INSERT INTO activities (model_id, kind, obtained, method, energy_kwh, energy_kwh_low, "
       "energy_kwh_high, co2e_kg, co2e_kg_low, co2e_kg_high, inputs, result, methodology_version)")
def activity(k, kind, energy, co2e, method="energy"):
    e = ", ".join("NULL" if energy is None else repr(x) for x in (energy or (None, None, None)))
    c = ", ".join(repr(x) for x in co2e)
    m = "NULL" if method is None else f"'{method}'"
    w(f"{ACT}")
    w(f"VALUES ({k}, '{kind}', 'measured', {m}, {e}, {c}, '{{}}', '{{}}', '2');")
    refresh_own(k)

def increment(k, delta, day):
    w(f"UPDATE model_ledger SET inferences = inferences + {delta}, "
      f"descendant_inferences = descendant_inferences + {delta} WHERE model_id = {k};")
    w(f"INSERT INTO inference_pending (model_id, day, delta) VALUES ({k}, '{day}', {delta})")
    w(f"ON CONFLICT (model_id, day) DO UPDATE SET delta = inference_pending.delta + excluded.delta;")
    w(f"INSERT INTO inference_daily (model_id, day, count) VALUES ({k}, '{day}', {delta})")
    w(f"ON CONFLICT (model_id, day) DO UPDATE SET count = inference_daily.count + excluded.count;")

def fold():
    w("UPDATE model_ledger SET descendant_inferences = descendant_inferences + f.d")
    w("FROM (SELECT c.ancestor_id AS a, sum(p.delta) AS d FROM inference_pending p")
    w("      JOIN model_closure c ON c.descendant_id = p.model_id")
    w("      WHERE c.ancestor_id <> p.model_id GROUP BY c.ancestor_id) f")
    w("WHERE model_ledger.model_id = f.a;")
    w("INSERT INTO family_inference_daily (ancestor_id, rep_id, day, count)")
    w("SELECT c.ancestor_id, l.usage_rep_id, p.day, sum(p.delta) FROM inference_pending p")
    w("JOIN model_ledger l ON l.model_id = p.model_id")
    w("JOIN model_closure c ON c.descendant_id = p.model_id WHERE true")
    w("GROUP BY c.ancestor_id, l.usage_rep_id, p.day")
    w("ON CONFLICT (ancestor_id, rep_id, day)")
    w("DO UPDATE SET count = family_inference_daily.count + excluded.count;")
    for where, grp, sel in (("ledger_totals.namespace = f.ns AND f.ns <> ''", " GROUP BY m.namespace", "m.namespace AS ns, "),
                            ("ledger_totals.namespace = '' AND f.n IS NOT NULL", "", "")):
        w("UPDATE ledger_totals SET")
        w("    inferences = CASE WHEN inferences > 9223372036854775807 - f.n")
        w("                      THEN 9223372036854775807 ELSE inferences + f.n END,")
        w("    inference_co2e_kg = inference_co2e_kg + f.kg,")
        w("    inference_co2e_kg_low = inference_co2e_kg_low + f.kg_low,")
        w("    inference_co2e_kg_high = inference_co2e_kg_high + f.kg_high")
        w(f"FROM (SELECT {sel}sum(p.delta) AS n,")
        w("             sum(p.delta * coalesce(l.inference_g_each, 0) / 1000.0) AS kg,")
        w("             sum(p.delta * coalesce(l.inference_g_each_low, 0) / 1000.0) AS kg_low,")
        w("             sum(p.delta * coalesce(l.inference_g_each_high, 0) / 1000.0) AS kg_high")
        w("      FROM inference_pending p JOIN models m ON m.id = p.model_id")
        w(f"      JOIN model_ledger l ON l.model_id = p.model_id{grp}) f")
        w(f"WHERE {where};")
    w("DELETE FROM inference_pending;")

def set_g(keys, g):
    ks = ", ".join(str(k) for k in keys)
    if g is None:
        w(f"UPDATE model_ledger SET inference_g_each = NULL, inference_g_each_low = NULL, "
          f"inference_g_each_high = NULL")
        w(f"WHERE model_id IN ({ks}) AND inference_g_each IS NOT NULL;")
    else:
        w(f"UPDATE model_ledger SET inference_g_each = {g[0]!r}, inference_g_each_low = {g[1]!r}, "
          f"inference_g_each_high = {g[2]!r}")
        w(f"WHERE model_id IN ({ks}) AND (inference_g_each IS DISTINCT FROM {g[0]!r}")
        w(f"    OR inference_g_each_low IS DISTINCT FROM {g[1]!r} OR inference_g_each_high IS DISTINCT FROM {g[2]!r});")

PCOLS = ("model_id, unit, source, kwh_per_inference, kwh_per_inference_low, kwh_per_inference_high, "
         "ratio, ratio_low, ratio_high, token_steps, token_steps_low, token_steps_high, training_kwh, "
         "training_kwh_low, training_kwh_high, intensity_kg_per_kwh, intensity_kg_per_kwh_low, "
         "intensity_kg_per_kwh_high, intensity_source, intensity_location, intensity_table, "
         "intensity_row, intensity_year")
def profile(values):
    cols = [c.strip() for c in PCOLS.split(",")]
    sets = ", ".join(f"{c} = excluded.{c}" for c in cols[1:])
    if DIALECT == "sqlite":
        w(f"REPLACE INTO inference_profiles ({PCOLS}) VALUES ({values});")
    else:
        w(f"INSERT INTO inference_profiles ({PCOLS}) VALUES ({values})")
        w(f"ON CONFLICT (model_id) DO UPDATE SET {sets};")

def reparent(k, parents, subtree, affected):
    """subtree: [(key, new_depth)] in the old depth order; affected: old and new
    strict ancestors of k."""
    fold()
    w(f"DELETE FROM model_parents WHERE child_id = {k};")
    for i, (p, rel) in enumerate(parents):
        w(f"INSERT INTO model_parents (child_id, parent_id, relation, position) VALUES ({k}, {p}, '{rel}', {i});")
    for key, depth in subtree:
        w(f"UPDATE models SET depth = {depth} WHERE id = {key};")
        rebuild_closure(key)
    for a in affected:
        cases = [("training", "co2e_kg"), ("training", "co2e_kg_low"), ("training", "co2e_kg_high"),
                 ("fine_tuning", "co2e_kg"), ("fine_tuning", "co2e_kg_low"), ("fine_tuning", "co2e_kg_high")]
        w("UPDATE model_ledger SET")
        w(f"    descendants = (SELECT count(*) FROM model_closure c WHERE c.ancestor_id = {a}),")
        w(f"    descendant_inferences = (SELECT coalesce(sum(d.inferences), 0) FROM model_closure c")
        w(f"        JOIN model_ledger d ON d.model_id = c.descendant_id WHERE c.ancestor_id = {a}),")
        w("    (family_training_co2e_kg, family_training_co2e_kg_low, family_training_co2e_kg_high,")
        w("     family_fine_tuning_co2e_kg, family_fine_tuning_co2e_kg_low, family_fine_tuning_co2e_kg_high,")
        w("     family_other_co2e_kg, family_other_co2e_kg_low, family_other_co2e_kg_high, family_co2e_kg) =")
        exprs = [f"coalesce(sum(CASE WHEN a.kind = '{kd}' THEN a.{col} ELSE 0 END), 0)" for kd, col in cases]
        exprs += [f"coalesce(sum(CASE WHEN a.kind IN ('training', 'fine_tuning') THEN 0 ELSE a.{col} END), 0)"
                  for col in ("co2e_kg", "co2e_kg_low", "co2e_kg_high")]
        exprs += ["coalesce(sum(a.co2e_kg), 0)"]
        w("    (SELECT " + ",\n            ".join(exprs))
        w("     FROM model_closure c JOIN activities a ON a.model_id = c.descendant_id")
        w(f"     WHERE c.ancestor_id = {a})")
        w(f"WHERE model_id = {a};")

OPEN = []


def tx(title):
    """One write transaction, as the writer commits a request's rows."""
    if OPEN:
        w("COMMIT;")
    OPEN[:] = [title]
    w()
    w(f"-- {title}")
    w("BEGIN;")



def delete_model(k):
    """db_model_delete: the pending deltas first, then the leaf leaves its ancestors'
    counts, then its row (the triggers and cascades do the rest)."""
    fold()
    w("UPDATE model_ledger SET descendants = descendants - 1,")
    w(f"    descendant_inferences = descendant_inferences -")
    w(f"    (SELECT inferences FROM model_ledger WHERE model_id = {k}) WHERE model_id IN")
    w(f"    (SELECT ancestor_id FROM model_closure WHERE descendant_id = {k} AND ancestor_id <> {k});")
    w(f"DELETE FROM models WHERE id = {k};")


def bulk_model(k, ns, name, depth, parents, inferences, days):
    """The bulk loader: model, edges, closure rows one by one, a ledger row with its
    count, its ancestors' sums, its days and its families' days."""
    w("INSERT INTO models (namespace, name, task, license, url, parameters, depth)")
    w(f"VALUES ('{ns}', '{name}', NULL, NULL, NULL, NULL, {depth});")
    for i, (p, rel) in enumerate(parents):
        w(f"INSERT INTO model_parents (child_id, parent_id, relation, position) VALUES ({k}, {p}, '{rel}', {i});")
    closure = [k] + [a for p, _ in parents for a in ANCESTORS[p]]
    ANCESTORS[k] = sorted(set(closure))
    for a in ANCESTORS[k]:
        w(f"INSERT INTO model_closure (ancestor_id, descendant_id) VALUES ({a}, {k});")
    w(f"INSERT INTO model_ledger (model_id, inferences, descendant_inferences) "
      f"VALUES ({k}, {inferences}, {inferences});")
    for a in ANCESTORS[k]:
        if a != k:
            w(f"UPDATE model_ledger SET descendants = descendants + 1, "
              f"descendant_inferences = descendant_inferences + {inferences} WHERE model_id = {a};")
    for day, n in days:
        w(f"INSERT INTO inference_daily (model_id, day, count) VALUES ({k}, '{day}', {n})")
        w("ON CONFLICT (model_id, day) DO UPDATE SET count = inference_daily.count + excluded.count;")
        w("INSERT INTO family_inference_daily (ancestor_id, rep_id, day, count)")
        w(f"SELECT c.ancestor_id, l.usage_rep_id, '{day}', {n} FROM model_closure c")
        w(f"JOIN model_ledger l ON l.model_id = c.descendant_id WHERE c.descendant_id = {k}")
        w("ON CONFLICT (ancestor_id, rep_id, day)")
        w("DO UPDATE SET count = family_inference_daily.count + excluded.count;")


def measured(k, kwh, intensity):
    return (f"{k}, 'request', 'measured', {kwh[0]!r}, {kwh[1]!r}, {kwh[2]!r}, NULL, NULL, NULL, "
            f"NULL, NULL, NULL, NULL, NULL, NULL, {intensity[0]!r}, {intensity[1]!r}, "
            f"{intensity[2]!r}, 'explicit', NULL, NULL, NULL, NULL")


def derived(k, steps, intensity):
    return (f"{k}, 'token', 'derived', NULL, NULL, NULL, NULL, NULL, NULL, "
            f"{steps[0]!r}, {steps[1]!r}, {steps[2]!r}, NULL, NULL, NULL, {intensity[0]!r}, "
            f"{intensity[1]!r}, {intensity[2]!r}, 'table', 'FRA', 'regions.csv', 12, 2023")


# Model keys: 1 org/base (a root with training), 2 org/ft (fine-tunes 1),
# 3 other/q (quantizes 2), 4 lab/root2 (a root), 5 OTHER/merged (merges 2 and 4;
# its namespace is other's, in another case), 6 gpt2 (no namespace), 7
# other/child (an adapter of 3), 8 bulk/imported (loaded with counts, under 1).
ANCESTORS = {}


def reg(k, ns, name, parents):
    depth = max((DEPTH[p] + 1 for p, _ in parents), default=0)
    DEPTH[k] = depth
    ANCESTORS[k] = sorted({k} | {a for p, _ in parents for a in ANCESTORS[p]})
    register(k, ns, name, depth, parents)


DEPTH = {}
ACTIVITY = {}

tx("A root, then its pre-training")
reg(1, "org", "base", [])
activity(1, "training", (1000.0, 900.0, 1100.0), (400.0, 350.0, 450.0))

tx("Its family, a second root, a merge of both, a model without a namespace")
reg(2, "org", "ft", [(1, "finetune")])
reg(3, "other", "q", [(2, "quantized")])
reg(4, "lab", "root2", [])
reg(5, "OTHER", "merged", [(2, "merge"), (4, "merge")])
reg(6, "", "gpt2", [])
reg(7, "other", "child", [(3, "adapter")])

tx("Activities of every kind below the roots")
activity(2, "fine_tuning", (50.0, 40.0, 60.0), (20.0, 15.0, 25.0))
activity(3, "development", None, (5.0, 4.0, 6.0), method=None)
activity(5, "embodied", None, (1.0, 0.5, 2.0), method="embodied")

tx("Increments, folded")
for k, delta, day in ((3, 10, "2026-01-01"), (3, 5, "2026-01-01"), (7, 4, "2026-01-02"),
                      (1, 3, "2026-01-01"), (5, 6, "2026-01-03"), (6, 2, "2026-01-01")):
    increment(k, delta, day)
fold()

tx("Increments left pending, then a profile and the figures it gives")
for k, delta, day in ((3, 8, "2026-01-02"), (7, 1, "2026-01-02"), (5, 2, "2026-01-03")):
    increment(k, delta, day)
profile(measured(2, (0.001, 0.0008, 0.0012), (0.4, 0.3, 0.5)))
set_g([2, 3, 7], (0.4, 0.24, 0.6))

tx("The profile replaced")
profile(measured(2, (0.002, 0.0015, 0.0025), (0.4, 0.3, 0.5)))
set_g([2, 3, 7], (0.8, 0.45, 1.25))

tx("The second root's pre-training, after its descendants")
activity(4, "training", (2000.0, 1800.0, 2200.0), (800.0, 700.0, 900.0))
fold()
increment(7, 3, "2026-01-04")

tx("3 moves from 2 to 4, with 7 below it")
reparent(3, [(4, "quantized")], [(3, 1), (7, 2)], [1, 2, 4])
set_g([3, 7], None)

tx("5 loses its parents: a root")
reparent(5, [], [(5, 0)], [1, 2, 4])

tx("Activities deleted: a fine-tuning, a root's training")
w("DELETE FROM activities WHERE id = (SELECT max(id) FROM activities WHERE model_id = 2) "
  "AND model_id = 2;")
refresh_own(2)
w("DELETE FROM activities WHERE id = (SELECT max(id) FROM activities WHERE model_id = 4) "
  "AND model_id = 4;")
refresh_own(4)

tx("Training energy below a root: 3 prices its inferences its own way")
activity(3, "training", (10.0, 9.0, 11.0), (3.0, 2.0, 4.0))

tx("7: an activity, a card naming it, replaced, a derived profile, a counter")
activity(7, "other", None, (2.0, 1.0, 3.0), method=None)
for facts in ("a" * 64, "b" * 64):
    cols = ("model_id, facts, activity_id, relation_given, relation_from, is_card, ignored, "
            "location, hardware, hours, source, flags, readings")
    vals = (f"7, '{facts}', (SELECT max(id) FROM activities WHERE model_id = 7), 1, NULL, 1, "
            f"'[]', 'FR', 'A100', 12.5, 'measured', '[]', '{{}}'")
    if DIALECT == "sqlite":
        w(f"INSERT OR REPLACE INTO model_cards ({cols}) VALUES ({vals});")
    else:
        sets = ", ".join(f"{c.strip()} = excluded.{c.strip()}" for c in cols.split(",")[1:])
        w(f"INSERT INTO model_cards ({cols}) VALUES ({vals})")
        w(f"ON CONFLICT (model_id) DO UPDATE SET {sets};")
profile(derived(7, (1e9, 8e8, 1.2e9), (0.05, 0.04, 0.06)))
set_g([7], (0.05, 0.03, 0.08))
w("INSERT INTO inference_counters (model_id, reporter, total, resets) VALUES (7, 'node-a', 40, 0)")
w("ON CONFLICT (model_id, reporter) DO UPDATE SET total = excluded.total, "
  "resets = inference_counters.resets + excluded.resets;")
w("UPDATE models SET task = 'summarization', license = 'apache-2.0', url = NULL, "
  "parameters = 7000, version = version + 1 WHERE id = 7;")
w("UPDATE models SET placeholder = 1 WHERE id = 6;")
increment(7, 9, "2026-01-05")
increment(3, 2, "2026-01-05")

tx("7 leaves the ledger")
delete_model(7)

tx("A bulk-loaded model with its counts, and an activity")
bulk_model(8, "bulk", "imported", 1, [(1, "finetune")], 100, [("2026-01-01", 60), ("2026-01-02", 40)])
activity(8, "fine_tuning", (5.0, 4.0, 6.0), (2.0, 1.5, 2.5))

tx("Ids that order differently under other case rules (compare.py reads them in order)")
for k, (ns, name) in enumerate((("Org", "a-b"), ("org", "A_b"), ("ORG", "a.c"), ("org", "a1"),
                                ("org", "Zed"), ("org", "base2")), start=9):
    reg(k, ns, name, [])

tx("2's profile removed, 5 given one; increments left pending at the end")
w("DELETE FROM inference_profiles WHERE model_id = 2;")
set_g([2], None)
profile(measured(5, (0.003, 0.002, 0.004), (0.2, 0.1, 0.3)))
set_g([5], (0.6, 0.2, 1.2))
increment(8, 1, "2026-01-06")
increment(6, 4, "2026-01-06")
increment(3, 1, "2026-01-06")

w("COMMIT;")
print("\n".join(out))
