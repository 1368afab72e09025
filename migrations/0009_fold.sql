-- SPDX-License-Identifier: Apache-2.0
-- 0009: increments that write no row but their model's own. An increment adds to
-- the model's own count and its own family sum (a model is in its own family),
-- and records the same delta here, by the day it counts on: what the model's
-- proper ancestors' family sums, every family's daily counts (its own family's
-- included, migration 0011) and its namespace's and the ledger's totals have not
-- counted yet. Repeated increments of one model on one day share its row. The fold
-- (db_fold) adds these deltas to those sums in batches and deletes them, on the
-- writer thread, at start-up, and first in any write that changes lineage or
-- recomputes sums from the counts. Every read of a family sum, a family's days or
-- a total adds the part still here.
CREATE TABLE inference_pending (
    model_id  INTEGER NOT NULL REFERENCES models (id) ON DELETE CASCADE,
    day       TEXT NOT NULL,
    delta     INTEGER NOT NULL CHECK (delta > 0),
    PRIMARY KEY (model_id, day)
) STRICT, WITHOUT ROWID;

-- The per-increment write of the totals rows (two rows every increment writes)
-- is the fold's work now. The insert trigger stays: a ledger row inserted with a
-- count (the bulk loader) counts in the totals at once, with nothing pending.
DROP TRIGGER model_ledger_aggregates_inferences;
