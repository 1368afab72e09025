-- 0003: reference data, hardware (TDP, peak FLOP/s) and regions (grid carbon
-- intensity), loaded by db/refdata.c inside this migration's transaction from the
-- files of reference-data/ embedded in the binary. Rows are validated on load
-- (core/refdata.c for the CSV files, SQL for codecarbon/global_energy_mix.json);
-- a bad row is skipped and recorded in reference_skips, never repaired.
--
-- Every row keeps its source table, its line in that file and the upstream source
-- it cites; licence and attribution are kept once per table in reference_loads.
--
-- Precedence, when a region code or a hardware name appears more than once: the
-- lowest rank wins, then the earliest line. Regions, newest and most direct first:
--   1 google-cloud-region-carbon/2024.csv  provider's own 2024 location-based figure
--   2 codecarbon/global_energy_mix.json    Our World in Data, data years 2021-2023
--   3 green-algorithms/CI_aggregated.csv   carbonfootprint.com and others, 2019-2022
--   4 mlco2-impact/impact.csv              cloud regions, sources from 2016-2021
-- Hardware: Green Algorithms v3.0 (2025; GPUs then CPUs) before ML CO2 Impact's
-- gpus.csv (its TPU figures are measured averages, not TDP). A name matched
-- exactly (letters and digits, any case) beats one matched without its vendor
-- words ("NVIDIA", "Tesla", ...), whatever the rank.
--
-- No JSON or other non-deterministic functions appear in the schema: it runs with
-- trusted_schema=OFF.

CREATE TABLE reference_loads (
    source_table  TEXT PRIMARY KEY CHECK (length(source_table) BETWEEN 1 AND 47),
    kind          TEXT NOT NULL CHECK (kind IN ('hardware', 'regions')),
    rank          INTEGER NOT NULL CHECK (rank BETWEEN 1 AND 99),
    licence       TEXT NOT NULL CHECK (length(licence) BETWEEN 1 AND 31),
    attribution   TEXT NOT NULL CHECK (length(attribution) BETWEEN 1 AND 255),
    rows_loaded   INTEGER NOT NULL DEFAULT 0 CHECK (rows_loaded >= 0),
    rows_skipped  INTEGER NOT NULL DEFAULT 0 CHECK (rows_skipped >= 0),
    loaded_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;

-- One line per skipped row: the field at fault (a column as a JSON pointer, "" for
-- the whole row) and why. source_row is 0 only when the row's line is unknown.
CREATE TABLE reference_skips (
    id            INTEGER PRIMARY KEY,
    source_table  TEXT NOT NULL REFERENCES reference_loads (source_table),
    source_row    INTEGER NOT NULL CHECK (source_row >= 0),
    field         TEXT NOT NULL CHECK (length(field) <= 63),
    reason        TEXT NOT NULL CHECK (length(reason) BETWEEN 1 AND 255)
) STRICT;

-- name_key: the lower-case letters and digits of name ("NVIDIA Tesla V100" ->
-- "nvidiateslav100"); alias_key: the same without leading vendor and brand words
-- ("v100"). Both are computed by db/refdata.c, which normalises queries the same way.
CREATE TABLE hardware (
    id                     INTEGER PRIMARY KEY,
    name                   TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 95),
    name_key               TEXT NOT NULL CHECK (length(name_key) BETWEEN 1 AND 95),
    alias_key              TEXT NOT NULL CHECK (length(alias_key) BETWEEN 1 AND 95),
    kind                   TEXT NOT NULL CHECK (kind IN ('gpu', 'cpu', 'tpu')),
    tdp_w                  REAL NOT NULL CHECK (tdp_w > 0 AND tdp_w <= 10000),
    tdp_per_core_w         REAL CHECK (tdp_per_core_w IS NULL OR
                                       (tdp_per_core_w > 0 AND tdp_per_core_w <= 10000)),
    n_cores                REAL CHECK (n_cores IS NULL OR (n_cores > 0 AND n_cores <= 4096)),
    peak_fp32_flops_per_s  REAL CHECK (peak_fp32_flops_per_s IS NULL OR
                                       (peak_fp32_flops_per_s > 0 AND peak_fp32_flops_per_s <= 1e17)),
    peak_fp16_flops_per_s  REAL CHECK (peak_fp16_flops_per_s IS NULL OR
                                       (peak_fp16_flops_per_s > 0 AND peak_fp16_flops_per_s <= 1e17)),
    memory_gb              REAL CHECK (memory_gb IS NULL OR (memory_gb > 0 AND memory_gb <= 4096)),
    source_table           TEXT NOT NULL REFERENCES reference_loads (source_table),
    source_row             INTEGER NOT NULL CHECK (source_row >= 1),
    rank                   INTEGER NOT NULL CHECK (rank BETWEEN 1 AND 99),
    source                 TEXT NOT NULL CHECK (length(source) <= 383),
    UNIQUE (source_table, source_row)
) STRICT;

CREATE INDEX hardware_by_name_key ON hardware (name_key, rank, source_row);
CREATE INDEX hardware_by_alias_key ON hardware (alias_key, rank, source_row);

-- code: ISO 3166-1 alpha-3 (FRA), alpha-2 (FR), a subdivision (US-CA), WORLD, or
-- provider:region for cloud regions (gcp:europe-west1); compared without case.
-- year is the data year where the table states one.
CREATE TABLE regions (
    id                   INTEGER PRIMARY KEY,
    code                 TEXT NOT NULL COLLATE NOCASE CHECK (length(code) BETWEEN 2 AND 63),
    name                 TEXT NOT NULL CHECK (length(name) <= 127),
    kind                 TEXT NOT NULL CHECK (kind IN ('world', 'country', 'subdivision', 'cloud')),
    provider             TEXT CHECK (provider IS NULL OR length(provider) BETWEEN 1 AND 23),
    intensity_g_per_kwh  REAL NOT NULL CHECK (intensity_g_per_kwh >= 0 AND
                                              intensity_g_per_kwh <= 2000),
    year                 INTEGER CHECK (year IS NULL OR year BETWEEN 1990 AND 2100),
    source_table         TEXT NOT NULL REFERENCES reference_loads (source_table),
    source_row           INTEGER NOT NULL CHECK (source_row >= 1),
    rank                 INTEGER NOT NULL CHECK (rank BETWEEN 1 AND 99),
    source               TEXT NOT NULL CHECK (length(source) <= 383),
    UNIQUE (source_table, source_row),
    CHECK ((kind = 'cloud') = (provider IS NOT NULL))
) STRICT;

CREATE INDEX regions_by_code ON regions (code, rank, source_row);
