-- 0002: the family ledger.
-- activities: a model's own emissions sources, append-only (deleted only by id),
-- each with the inputs as given, the method and the methodology version, so an
-- estimate can be explained and recomputed.
CREATE TABLE activities (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused: ids are in URLs
    model_id             INTEGER NOT NULL REFERENCES models (id) ON DELETE CASCADE,
    kind                 TEXT NOT NULL CHECK (kind IN ('training', 'fine_tuning', 'development',
                                                       'embodied', 'idle', 'other')),
    obtained             TEXT NOT NULL CHECK (obtained IN ('measured', 'reported', 'estimated')),
    method               TEXT CHECK (method IS NULL OR
                                     method IN ('power', 'tdp', 'flops', 'energy', 'embodied')),
    energy_kwh           REAL CHECK (energy_kwh IS NULL OR energy_kwh >= 0),
    energy_kwh_low       REAL CHECK (energy_kwh_low IS NULL OR energy_kwh_low >= 0),
    energy_kwh_high      REAL,
    co2e_kg              REAL NOT NULL CHECK (co2e_kg >= 0),
    co2e_kg_low          REAL NOT NULL CHECK (co2e_kg_low >= 0 AND co2e_kg_low <= co2e_kg),
    co2e_kg_high         REAL NOT NULL CHECK (co2e_kg_high >= co2e_kg),
    inputs               TEXT NOT NULL,
    result               TEXT NOT NULL,
    methodology_version  TEXT NOT NULL,
    created_at           TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    CHECK ((energy_kwh IS NULL) = (energy_kwh_low IS NULL)
           AND (energy_kwh IS NULL) = (energy_kwh_high IS NULL)),
    CHECK (energy_kwh IS NULL OR (energy_kwh_low <= energy_kwh AND energy_kwh <= energy_kwh_high))
) STRICT;

CREATE INDEX activities_by_model ON activities (model_id, id);

-- Per-model aggregates, kept up to date in the same transaction as every write
-- that changes them, so a footprint reads O(ancestors) rows:
--   own_co2e_kg*     E(n), the sum of the model's activities
--   lineage_kwh*     own training + fine-tuning energy (for lineage energy parity)
--   training_kwh*    own training energy (for inference energy derived from training)
--   inferences       I(n), cumulative
--   descendants      |D(n)|, the model itself included
--   descendant_inferences  sum of I(m) over D(n)
-- plus the inference profile (what one inference is, its energy, the serving grid)
-- as JSON text written by the service (JSON functions are not allowed in the
-- schema, which runs with trusted_schema=OFF).
CREATE TABLE model_ledger (
    model_id                 INTEGER PRIMARY KEY REFERENCES models (id) ON DELETE CASCADE,
    own_co2e_kg              REAL NOT NULL DEFAULT 0 CHECK (own_co2e_kg >= 0),
    own_co2e_kg_low          REAL NOT NULL DEFAULT 0 CHECK (own_co2e_kg_low >= 0),
    own_co2e_kg_high         REAL NOT NULL DEFAULT 0 CHECK (own_co2e_kg_high >= 0),
    lineage_kwh              REAL NOT NULL DEFAULT 0 CHECK (lineage_kwh >= 0),
    lineage_kwh_low          REAL NOT NULL DEFAULT 0 CHECK (lineage_kwh_low >= 0),
    lineage_kwh_high         REAL NOT NULL DEFAULT 0 CHECK (lineage_kwh_high >= 0),
    training_kwh             REAL NOT NULL DEFAULT 0 CHECK (training_kwh >= 0),
    training_kwh_low         REAL NOT NULL DEFAULT 0 CHECK (training_kwh_low >= 0),
    training_kwh_high        REAL NOT NULL DEFAULT 0 CHECK (training_kwh_high >= 0),
    n_activities             INTEGER NOT NULL DEFAULT 0 CHECK (n_activities >= 0),
    inferences               INTEGER NOT NULL DEFAULT 0 CHECK (inferences >= 0),
    descendants              INTEGER NOT NULL DEFAULT 1 CHECK (descendants >= 1),
    descendant_inferences    INTEGER NOT NULL DEFAULT 0
                             CHECK (descendant_inferences >= inferences),
    profile                  TEXT
) STRICT;

-- Cumulative counters, one per reporter: a smaller total is refused unless the
-- report declares a reset.
CREATE TABLE inference_counters (
    model_id    INTEGER NOT NULL REFERENCES models (id) ON DELETE CASCADE,
    reporter    TEXT NOT NULL CHECK (length(reporter) BETWEEN 1 AND 128),
    total       INTEGER NOT NULL CHECK (total >= 0),
    resets      INTEGER NOT NULL DEFAULT 0 CHECK (resets >= 0),
    updated_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (model_id, reporter)
) STRICT, WITHOUT ROWID;

-- Inferences per UTC day, for the daily series.
CREATE TABLE inference_daily (
    model_id  INTEGER NOT NULL REFERENCES models (id) ON DELETE CASCADE,
    day       TEXT NOT NULL CHECK (day GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]'),
    count     INTEGER NOT NULL CHECK (count >= 0),
    PRIMARY KEY (model_id, day)
) STRICT, WITHOUT ROWID;

-- Idempotency records: the first answer to a key, replayed for the same request.
CREATE TABLE idempotency_keys (
    scope         TEXT NOT NULL,
    key           TEXT NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    request_hash  TEXT NOT NULL,
    status        INTEGER NOT NULL CHECK (status BETWEEN 200 AND 599),
    response      TEXT NOT NULL,
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (scope, key)
) STRICT, WITHOUT ROWID;

INSERT INTO model_ledger (model_id, descendants)
SELECT m.id, (SELECT count(*) FROM model_closure c WHERE c.ancestor_id = m.id) FROM models m;
