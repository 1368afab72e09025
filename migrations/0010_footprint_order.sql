-- SPDX-License-Identifier: Apache-2.0
-- 0010: the model lists' orders by footprint (GET /v1/models?sort=-total_co2e_kg,
-- -co2e_g_per_inference), each an index walked a page at a time.
--
-- An amortized figure (policy equal or usage) changes for every member of a family
-- with each write to it, so no index can hold it. These orders rank by the
-- policy-free figure instead (policy none): a model's own emissions plus its own
-- inferences' emissions, and that per inference. model_ledger keeps the g CO2e of
-- one of the model's inferences (inference_g_each, NULL while its profile gives no
-- per-inference energy), written from C through the core's formula whenever the
-- profile that applies to it or its lineage's training energy may change
-- (db/db_footprint_order.c); the two figures are columns computed from it and the
-- row's own emissions and inferences, so the increment that writes a model's own
-- inferences keeps its indexes in the same statement.
ALTER TABLE model_ledger ADD COLUMN inference_g_each REAL;
ALTER TABLE model_ledger ADD COLUMN inference_g_each_low REAL;
ALTER TABLE model_ledger ADD COLUMN inference_g_each_high REAL;
ALTER TABLE model_ledger ADD COLUMN own_footprint_co2e_kg REAL
    GENERATED ALWAYS AS (own_co2e_kg + inferences * coalesce(inference_g_each, 0) / 1000.0)
    VIRTUAL;
-- -1 without inferences: such a model has no figure per inference and ranks last.
ALTER TABLE model_ledger ADD COLUMN own_footprint_g_per_inference REAL
    GENERATED ALWAYS AS (iif(inferences > 0,
                             own_co2e_kg * 1000.0 / inferences + coalesce(inference_g_each, 0),
                             -1))
    VIRTUAL;

CREATE INDEX model_ledger_by_footprint ON model_ledger (own_footprint_co2e_kg DESC, model_id);
CREATE INDEX model_ledger_by_footprint_per_inference
    ON model_ledger (own_footprint_g_per_inference DESC, model_id);

-- A family's inferences by day (GET /v1/models/{id}/series?scope=family) are read
-- from the family's daily counts by representative, priced when read (migration
-- 0011).

-- The totals' inference CO2e (GET /v1/totals): the sum over the ledger's or the
-- namespace's models of their inferences at their CO2e per inference now, as each
-- model's footprint counts them. The stored sum holds each model's folded
-- inferences (its count less its deltas pending in inference_pending) at its
-- figure: an increment writes no totals row, the fold adds each delta at the
-- model's figure when it folds, and a read adds the pending deltas at their
-- models' figures. A change of a model's figure (a profile, its lineage's training
-- energy: rare writes) moves its folded inferences' CO2e here, O(1) rows; a model
-- without a figure adds none.
ALTER TABLE ledger_totals ADD COLUMN inference_co2e_kg REAL NOT NULL DEFAULT 0;
ALTER TABLE ledger_totals ADD COLUMN inference_co2e_kg_low REAL NOT NULL DEFAULT 0;
ALTER TABLE ledger_totals ADD COLUMN inference_co2e_kg_high REAL NOT NULL DEFAULT 0;

CREATE TRIGGER model_ledger_totals_inference_co2e
AFTER UPDATE OF inference_g_each, inference_g_each_low, inference_g_each_high ON model_ledger
WHEN NEW.inference_g_each IS NOT OLD.inference_g_each
  OR NEW.inference_g_each_low IS NOT OLD.inference_g_each_low
  OR NEW.inference_g_each_high IS NOT OLD.inference_g_each_high BEGIN
    UPDATE ledger_totals SET
        inference_co2e_kg = max(0.0, inference_co2e_kg + f.n
            * (coalesce(NEW.inference_g_each, 0) - coalesce(OLD.inference_g_each, 0)) / 1000.0),
        inference_co2e_kg_low = max(0.0, inference_co2e_kg_low + f.n
            * (coalesce(NEW.inference_g_each_low, 0) - coalesce(OLD.inference_g_each_low, 0))
            / 1000.0),
        inference_co2e_kg_high = max(0.0, inference_co2e_kg_high + f.n
            * (coalesce(NEW.inference_g_each_high, 0) - coalesce(OLD.inference_g_each_high, 0))
            / 1000.0)
    FROM (SELECT NEW.inferences - (SELECT coalesce(sum(delta), 0) FROM inference_pending
                                   WHERE model_id = NEW.model_id) AS n) f
    WHERE namespace IN ((SELECT namespace FROM models WHERE id = NEW.model_id), '');
END;

-- A model leaves with its folded inferences' CO2e (its pending deltas leave with it).
CREATE TRIGGER models_totals_inference_co2e_delete BEFORE DELETE ON models BEGIN
    UPDATE ledger_totals SET
        inference_co2e_kg = max(0.0, inference_co2e_kg - f.n * f.g / 1000.0),
        inference_co2e_kg_low = max(0.0, inference_co2e_kg_low - f.n * f.g_low / 1000.0),
        inference_co2e_kg_high = max(0.0, inference_co2e_kg_high - f.n * f.g_high / 1000.0)
    FROM (SELECT l.inferences - (SELECT coalesce(sum(delta), 0) FROM inference_pending
                                 WHERE model_id = OLD.id) AS n,
                 coalesce(l.inference_g_each, 0) AS g,
                 coalesce(l.inference_g_each_low, 0) AS g_low,
                 coalesce(l.inference_g_each_high, 0) AS g_high
          FROM model_ledger l WHERE l.model_id = OLD.id) f
    WHERE namespace IN (OLD.namespace, '');
END;

-- Back-fill: db_migration_hook computes inference_g_each of every model under a
-- profile (the trigger above adds each to the totals as it is written).
