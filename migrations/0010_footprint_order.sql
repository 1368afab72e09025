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

-- Back-fill: db_migration_hook computes inference_g_each of every model under a
-- profile.
