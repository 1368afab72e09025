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

-- A family's inferences by day (GET /v1/models/{id}/series?scope=family): for every
-- model a and day, the inferences its family D(a) counted that day and their CO2e,
-- each count priced at its model's CO2e per inference when it was counted (a count
-- without one adds none). Triggers on inference_daily keep it in the statement that
-- writes a model's own day, in O(ancestors) rows, on every write path; a lineage
-- edit recomputes the moved ancestors' rows (db/db_family_daily.c).
CREATE TABLE family_inference_daily (
    model_id      INTEGER NOT NULL REFERENCES models (id) ON DELETE CASCADE,
    day           TEXT NOT NULL CHECK (day GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]'),
    inferences    INTEGER NOT NULL CHECK (inferences >= 0),
    co2e_kg       REAL NOT NULL DEFAULT 0,
    co2e_kg_low   REAL NOT NULL DEFAULT 0,
    co2e_kg_high  REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (model_id, day)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER inference_daily_family_insert AFTER INSERT ON inference_daily BEGIN
    INSERT INTO family_inference_daily (model_id, day, inferences, co2e_kg, co2e_kg_low,
                                        co2e_kg_high)
    SELECT c.ancestor_id, NEW.day, NEW.count,
           NEW.count * coalesce(l.inference_g_each, 0) / 1000.0,
           NEW.count * coalesce(l.inference_g_each_low, 0) / 1000.0,
           NEW.count * coalesce(l.inference_g_each_high, 0) / 1000.0
    FROM model_closure c JOIN model_ledger l ON l.model_id = NEW.model_id
    WHERE c.descendant_id = NEW.model_id
    ON CONFLICT (model_id, day) DO UPDATE SET
        inferences = inferences + excluded.inferences,
        co2e_kg = co2e_kg + excluded.co2e_kg,
        co2e_kg_low = co2e_kg_low + excluded.co2e_kg_low,
        co2e_kg_high = co2e_kg_high + excluded.co2e_kg_high;
END;

CREATE TRIGGER inference_daily_family_update AFTER UPDATE OF count ON inference_daily
WHEN NEW.count <> OLD.count BEGIN
    UPDATE family_inference_daily SET
        inferences = max(0, inferences + (NEW.count - OLD.count)),
        co2e_kg = max(0.0, co2e_kg + (NEW.count - OLD.count)
            * coalesce((SELECT inference_g_each FROM model_ledger
                        WHERE model_id = NEW.model_id), 0) / 1000.0),
        co2e_kg_low = max(0.0, co2e_kg_low + (NEW.count - OLD.count)
            * coalesce((SELECT inference_g_each_low FROM model_ledger
                        WHERE model_id = NEW.model_id), 0) / 1000.0),
        co2e_kg_high = max(0.0, co2e_kg_high + (NEW.count - OLD.count)
            * coalesce((SELECT inference_g_each_high FROM model_ledger
                        WHERE model_id = NEW.model_id), 0) / 1000.0)
    WHERE day = NEW.day
      AND model_id IN (SELECT ancestor_id FROM model_closure WHERE descendant_id = NEW.model_id);
END;

CREATE TRIGGER inference_daily_family_delete AFTER DELETE ON inference_daily BEGIN
    UPDATE family_inference_daily SET
        inferences = max(0, inferences - OLD.count),
        co2e_kg = max(0.0, co2e_kg - OLD.count
            * coalesce((SELECT inference_g_each FROM model_ledger
                        WHERE model_id = OLD.model_id), 0) / 1000.0),
        co2e_kg_low = max(0.0, co2e_kg_low - OLD.count
            * coalesce((SELECT inference_g_each_low FROM model_ledger
                        WHERE model_id = OLD.model_id), 0) / 1000.0),
        co2e_kg_high = max(0.0, co2e_kg_high - OLD.count
            * coalesce((SELECT inference_g_each_high FROM model_ledger
                        WHERE model_id = OLD.model_id), 0) / 1000.0)
    WHERE day = OLD.day
      AND model_id IN (SELECT ancestor_id FROM model_closure WHERE descendant_id = OLD.model_id);
END;

-- A model leaves (it has no children): its days leave its ancestors' families while
-- its lineage still names them.
CREATE TRIGGER models_family_daily_delete BEFORE DELETE ON models BEGIN
    DELETE FROM inference_daily WHERE model_id = OLD.id;
END;

-- The totals' inference CO2e (GET /v1/totals): the sum over the ledger's or the
-- namespace's models of their inferences at their CO2e per inference now, as each
-- model's footprint counts them. Kept by the statement that changes a model's own
-- inferences or its figure, O(1) rows; a model without a figure adds none.
ALTER TABLE ledger_totals ADD COLUMN inference_co2e_kg REAL NOT NULL DEFAULT 0;
ALTER TABLE ledger_totals ADD COLUMN inference_co2e_kg_low REAL NOT NULL DEFAULT 0;
ALTER TABLE ledger_totals ADD COLUMN inference_co2e_kg_high REAL NOT NULL DEFAULT 0;

CREATE TRIGGER model_ledger_totals_inference_co2e
AFTER UPDATE OF inferences, inference_g_each, inference_g_each_low, inference_g_each_high
ON model_ledger
WHEN NEW.inferences * coalesce(NEW.inference_g_each_high, 0)
     <> OLD.inferences * coalesce(OLD.inference_g_each_high, 0)
  OR NEW.inferences * coalesce(NEW.inference_g_each, 0)
     <> OLD.inferences * coalesce(OLD.inference_g_each, 0)
  OR NEW.inferences * coalesce(NEW.inference_g_each_low, 0)
     <> OLD.inferences * coalesce(OLD.inference_g_each_low, 0) BEGIN
    UPDATE ledger_totals SET
        inference_co2e_kg = max(0.0, inference_co2e_kg
            + (NEW.inferences * coalesce(NEW.inference_g_each, 0)
               - OLD.inferences * coalesce(OLD.inference_g_each, 0)) / 1000.0),
        inference_co2e_kg_low = max(0.0, inference_co2e_kg_low
            + (NEW.inferences * coalesce(NEW.inference_g_each_low, 0)
               - OLD.inferences * coalesce(OLD.inference_g_each_low, 0)) / 1000.0),
        inference_co2e_kg_high = max(0.0, inference_co2e_kg_high
            + (NEW.inferences * coalesce(NEW.inference_g_each_high, 0)
               - OLD.inferences * coalesce(OLD.inference_g_each_high, 0)) / 1000.0)
    WHERE namespace IN ((SELECT namespace FROM models WHERE id = NEW.model_id), '');
END;

-- A model leaves with its inferences' CO2e.
CREATE TRIGGER models_totals_inference_co2e_delete BEFORE DELETE ON models BEGIN
    UPDATE ledger_totals SET
        inference_co2e_kg = max(0.0, inference_co2e_kg - coalesce((SELECT inferences
            * coalesce(inference_g_each, 0) FROM model_ledger WHERE model_id = OLD.id), 0) / 1000.0),
        inference_co2e_kg_low = max(0.0, inference_co2e_kg_low - coalesce((SELECT inferences
            * coalesce(inference_g_each_low, 0) FROM model_ledger WHERE model_id = OLD.id), 0)
            / 1000.0),
        inference_co2e_kg_high = max(0.0, inference_co2e_kg_high - coalesce((SELECT inferences
            * coalesce(inference_g_each_high, 0) FROM model_ledger WHERE model_id = OLD.id), 0)
            / 1000.0)
    WHERE namespace IN (OLD.namespace, '');
END;

-- Back-fill: db_migration_hook computes inference_g_each of every model under a
-- profile (the trigger above adds each to the totals as it is written), then each
-- family's days from its members' (db_family_daily_backfill).
