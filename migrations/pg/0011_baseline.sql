-- SPDX-License-Identifier: Apache-2.0
-- PostgreSQL 15: the schema SQLite reaches with migrations 0001 to 0011, as one
-- baseline (a PostgreSQL ledger starts empty, so it never replays the history).
-- Tables, columns, keys and CHECKs are those of migrations/*.sql, with their
-- meaning; what each column holds is told there and not again here. Later schema
-- changes come in pairs: migrations/NNNN_what.sql and migrations/pg/NNNN_what.sql.
--
-- Types: INTEGER is bigint (the service reads and binds every integer as 64 bits;
-- the 0/1 flags too, so the same SQL text compares them with 1), REAL is double
-- precision, BLOB is bytea. A timestamp stays the text SQLite writes, by the time
-- of the statement, as strftime('now') is.
--
-- Ids compared without case (COLLATE NOCASE in SQLite) are citext under the "C"
-- collation: equality, order and the unique keys then fold ASCII letters only and
-- compare bytes, exactly as NOCASE does, so the prefix searches over
-- (namespace, name) that bound a range with "\x7f" keep working with the same
-- SQL text. A nondeterministic ICU collation would fold other letters too and
-- order by the Unicode collation algorithm, in which "\x7f" is ignorable; a
-- lower() index would need lower() in every query. A text parameter compared with
-- such a column must reach the server untyped (or as citext): typed text, it
-- would be compared as text, with case.
--
-- Triggers keep the same aggregates as SQLite's, under the same names, one
-- PL/pgSQL function each, of
-- the trigger's name. Unlike SQLite's, PostgreSQL's AFTER ROW triggers run
-- when the statement ends, not after each row; the two on model_closure that
-- file a model's counts under its representative are therefore statement
-- triggers over the rows the statement changed (see there).

CREATE EXTENSION IF NOT EXISTS citext;

-- migrations/0001, 0006 and 0008.
CREATE TABLE models (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, -- never reused: ids are cursors
    namespace   citext COLLATE "C" NOT NULL CHECK (length(namespace) BETWEEN 0 AND 96),
    name        citext COLLATE "C" NOT NULL CHECK (length(name) BETWEEN 1 AND 96),
    task        text CHECK (task IS NULL OR length(task) <= 255),
    license     text CHECK (license IS NULL OR length(license) <= 255),
    url         text CHECK (url IS NULL OR length(url) <= 2047),
    parameters  bigint CHECK (parameters IS NULL OR parameters >= 0),
    depth       bigint NOT NULL DEFAULT 0 CHECK (depth BETWEEN 0 AND 64),
    version     bigint NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at  text NOT NULL DEFAULT to_char(statement_timestamp() AT TIME ZONE 'UTC',
                                              'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    updated_at  text NOT NULL DEFAULT to_char(statement_timestamp() AT TIME ZONE 'UTC',
                                              'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    placeholder bigint NOT NULL DEFAULT 0 CHECK (placeholder IN (0, 1)),
    UNIQUE (namespace, name)
);

CREATE TABLE model_parents (
    child_id   bigint NOT NULL REFERENCES models (id) ON DELETE CASCADE,
    parent_id  bigint NOT NULL REFERENCES models (id) ON DELETE RESTRICT,
    relation   text NOT NULL
               CHECK (relation IN ('finetune', 'adapter', 'quantized', 'merge', 'distillation')),
    position   bigint NOT NULL CHECK (position >= 0),
    PRIMARY KEY (child_id, parent_id),
    CHECK (child_id <> parent_id)
);

CREATE INDEX model_parents_by_parent ON model_parents (parent_id, child_id);

CREATE TABLE model_closure (
    ancestor_id    bigint NOT NULL REFERENCES models (id) ON DELETE CASCADE,
    descendant_id  bigint NOT NULL REFERENCES models (id) ON DELETE CASCADE,
    PRIMARY KEY (ancestor_id, descendant_id)
);

CREATE INDEX model_closure_by_descendant ON model_closure (descendant_id, ancestor_id);

-- migrations/0002.
CREATE TABLE activities (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, -- ids are in URLs
    model_id             bigint NOT NULL REFERENCES models (id) ON DELETE CASCADE,
    kind                 text NOT NULL CHECK (kind IN ('training', 'fine_tuning', 'development',
                                                       'embodied', 'idle', 'other')),
    obtained             text NOT NULL CHECK (obtained IN ('measured', 'reported', 'estimated')),
    method               text CHECK (method IS NULL OR
                                     method IN ('power', 'tdp', 'flops', 'energy', 'embodied')),
    energy_kwh           double precision CHECK (energy_kwh IS NULL OR energy_kwh >= 0),
    energy_kwh_low       double precision CHECK (energy_kwh_low IS NULL OR energy_kwh_low >= 0),
    energy_kwh_high      double precision,
    co2e_kg              double precision NOT NULL CHECK (co2e_kg >= 0),
    co2e_kg_low          double precision NOT NULL
                         CHECK (co2e_kg_low >= 0 AND co2e_kg_low <= co2e_kg),
    co2e_kg_high         double precision NOT NULL CHECK (co2e_kg_high >= co2e_kg),
    inputs               text NOT NULL,
    result               text NOT NULL,
    methodology_version  text NOT NULL,
    created_at           text NOT NULL DEFAULT to_char(statement_timestamp() AT TIME ZONE 'UTC',
                                                       'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    CHECK ((energy_kwh IS NULL) = (energy_kwh_low IS NULL)
           AND (energy_kwh IS NULL) = (energy_kwh_high IS NULL)),
    CHECK (energy_kwh IS NULL OR (energy_kwh_low <= energy_kwh AND energy_kwh <= energy_kwh_high))
);

CREATE INDEX activities_by_model ON activities (model_id, id);

-- migrations/0002, 0005 (profile moved out), 0007, 0010 and 0011. The two figures
-- SQLite computes as VIRTUAL columns are STORED here (PostgreSQL 15 has no
-- other kind): the same statement that writes what they are computed from
-- writes them, and their indexes with them.
CREATE TABLE model_ledger (
    model_id                        bigint PRIMARY KEY REFERENCES models (id) ON DELETE CASCADE,
    own_co2e_kg                     double precision NOT NULL DEFAULT 0 CHECK (own_co2e_kg >= 0),
    own_co2e_kg_low                 double precision NOT NULL DEFAULT 0
                                    CHECK (own_co2e_kg_low >= 0),
    own_co2e_kg_high                double precision NOT NULL DEFAULT 0
                                    CHECK (own_co2e_kg_high >= 0),
    lineage_kwh                     double precision NOT NULL DEFAULT 0 CHECK (lineage_kwh >= 0),
    lineage_kwh_low                 double precision NOT NULL DEFAULT 0
                                    CHECK (lineage_kwh_low >= 0),
    lineage_kwh_high                double precision NOT NULL DEFAULT 0
                                    CHECK (lineage_kwh_high >= 0),
    training_kwh                    double precision NOT NULL DEFAULT 0 CHECK (training_kwh >= 0),
    training_kwh_low                double precision NOT NULL DEFAULT 0
                                    CHECK (training_kwh_low >= 0),
    training_kwh_high               double precision NOT NULL DEFAULT 0
                                    CHECK (training_kwh_high >= 0),
    n_activities                    bigint NOT NULL DEFAULT 0 CHECK (n_activities >= 0),
    inferences                      bigint NOT NULL DEFAULT 0 CHECK (inferences >= 0),
    descendants                     bigint NOT NULL DEFAULT 1 CHECK (descendants >= 1),
    descendant_inferences           bigint NOT NULL DEFAULT 0
                                    CHECK (descendant_inferences >= inferences),
    family_training_co2e_kg         double precision NOT NULL DEFAULT 0,
    family_training_co2e_kg_low     double precision NOT NULL DEFAULT 0,
    family_training_co2e_kg_high    double precision NOT NULL DEFAULT 0,
    family_fine_tuning_co2e_kg      double precision NOT NULL DEFAULT 0,
    family_fine_tuning_co2e_kg_low  double precision NOT NULL DEFAULT 0,
    family_fine_tuning_co2e_kg_high double precision NOT NULL DEFAULT 0,
    family_other_co2e_kg            double precision NOT NULL DEFAULT 0,
    family_other_co2e_kg_low        double precision NOT NULL DEFAULT 0,
    family_other_co2e_kg_high       double precision NOT NULL DEFAULT 0,
    family_co2e_kg                  double precision NOT NULL DEFAULT 0,
    is_root                         bigint NOT NULL DEFAULT 1 CHECK (is_root IN (0, 1)),
    inference_g_each                double precision,
    inference_g_each_low            double precision,
    inference_g_each_high           double precision,
    own_footprint_co2e_kg           double precision GENERATED ALWAYS AS
        (own_co2e_kg + inferences * coalesce(inference_g_each, 0) / 1000.0) STORED,
    -- -1 without inferences: such a model has no figure per inference and ranks last.
    own_footprint_g_per_inference   double precision GENERATED ALWAYS AS
        (CASE WHEN inferences > 0
              THEN own_co2e_kg * 1000.0 / inferences + coalesce(inference_g_each, 0)
              ELSE -1 END) STORED,
    pretraining_co2e_kg             double precision NOT NULL DEFAULT 0,
    pretraining_co2e_kg_low         double precision NOT NULL DEFAULT 0,
    pretraining_co2e_kg_high        double precision NOT NULL DEFAULT 0,
    dividend_status                 bigint NOT NULL DEFAULT 0 CHECK (dividend_status IN (0, 1, 2)),
    avoided_co2e_kg                 double precision NOT NULL DEFAULT 0,
    avoided_co2e_kg_low             double precision NOT NULL DEFAULT 0,
    avoided_co2e_kg_high            double precision NOT NULL DEFAULT 0,
    dividend_stale                  bigint NOT NULL DEFAULT 0 CHECK (dividend_stale IN (0, 1)),
    usage_rep_id                    bigint NOT NULL DEFAULT 0,
    usage_rep_stale                 bigint NOT NULL DEFAULT 0 CHECK (usage_rep_stale IN (0, 1))
);

CREATE INDEX model_ledger_roots_by_co2e ON model_ledger (family_co2e_kg DESC, model_id)
    WHERE is_root = 1;
CREATE INDEX model_ledger_roots_by_inferences
    ON model_ledger (descendant_inferences DESC, model_id) WHERE is_root = 1;
CREATE INDEX model_ledger_roots_by_size ON model_ledger (descendants DESC, model_id)
    WHERE is_root = 1;
CREATE INDEX model_ledger_roots ON model_ledger (model_id) WHERE is_root = 1;
CREATE INDEX model_ledger_by_inferences ON model_ledger (inferences DESC, model_id);
CREATE INDEX model_ledger_by_own_co2e ON model_ledger (own_co2e_kg DESC, model_id);
CREATE INDEX model_ledger_by_footprint ON model_ledger (own_footprint_co2e_kg DESC, model_id);
CREATE INDEX model_ledger_by_footprint_per_inference
    ON model_ledger (own_footprint_g_per_inference DESC, model_id);

CREATE TABLE inference_counters (
    model_id    bigint NOT NULL REFERENCES models (id) ON DELETE CASCADE,
    reporter    text NOT NULL CHECK (length(reporter) BETWEEN 1 AND 128),
    total       bigint NOT NULL CHECK (total >= 0),
    resets      bigint NOT NULL DEFAULT 0 CHECK (resets >= 0),
    updated_at  text NOT NULL DEFAULT to_char(statement_timestamp() AT TIME ZONE 'UTC',
                                              'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    PRIMARY KEY (model_id, reporter)
);

-- SQLite's GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]', anchored as GLOB is.
CREATE TABLE inference_daily (
    model_id  bigint NOT NULL REFERENCES models (id) ON DELETE CASCADE,
    day       text NOT NULL CHECK (day ~ '^[0-9]{4}-[0-1][0-9]-[0-3][0-9]$'),
    count     bigint NOT NULL CHECK (count >= 0),
    PRIMARY KEY (model_id, day)
);

CREATE TABLE idempotency_keys (
    scope         text NOT NULL,
    key           text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    request_hash  text NOT NULL,
    status        bigint NOT NULL CHECK (status BETWEEN 200 AND 599),
    response      text NOT NULL,
    created_at    text NOT NULL DEFAULT to_char(statement_timestamp() AT TIME ZONE 'UTC',
                                                'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    PRIMARY KEY (scope, key)
);

-- migrations/0003: created empty, loaded by db/db_refdata.c.
CREATE TABLE reference_loads (
    source_table  text PRIMARY KEY CHECK (length(source_table) BETWEEN 1 AND 47),
    kind          text NOT NULL CHECK (kind IN ('hardware', 'regions')),
    rank          bigint NOT NULL CHECK (rank BETWEEN 1 AND 99),
    licence       text NOT NULL CHECK (length(licence) BETWEEN 1 AND 31),
    attribution   text NOT NULL CHECK (length(attribution) BETWEEN 1 AND 255),
    rows_loaded   bigint NOT NULL DEFAULT 0 CHECK (rows_loaded >= 0),
    rows_skipped  bigint NOT NULL DEFAULT 0 CHECK (rows_skipped >= 0),
    loaded_at     text NOT NULL DEFAULT to_char(statement_timestamp() AT TIME ZONE 'UTC',
                                                'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
);

CREATE TABLE reference_skips (
    id            bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    source_table  text NOT NULL REFERENCES reference_loads (source_table),
    source_row    bigint NOT NULL CHECK (source_row >= 0),
    field         text NOT NULL CHECK (length(field) <= 63),
    reason        text NOT NULL CHECK (length(reason) BETWEEN 1 AND 255)
);

CREATE TABLE hardware (
    id                     bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    name                   text NOT NULL CHECK (length(name) BETWEEN 1 AND 95),
    name_key               text NOT NULL CHECK (length(name_key) BETWEEN 1 AND 95),
    alias_key              text NOT NULL CHECK (length(alias_key) BETWEEN 1 AND 95),
    kind                   text NOT NULL CHECK (kind IN ('gpu', 'cpu', 'tpu')),
    tdp_w                  double precision NOT NULL CHECK (tdp_w > 0 AND tdp_w <= 10000),
    tdp_per_core_w         double precision CHECK (tdp_per_core_w IS NULL OR
                                                   (tdp_per_core_w > 0 AND tdp_per_core_w <= 10000)),
    n_cores                double precision
                           CHECK (n_cores IS NULL OR (n_cores > 0 AND n_cores <= 4096)),
    peak_fp32_flops_per_s  double precision
                           CHECK (peak_fp32_flops_per_s IS NULL OR
                                  (peak_fp32_flops_per_s > 0 AND peak_fp32_flops_per_s <= 1e17)),
    peak_fp16_flops_per_s  double precision
                           CHECK (peak_fp16_flops_per_s IS NULL OR
                                  (peak_fp16_flops_per_s > 0 AND peak_fp16_flops_per_s <= 1e17)),
    memory_gb              double precision
                           CHECK (memory_gb IS NULL OR (memory_gb > 0 AND memory_gb <= 4096)),
    source_table           text NOT NULL REFERENCES reference_loads (source_table),
    source_row             bigint NOT NULL CHECK (source_row >= 1),
    rank                   bigint NOT NULL CHECK (rank BETWEEN 1 AND 99),
    source                 text NOT NULL CHECK (length(source) <= 383),
    UNIQUE (source_table, source_row)
);

CREATE INDEX hardware_by_name_key ON hardware (name_key, rank, source_row);
CREATE INDEX hardware_by_alias_key ON hardware (alias_key, rank, source_row);

CREATE TABLE regions (
    id                   bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    code                 citext COLLATE "C" NOT NULL CHECK (length(code) BETWEEN 2 AND 63),
    name                 text NOT NULL CHECK (length(name) <= 127),
    kind                 text NOT NULL CHECK (kind IN ('world', 'country', 'subdivision', 'cloud')),
    provider             text CHECK (provider IS NULL OR length(provider) BETWEEN 1 AND 23),
    intensity_g_per_kwh  double precision NOT NULL
                         CHECK (intensity_g_per_kwh >= 0 AND intensity_g_per_kwh <= 2000),
    year                 bigint CHECK (year IS NULL OR year BETWEEN 1990 AND 2100),
    source_table         text NOT NULL REFERENCES reference_loads (source_table),
    source_row           bigint NOT NULL CHECK (source_row >= 1),
    rank                 bigint NOT NULL CHECK (rank BETWEEN 1 AND 99),
    source               text NOT NULL CHECK (length(source) <= 383),
    UNIQUE (source_table, source_row),
    CHECK ((kind = 'cloud') = (provider IS NOT NULL))
);

CREATE INDEX regions_by_code ON regions (code, rank, source_row);

-- migrations/0004.
CREATE TABLE tokens (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_hash   bytea NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 128),
    scopes       text NOT NULL CHECK (length(scopes) BETWEEN 1 AND 256),
    namespaces   text NOT NULL CHECK (length(namespaces) BETWEEN 1 AND 4096),
    is_admin     bigint NOT NULL CHECK (is_admin IN (0, 1)),
    created_at   text NOT NULL DEFAULT to_char(statement_timestamp() AT TIME ZONE 'UTC',
                                               'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    revoked_at   text
);

-- migrations/0005.
CREATE TABLE inference_profiles (
    model_id                   bigint PRIMARY KEY REFERENCES models (id) ON DELETE CASCADE,
    unit                       text NOT NULL CHECK (length(unit) BETWEEN 1 AND 32),
    source                     text NOT NULL CHECK (source IN ('measured', 'derived')),
    kwh_per_inference          double precision,
    kwh_per_inference_low      double precision,
    kwh_per_inference_high     double precision,
    ratio                      double precision,
    ratio_low                  double precision,
    ratio_high                 double precision,
    token_steps                double precision,
    token_steps_low            double precision,
    token_steps_high           double precision,
    training_kwh               double precision,
    training_kwh_low           double precision,
    training_kwh_high          double precision,
    intensity_kg_per_kwh       double precision NOT NULL,
    intensity_kg_per_kwh_low   double precision NOT NULL,
    intensity_kg_per_kwh_high  double precision NOT NULL,
    intensity_source           text NOT NULL
                               CHECK (intensity_source IN ('explicit', 'table', 'default')),
    intensity_location         text,
    intensity_table            text,
    intensity_row              bigint,
    intensity_year             bigint,
    CHECK ((source = 'measured') = (kwh_per_inference IS NOT NULL)),
    CHECK ((source = 'derived') = (token_steps IS NOT NULL)),
    CHECK (source = 'derived' OR (ratio IS NULL AND training_kwh IS NULL)),
    CHECK ((kwh_per_inference IS NULL) = (kwh_per_inference_low IS NULL)
           AND (kwh_per_inference IS NULL) = (kwh_per_inference_high IS NULL)),
    CHECK ((ratio IS NULL) = (ratio_low IS NULL) AND (ratio IS NULL) = (ratio_high IS NULL)),
    CHECK ((token_steps IS NULL) = (token_steps_low IS NULL)
           AND (token_steps IS NULL) = (token_steps_high IS NULL)),
    CHECK ((training_kwh IS NULL) = (training_kwh_low IS NULL)
           AND (training_kwh IS NULL) = (training_kwh_high IS NULL)),
    CHECK ((intensity_source = 'table') = (intensity_table IS NOT NULL))
);

-- migrations/0006.
CREATE TABLE model_cards (
    model_id        bigint PRIMARY KEY REFERENCES models (id) ON DELETE CASCADE,
    facts           text NOT NULL CHECK (length(facts) = 64),
    activity_id     bigint REFERENCES activities (id) ON DELETE SET NULL,
    relation_given  bigint CHECK (relation_given IS NULL OR relation_given IN (0, 1)),
    relation_from   text CHECK (relation_from IS NULL OR length(relation_from) <= 255),
    is_card         bigint NOT NULL DEFAULT 1 CHECK (is_card IN (0, 1)),
    ignored         text NOT NULL DEFAULT '[]',
    location        text CHECK (location IS NULL OR length(location) <= 255),
    hardware        text CHECK (hardware IS NULL OR length(hardware) <= 255),
    hours           double precision CHECK (hours IS NULL OR hours >= 0),
    source          text CHECK (source IS NULL OR length(source) <= 255),
    flags           text NOT NULL DEFAULT '[]',
    readings        text NOT NULL DEFAULT '{}'
);

-- migrations/0007, 0010 and 0011. namespace '': the whole ledger.
CREATE TABLE ledger_totals (
    namespace                       citext COLLATE "C" PRIMARY KEY,
    models                          bigint NOT NULL DEFAULT 0 CHECK (models >= 0),
    families                        bigint NOT NULL DEFAULT 0 CHECK (families >= 0),
    training_co2e_kg                double precision NOT NULL DEFAULT 0,
    training_co2e_kg_low            double precision NOT NULL DEFAULT 0,
    training_co2e_kg_high           double precision NOT NULL DEFAULT 0,
    fine_tuning_co2e_kg             double precision NOT NULL DEFAULT 0,
    fine_tuning_co2e_kg_low         double precision NOT NULL DEFAULT 0,
    fine_tuning_co2e_kg_high        double precision NOT NULL DEFAULT 0,
    other_co2e_kg                   double precision NOT NULL DEFAULT 0,
    other_co2e_kg_low               double precision NOT NULL DEFAULT 0,
    other_co2e_kg_high              double precision NOT NULL DEFAULT 0,
    inferences                      bigint NOT NULL DEFAULT 0 CHECK (inferences >= 0),
    inference_co2e_kg               double precision NOT NULL DEFAULT 0,
    inference_co2e_kg_low           double precision NOT NULL DEFAULT 0,
    inference_co2e_kg_high          double precision NOT NULL DEFAULT 0,
    descendants_without_pretraining bigint NOT NULL DEFAULT 0,
    avoided_co2e_kg                 double precision NOT NULL DEFAULT 0,
    avoided_co2e_kg_low             double precision NOT NULL DEFAULT 0,
    avoided_co2e_kg_high            double precision NOT NULL DEFAULT 0
);

-- migrations/0009.
CREATE TABLE inference_pending (
    model_id  bigint NOT NULL REFERENCES models (id) ON DELETE CASCADE,
    day       text NOT NULL,
    delta     bigint NOT NULL CHECK (delta > 0),
    PRIMARY KEY (model_id, day)
);

-- migrations/0011.
CREATE TABLE family_inference_daily (
    ancestor_id bigint NOT NULL, -- the family D(ancestor_id)
    rep_id      bigint NOT NULL, -- the members' usage_rep_id
    day         text NOT NULL,
    count       bigint NOT NULL,
    PRIMARY KEY (ancestor_id, rep_id, day)
);

-- Triggers of migrations/0007 (models' as 0008 recreated them; 0009 dropped the
-- one on model_ledger.inferences). An activity counts in the family of each of
-- its model's ancestors (the model included) and in its namespace's and the
-- ledger's totals; a removed one is subtracted, never below zero.
CREATE FUNCTION activities_aggregates_insert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    t boolean := NEW.kind = 'training';
    f boolean := NEW.kind = 'fine_tuning';
    o boolean := NEW.kind NOT IN ('training', 'fine_tuning');
BEGIN
    UPDATE model_ledger SET
        family_training_co2e_kg = family_training_co2e_kg
            + CASE WHEN t THEN NEW.co2e_kg ELSE 0 END,
        family_training_co2e_kg_low = family_training_co2e_kg_low
            + CASE WHEN t THEN NEW.co2e_kg_low ELSE 0 END,
        family_training_co2e_kg_high = family_training_co2e_kg_high
            + CASE WHEN t THEN NEW.co2e_kg_high ELSE 0 END,
        family_fine_tuning_co2e_kg = family_fine_tuning_co2e_kg
            + CASE WHEN f THEN NEW.co2e_kg ELSE 0 END,
        family_fine_tuning_co2e_kg_low = family_fine_tuning_co2e_kg_low
            + CASE WHEN f THEN NEW.co2e_kg_low ELSE 0 END,
        family_fine_tuning_co2e_kg_high = family_fine_tuning_co2e_kg_high
            + CASE WHEN f THEN NEW.co2e_kg_high ELSE 0 END,
        family_other_co2e_kg = family_other_co2e_kg
            + CASE WHEN o THEN NEW.co2e_kg ELSE 0 END,
        family_other_co2e_kg_low = family_other_co2e_kg_low
            + CASE WHEN o THEN NEW.co2e_kg_low ELSE 0 END,
        family_other_co2e_kg_high = family_other_co2e_kg_high
            + CASE WHEN o THEN NEW.co2e_kg_high ELSE 0 END,
        family_co2e_kg = family_co2e_kg + NEW.co2e_kg
    WHERE model_id IN (SELECT ancestor_id FROM model_closure WHERE descendant_id = NEW.model_id);
    UPDATE ledger_totals SET
        training_co2e_kg = training_co2e_kg + CASE WHEN t THEN NEW.co2e_kg ELSE 0 END,
        training_co2e_kg_low = training_co2e_kg_low + CASE WHEN t THEN NEW.co2e_kg_low ELSE 0 END,
        training_co2e_kg_high = training_co2e_kg_high
            + CASE WHEN t THEN NEW.co2e_kg_high ELSE 0 END,
        fine_tuning_co2e_kg = fine_tuning_co2e_kg + CASE WHEN f THEN NEW.co2e_kg ELSE 0 END,
        fine_tuning_co2e_kg_low = fine_tuning_co2e_kg_low
            + CASE WHEN f THEN NEW.co2e_kg_low ELSE 0 END,
        fine_tuning_co2e_kg_high = fine_tuning_co2e_kg_high
            + CASE WHEN f THEN NEW.co2e_kg_high ELSE 0 END,
        other_co2e_kg = other_co2e_kg + CASE WHEN o THEN NEW.co2e_kg ELSE 0 END,
        other_co2e_kg_low = other_co2e_kg_low + CASE WHEN o THEN NEW.co2e_kg_low ELSE 0 END,
        other_co2e_kg_high = other_co2e_kg_high + CASE WHEN o THEN NEW.co2e_kg_high ELSE 0 END
    WHERE namespace IN ((SELECT namespace FROM models WHERE id = NEW.model_id), '');
    RETURN NULL;
END $$;

CREATE TRIGGER activities_aggregates_insert AFTER INSERT ON activities
FOR EACH ROW EXECUTE FUNCTION activities_aggregates_insert();

CREATE FUNCTION activities_aggregates_delete() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    t boolean := OLD.kind = 'training';
    f boolean := OLD.kind = 'fine_tuning';
    o boolean := OLD.kind NOT IN ('training', 'fine_tuning');
BEGIN
    UPDATE model_ledger SET
        family_training_co2e_kg = greatest(0.0, family_training_co2e_kg
            - CASE WHEN t THEN OLD.co2e_kg ELSE 0 END),
        family_training_co2e_kg_low = greatest(0.0, family_training_co2e_kg_low
            - CASE WHEN t THEN OLD.co2e_kg_low ELSE 0 END),
        family_training_co2e_kg_high = greatest(0.0, family_training_co2e_kg_high
            - CASE WHEN t THEN OLD.co2e_kg_high ELSE 0 END),
        family_fine_tuning_co2e_kg = greatest(0.0, family_fine_tuning_co2e_kg
            - CASE WHEN f THEN OLD.co2e_kg ELSE 0 END),
        family_fine_tuning_co2e_kg_low = greatest(0.0, family_fine_tuning_co2e_kg_low
            - CASE WHEN f THEN OLD.co2e_kg_low ELSE 0 END),
        family_fine_tuning_co2e_kg_high = greatest(0.0, family_fine_tuning_co2e_kg_high
            - CASE WHEN f THEN OLD.co2e_kg_high ELSE 0 END),
        family_other_co2e_kg = greatest(0.0, family_other_co2e_kg
            - CASE WHEN o THEN OLD.co2e_kg ELSE 0 END),
        family_other_co2e_kg_low = greatest(0.0, family_other_co2e_kg_low
            - CASE WHEN o THEN OLD.co2e_kg_low ELSE 0 END),
        family_other_co2e_kg_high = greatest(0.0, family_other_co2e_kg_high
            - CASE WHEN o THEN OLD.co2e_kg_high ELSE 0 END),
        family_co2e_kg = greatest(0.0, family_co2e_kg - OLD.co2e_kg)
    WHERE model_id IN (SELECT ancestor_id FROM model_closure WHERE descendant_id = OLD.model_id);
    UPDATE ledger_totals SET
        training_co2e_kg = greatest(0.0, training_co2e_kg
            - CASE WHEN t THEN OLD.co2e_kg ELSE 0 END),
        training_co2e_kg_low = greatest(0.0, training_co2e_kg_low
            - CASE WHEN t THEN OLD.co2e_kg_low ELSE 0 END),
        training_co2e_kg_high = greatest(0.0, training_co2e_kg_high
            - CASE WHEN t THEN OLD.co2e_kg_high ELSE 0 END),
        fine_tuning_co2e_kg = greatest(0.0, fine_tuning_co2e_kg
            - CASE WHEN f THEN OLD.co2e_kg ELSE 0 END),
        fine_tuning_co2e_kg_low = greatest(0.0, fine_tuning_co2e_kg_low
            - CASE WHEN f THEN OLD.co2e_kg_low ELSE 0 END),
        fine_tuning_co2e_kg_high = greatest(0.0, fine_tuning_co2e_kg_high
            - CASE WHEN f THEN OLD.co2e_kg_high ELSE 0 END),
        other_co2e_kg = greatest(0.0, other_co2e_kg - CASE WHEN o THEN OLD.co2e_kg ELSE 0 END),
        other_co2e_kg_low = greatest(0.0, other_co2e_kg_low
            - CASE WHEN o THEN OLD.co2e_kg_low ELSE 0 END),
        other_co2e_kg_high = greatest(0.0, other_co2e_kg_high
            - CASE WHEN o THEN OLD.co2e_kg_high ELSE 0 END)
    WHERE namespace IN ((SELECT namespace FROM models WHERE id = OLD.model_id), '');
    RETURN NULL;
END $$;

CREATE TRIGGER activities_aggregates_delete AFTER DELETE ON activities
FOR EACH ROW EXECUTE FUNCTION activities_aggregates_delete();

-- A model counts in its namespace's and the ledger's totals; a root, as a family.
-- A bare model (namespace '') counts in the ledger's only.
CREATE FUNCTION models_aggregates_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ledger_totals (namespace) VALUES (NEW.namespace), ('') ON CONFLICT DO NOTHING;
    UPDATE ledger_totals SET models = models + 1, families = families + (NEW.depth = 0)::int
    WHERE namespace IN (NEW.namespace, '');
    RETURN NULL;
END $$;

CREATE TRIGGER models_aggregates_insert AFTER INSERT ON models
FOR EACH ROW EXECUTE FUNCTION models_aggregates_insert();

CREATE FUNCTION models_aggregates_depth() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE ledger_totals
    SET families = families + (NEW.depth = 0)::int - (OLD.depth = 0)::int
    WHERE namespace IN (NEW.namespace, '');
    UPDATE model_ledger SET is_root = (NEW.depth = 0)::int WHERE model_id = NEW.id;
    RETURN NULL;
END $$;

CREATE TRIGGER models_aggregates_depth AFTER UPDATE OF depth ON models
FOR EACH ROW WHEN ((OLD.depth = 0) <> (NEW.depth = 0))
EXECUTE FUNCTION models_aggregates_depth();

-- A model leaves: its activities go first, while its lineage still names the
-- families they count in; then its own figures leave the totals.
CREATE FUNCTION models_aggregates_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM activities WHERE model_id = OLD.id;
    UPDATE ledger_totals SET models = models - 1, families = families - (OLD.depth = 0)::int,
        inferences = inferences - coalesce((SELECT inferences FROM model_ledger
                                            WHERE model_id = OLD.id), 0)
    WHERE namespace IN (OLD.namespace, '');
    RETURN OLD;
END $$;

CREATE TRIGGER models_aggregates_delete BEFORE DELETE ON models
FOR EACH ROW EXECUTE FUNCTION models_aggregates_delete();

-- A ledger row inserted with a count (the bulk loader) counts in the totals at
-- once; a total saturates at the largest bigint rather than refusing a count
-- every family could hold on its own.
CREATE FUNCTION model_ledger_aggregates_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE model_ledger SET is_root = (SELECT (depth = 0)::int FROM models WHERE id = NEW.model_id)
    WHERE model_id = NEW.model_id;
    UPDATE ledger_totals
    SET inferences = CASE WHEN inferences > 9223372036854775807 - NEW.inferences
                          THEN 9223372036854775807 ELSE inferences + NEW.inferences END
    WHERE NEW.inferences > 0
      AND namespace IN ((SELECT namespace FROM models WHERE id = NEW.model_id), '');
    RETURN NULL;
END $$;

CREATE TRIGGER model_ledger_aggregates_insert AFTER INSERT ON model_ledger
FOR EACH ROW EXECUTE FUNCTION model_ledger_aggregates_insert();

-- Triggers of migrations/0010: the totals' inference CO2e follows a change of a
-- model's figure (its folded inferences at the new figure less the old), and
-- leaves with the model.
CREATE FUNCTION model_ledger_totals_inference_co2e() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    n bigint := NEW.inferences - (SELECT coalesce(sum(delta), 0) FROM inference_pending
                                  WHERE model_id = NEW.model_id);
BEGIN
    UPDATE ledger_totals SET
        inference_co2e_kg = greatest(0.0, inference_co2e_kg + n
            * (coalesce(NEW.inference_g_each, 0) - coalesce(OLD.inference_g_each, 0)) / 1000.0),
        inference_co2e_kg_low = greatest(0.0, inference_co2e_kg_low + n
            * (coalesce(NEW.inference_g_each_low, 0) - coalesce(OLD.inference_g_each_low, 0))
            / 1000.0),
        inference_co2e_kg_high = greatest(0.0, inference_co2e_kg_high + n
            * (coalesce(NEW.inference_g_each_high, 0) - coalesce(OLD.inference_g_each_high, 0))
            / 1000.0)
    WHERE namespace IN ((SELECT namespace FROM models WHERE id = NEW.model_id), '');
    RETURN NULL;
END $$;

CREATE TRIGGER model_ledger_totals_inference_co2e
AFTER UPDATE OF inference_g_each, inference_g_each_low, inference_g_each_high ON model_ledger
FOR EACH ROW WHEN (NEW.inference_g_each IS DISTINCT FROM OLD.inference_g_each
                   OR NEW.inference_g_each_low IS DISTINCT FROM OLD.inference_g_each_low
                   OR NEW.inference_g_each_high IS DISTINCT FROM OLD.inference_g_each_high)
EXECUTE FUNCTION model_ledger_totals_inference_co2e();

CREATE FUNCTION models_totals_inference_co2e_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE ledger_totals SET
        inference_co2e_kg = greatest(0.0, inference_co2e_kg - f.n * f.g / 1000.0),
        inference_co2e_kg_low = greatest(0.0, inference_co2e_kg_low - f.n * f.g_low / 1000.0),
        inference_co2e_kg_high = greatest(0.0, inference_co2e_kg_high - f.n * f.g_high / 1000.0)
    FROM (SELECT l.inferences - (SELECT coalesce(sum(delta), 0) FROM inference_pending
                                 WHERE model_id = OLD.id) AS n,
                 coalesce(l.inference_g_each, 0) AS g,
                 coalesce(l.inference_g_each_low, 0) AS g_low,
                 coalesce(l.inference_g_each_high, 0) AS g_high
          FROM model_ledger l WHERE l.model_id = OLD.id) f
    WHERE namespace IN (OLD.namespace, '');
    RETURN OLD;
END $$;

CREATE TRIGGER models_totals_inference_co2e_delete BEFORE DELETE ON models
FOR EACH ROW EXECUTE FUNCTION models_totals_inference_co2e_delete();

-- Triggers of migrations/0011, first part: the sharing dividend. The one place a
-- share is computed: the roots a model builds on are its strict ancestors without
-- parents. The model's own emissions are read from its row as it is now rather
-- than from NEW: the trigger may run after other triggers of the same statement
-- wrote the row again.
CREATE FUNCTION model_ledger_dividend_share() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE model_ledger l SET dividend_stale = 0,
        (dividend_status, avoided_co2e_kg, avoided_co2e_kg_low, avoided_co2e_kg_high) =
        (SELECT CASE WHEN count(*) = 0 THEN 0
                     WHEN bool_and(r.pretraining_co2e_kg_high > 0) THEN 1 ELSE 2 END,
                CASE WHEN bool_and(r.pretraining_co2e_kg_high > 0)
                     THEN greatest(0.0, coalesce(sum(r.pretraining_co2e_kg), 0) - l.own_co2e_kg)
                     ELSE 0.0 END,
                CASE WHEN bool_and(r.pretraining_co2e_kg_high > 0)
                     THEN greatest(0.0, coalesce(sum(r.pretraining_co2e_kg_low), 0)
                                        - l.own_co2e_kg_high)
                     ELSE 0.0 END,
                CASE WHEN bool_and(r.pretraining_co2e_kg_high > 0)
                     THEN greatest(0.0, coalesce(sum(r.pretraining_co2e_kg_high), 0)
                                        - l.own_co2e_kg_low)
                     ELSE 0.0 END
         FROM model_closure c JOIN model_ledger r ON r.model_id = c.ancestor_id
         WHERE c.descendant_id = l.model_id AND c.ancestor_id <> l.model_id
           AND NOT EXISTS (SELECT 1 FROM model_parents p WHERE p.child_id = c.ancestor_id))
    WHERE l.model_id = NEW.model_id AND EXISTS (SELECT 1 FROM models WHERE id = NEW.model_id);
    RETURN NULL;
END $$;

CREATE TRIGGER model_ledger_dividend_share AFTER UPDATE OF dividend_stale ON model_ledger
FOR EACH ROW WHEN (NEW.dividend_stale = 1) EXECUTE FUNCTION model_ledger_dividend_share();

-- A share that changed changes its namespace's and the ledger's sums.
CREATE FUNCTION model_ledger_dividend_totals() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE ledger_totals SET
        descendants_without_pretraining = descendants_without_pretraining
            + (NEW.dividend_status = 2)::int - (OLD.dividend_status = 2)::int,
        avoided_co2e_kg = greatest(0.0, avoided_co2e_kg
            + NEW.avoided_co2e_kg - OLD.avoided_co2e_kg),
        avoided_co2e_kg_low = greatest(0.0, avoided_co2e_kg_low
            + NEW.avoided_co2e_kg_low - OLD.avoided_co2e_kg_low),
        avoided_co2e_kg_high = greatest(0.0, avoided_co2e_kg_high
            + NEW.avoided_co2e_kg_high - OLD.avoided_co2e_kg_high)
    WHERE namespace IN ((SELECT namespace FROM models WHERE id = NEW.model_id), '');
    RETURN NULL;
END $$;

CREATE TRIGGER model_ledger_dividend_totals
AFTER UPDATE OF dividend_status, avoided_co2e_kg, avoided_co2e_kg_low, avoided_co2e_kg_high
ON model_ledger
FOR EACH ROW WHEN (NEW.dividend_status <> OLD.dividend_status
                   OR NEW.avoided_co2e_kg <> OLD.avoided_co2e_kg
                   OR NEW.avoided_co2e_kg_low <> OLD.avoided_co2e_kg_low
                   OR NEW.avoided_co2e_kg_high <> OLD.avoided_co2e_kg_high)
EXECUTE FUNCTION model_ledger_dividend_totals();

-- Its own emissions changed, or its ledger row is new: its share is asked for again.
CREATE FUNCTION model_ledger_dividend_own() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE model_ledger SET dividend_stale = 1 WHERE model_id = NEW.model_id;
    RETURN NULL;
END $$;

CREATE TRIGGER model_ledger_dividend_own
AFTER UPDATE OF own_co2e_kg, own_co2e_kg_low, own_co2e_kg_high ON model_ledger
FOR EACH ROW WHEN (NEW.own_co2e_kg <> OLD.own_co2e_kg OR NEW.own_co2e_kg_low <> OLD.own_co2e_kg_low
                   OR NEW.own_co2e_kg_high <> OLD.own_co2e_kg_high)
EXECUTE FUNCTION model_ledger_dividend_own();

CREATE FUNCTION model_ledger_dividend_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE model_ledger SET dividend_stale = 1 WHERE model_id = NEW.model_id;
    RETURN NULL;
END $$;

CREATE TRIGGER model_ledger_dividend_insert AFTER INSERT ON model_ledger
FOR EACH ROW EXECUTE FUNCTION model_ledger_dividend_insert();

-- Every change of a model's ancestors: once per statement, when every closure row
-- it wrote is there, so that the share is computed from the whole closure.
CREATE FUNCTION model_closure_dividend_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE model_ledger SET dividend_stale = 1
    WHERE model_id IN (SELECT descendant_id FROM closure_added
                       WHERE ancestor_id <> descendant_id);
    RETURN NULL;
END $$;

CREATE TRIGGER model_closure_dividend_insert AFTER INSERT ON model_closure
REFERENCING NEW TABLE AS closure_added
FOR EACH STATEMENT EXECUTE FUNCTION model_closure_dividend_insert();

CREATE FUNCTION model_closure_dividend_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE model_ledger SET dividend_stale = 1
    WHERE model_id IN (SELECT descendant_id FROM closure_removed
                       WHERE ancestor_id <> descendant_id);
    RETURN NULL;
END $$;

CREATE TRIGGER model_closure_dividend_delete AFTER DELETE ON model_closure
REFERENCING OLD TABLE AS closure_removed
FOR EACH STATEMENT EXECUTE FUNCTION model_closure_dividend_delete();

-- A training activity changes its model's pre-training and, when the model is a
-- root, the share of every model that builds on it.
CREATE FUNCTION activities_dividend_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE model_ledger SET (pretraining_co2e_kg, pretraining_co2e_kg_low,
                             pretraining_co2e_kg_high) =
        (SELECT coalesce(sum(co2e_kg), 0), coalesce(sum(co2e_kg_low), 0),
                coalesce(sum(co2e_kg_high), 0)
         FROM activities WHERE model_id = NEW.model_id AND kind = 'training')
    WHERE model_id = NEW.model_id;
    UPDATE model_ledger SET dividend_stale = 1
    WHERE NOT EXISTS (SELECT 1 FROM model_parents WHERE child_id = NEW.model_id)
      AND model_id IN (SELECT descendant_id FROM model_closure
                       WHERE ancestor_id = NEW.model_id AND descendant_id <> NEW.model_id);
    RETURN NULL;
END $$;

CREATE TRIGGER activities_dividend_insert AFTER INSERT ON activities
FOR EACH ROW WHEN (NEW.kind = 'training') EXECUTE FUNCTION activities_dividend_insert();

CREATE FUNCTION activities_dividend_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE model_ledger SET (pretraining_co2e_kg, pretraining_co2e_kg_low,
                             pretraining_co2e_kg_high) =
        (SELECT coalesce(sum(co2e_kg), 0), coalesce(sum(co2e_kg_low), 0),
                coalesce(sum(co2e_kg_high), 0)
         FROM activities WHERE model_id = OLD.model_id AND kind = 'training')
    WHERE model_id = OLD.model_id;
    UPDATE model_ledger SET dividend_stale = 1
    WHERE NOT EXISTS (SELECT 1 FROM model_parents WHERE child_id = OLD.model_id)
      AND model_id IN (SELECT descendant_id FROM model_closure
                       WHERE ancestor_id = OLD.model_id AND descendant_id <> OLD.model_id);
    RETURN NULL;
END $$;

CREATE TRIGGER activities_dividend_delete AFTER DELETE ON activities
FOR EACH ROW WHEN (OLD.kind = 'training') EXECUTE FUNCTION activities_dividend_delete();

-- A model leaves (a leaf: nothing builds on it): its share leaves the sums while
-- its namespace is still known.
CREATE FUNCTION models_dividend_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE model_ledger SET dividend_status = 0, avoided_co2e_kg = 0, avoided_co2e_kg_low = 0,
        avoided_co2e_kg_high = 0
    WHERE model_id = OLD.id;
    RETURN OLD;
END $$;

CREATE TRIGGER models_dividend_delete BEFORE DELETE ON models
FOR EACH ROW EXECUTE FUNCTION models_dividend_delete();

-- Second part: a family's daily counts by representative (usage_rep_id: the
-- deepest of a model's ancestors, itself included, that prices an inference its
-- own way). The rows hold folded counts: each day's count less its pending delta.
CREATE FUNCTION model_ledger_usage_rep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE model_ledger SET usage_rep_stale = 0, usage_rep_id = coalesce((
        SELECT c.ancestor_id FROM model_closure c JOIN models m ON m.id = c.ancestor_id
        JOIN model_ledger a ON a.model_id = c.ancestor_id
        WHERE c.descendant_id = NEW.model_id
          AND (a.training_kwh_high > 0
               OR EXISTS (SELECT 1 FROM inference_profiles p WHERE p.model_id = c.ancestor_id)
               OR (SELECT count(*) FROM model_parents e WHERE e.child_id = c.ancestor_id) <> 1)
        ORDER BY m.depth DESC, c.ancestor_id DESC LIMIT 1), 0)
    WHERE model_id = NEW.model_id AND EXISTS (SELECT 1 FROM models WHERE id = NEW.model_id);
    RETURN NULL;
END $$;

CREATE TRIGGER model_ledger_usage_rep AFTER UPDATE OF usage_rep_stale ON model_ledger
FOR EACH ROW WHEN (NEW.usage_rep_stale = 1) EXECUTE FUNCTION model_ledger_usage_rep();

-- A new representative: the model's folded counts move to it in every family they
-- count in.
CREATE FUNCTION model_ledger_usage_rep_move() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO family_inference_daily AS f (ancestor_id, rep_id, day, count)
    SELECT c.ancestor_id, r.rep_id, d.day, r.sign * (d.count - coalesce(q.delta, 0))
    FROM model_closure c JOIN inference_daily d ON d.model_id = c.descendant_id
    LEFT JOIN inference_pending q ON q.model_id = d.model_id AND q.day = d.day
    CROSS JOIN (VALUES (OLD.usage_rep_id, -1), (NEW.usage_rep_id, 1)) r (rep_id, sign)
    WHERE c.descendant_id = NEW.model_id
    ON CONFLICT (ancestor_id, rep_id, day) DO UPDATE SET count = f.count + excluded.count;
    RETURN NULL;
END $$;

CREATE TRIGGER model_ledger_usage_rep_move AFTER UPDATE OF usage_rep_id ON model_ledger
FOR EACH ROW WHEN (NEW.usage_rep_id <> OLD.usage_rep_id)
EXECUTE FUNCTION model_ledger_usage_rep_move();

CREATE FUNCTION model_ledger_usage_rep_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE model_ledger SET usage_rep_stale = 1 WHERE model_id = NEW.model_id;
    RETURN NULL;
END $$;

CREATE TRIGGER model_ledger_usage_rep_insert AFTER INSERT ON model_ledger
FOR EACH ROW EXECUTE FUNCTION model_ledger_usage_rep_insert();

-- Its first training energy, or its last, a profile set or removed, makes a model
-- price inferences its own way or its parent's: its family's representatives
-- change. Replacing a profile by another (an upsert) changes none.
CREATE FUNCTION model_ledger_usage_rep_training() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE model_ledger SET usage_rep_stale = 1
    WHERE model_id IN (SELECT descendant_id FROM model_closure WHERE ancestor_id = NEW.model_id);
    RETURN NULL;
END $$;

CREATE TRIGGER model_ledger_usage_rep_training AFTER UPDATE OF training_kwh_high ON model_ledger
FOR EACH ROW WHEN ((NEW.training_kwh_high > 0) <> (OLD.training_kwh_high > 0))
EXECUTE FUNCTION model_ledger_usage_rep_training();

CREATE FUNCTION inference_profiles_usage_rep_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE model_ledger SET usage_rep_stale = 1
    WHERE model_id IN (SELECT descendant_id FROM model_closure WHERE ancestor_id = NEW.model_id);
    RETURN NULL;
END $$;

CREATE TRIGGER inference_profiles_usage_rep_insert AFTER INSERT ON inference_profiles
FOR EACH ROW EXECUTE FUNCTION inference_profiles_usage_rep_insert();

CREATE FUNCTION inference_profiles_usage_rep_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE model_ledger SET usage_rep_stale = 1
    WHERE model_id IN (SELECT descendant_id FROM model_closure WHERE ancestor_id = OLD.model_id);
    RETURN NULL;
END $$;

CREATE TRIGGER inference_profiles_usage_rep_delete AFTER DELETE ON inference_profiles
FOR EACH ROW EXECUTE FUNCTION inference_profiles_usage_rep_delete();

-- A model gains or loses ancestors: its folded counts join or leave those
-- families, under its representative as stored, then its representative is
-- computed again (which moves them in every family it is in). SQLite does this
-- one closure row at a time; here, where row triggers would run only after the
-- whole statement, the move would find closure rows whose counts were not yet
-- filed: so once per statement, every row of it filed first. A model leaving the
-- ledger had its counts taken out before (models_usage_delete).
CREATE FUNCTION model_closure_usage_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO family_inference_daily AS f (ancestor_id, rep_id, day, count)
    SELECT n.ancestor_id, l.usage_rep_id, d.day, sum(d.count - coalesce(q.delta, 0))
    FROM usage_added n JOIN inference_daily d ON d.model_id = n.descendant_id
    JOIN model_ledger l ON l.model_id = d.model_id
    LEFT JOIN inference_pending q ON q.model_id = d.model_id AND q.day = d.day
    GROUP BY n.ancestor_id, l.usage_rep_id, d.day
    ON CONFLICT (ancestor_id, rep_id, day) DO UPDATE SET count = f.count + excluded.count;
    UPDATE model_ledger SET usage_rep_stale = 1
    WHERE model_id IN (SELECT descendant_id FROM usage_added);
    RETURN NULL;
END $$;

CREATE TRIGGER model_closure_usage_insert AFTER INSERT ON model_closure
REFERENCING NEW TABLE AS usage_added
FOR EACH STATEMENT EXECUTE FUNCTION model_closure_usage_insert();

CREATE FUNCTION model_closure_usage_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO family_inference_daily AS f (ancestor_id, rep_id, day, count)
    SELECT o.ancestor_id, l.usage_rep_id, d.day, -sum(d.count - coalesce(q.delta, 0))
    FROM usage_removed o JOIN models m ON m.id = o.descendant_id
    JOIN inference_daily d ON d.model_id = o.descendant_id
    JOIN model_ledger l ON l.model_id = d.model_id
    LEFT JOIN inference_pending q ON q.model_id = d.model_id AND q.day = d.day
    GROUP BY o.ancestor_id, l.usage_rep_id, d.day
    ON CONFLICT (ancestor_id, rep_id, day) DO UPDATE SET count = f.count + excluded.count;
    UPDATE model_ledger SET usage_rep_stale = 1
    WHERE model_id IN (SELECT o.descendant_id FROM usage_removed o
                       JOIN models m ON m.id = o.descendant_id);
    RETURN NULL;
END $$;

CREATE TRIGGER model_closure_usage_delete AFTER DELETE ON model_closure
REFERENCING OLD TABLE AS usage_removed
FOR EACH STATEMENT EXECUTE FUNCTION model_closure_usage_delete();

-- No trigger on inference_daily: the fold and the bulk loader file its counts.
CREATE FUNCTION models_usage_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO family_inference_daily AS f (ancestor_id, rep_id, day, count)
    SELECT c.ancestor_id, l.usage_rep_id, d.day, -(d.count - coalesce(q.delta, 0))
    FROM model_closure c JOIN model_ledger l ON l.model_id = c.descendant_id
    JOIN inference_daily d ON d.model_id = c.descendant_id
    LEFT JOIN inference_pending q ON q.model_id = d.model_id AND q.day = d.day
    WHERE c.descendant_id = OLD.id
    ON CONFLICT (ancestor_id, rep_id, day) DO UPDATE SET count = f.count + excluded.count;
    DELETE FROM family_inference_daily WHERE ancestor_id = OLD.id;
    RETURN OLD;
END $$;

CREATE TRIGGER models_usage_delete BEFORE DELETE ON models
FOR EACH ROW EXECUTE FUNCTION models_usage_delete();
