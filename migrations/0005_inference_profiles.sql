-- SPDX-License-Identifier: Apache-2.0
-- 0005: inference profiles as typed figures, one row per model that has one, in
-- place of the JSON text model_ledger.profile held: storage keeps what a profile
-- says, not how an answer spells it. A range left NULL is one the profile does not
-- give: kwh_per_inference for a derived profile; ratio (the default applies),
-- token_steps and training_kwh (the lineage's applies) for a measured one.
CREATE TABLE inference_profiles (
    model_id                   INTEGER PRIMARY KEY REFERENCES models (id) ON DELETE CASCADE,
    unit                       TEXT NOT NULL CHECK (length(unit) BETWEEN 1 AND 32),
    source                     TEXT NOT NULL CHECK (source IN ('measured', 'derived')),
    kwh_per_inference          REAL,
    kwh_per_inference_low      REAL,
    kwh_per_inference_high     REAL,
    ratio                      REAL,
    ratio_low                  REAL,
    ratio_high                 REAL,
    token_steps                REAL,
    token_steps_low            REAL,
    token_steps_high           REAL,
    training_kwh               REAL,
    training_kwh_low           REAL,
    training_kwh_high          REAL,
    intensity_kg_per_kwh       REAL NOT NULL,
    intensity_kg_per_kwh_low   REAL NOT NULL,
    intensity_kg_per_kwh_high  REAL NOT NULL,
    intensity_source           TEXT NOT NULL
                               CHECK (intensity_source IN ('explicit', 'table', 'default')),
    intensity_location         TEXT, -- table: the location code resolved
    intensity_table            TEXT, -- table: the reference table's name
    intensity_row              INTEGER, -- table: the line in that table
    intensity_year             INTEGER, -- table: the data year, NULL when it says none
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
) STRICT;

-- Every stored profile, converted. The service wrote them with 17 significant
-- digits, which json_extract reads back to the same doubles, so every answer
-- stays the same to the last digit. The rules are those the service read them
-- with: a profile with "derived_from_training" is derived; a ratio or training
-- energy that is not an object was not given; an intensity source other than
-- "table" or "explicit" is the default.
INSERT INTO inference_profiles
SELECT model_id,
       CASE json_type(profile, '$.unit') WHEN 'text' THEN
           json_extract(profile, '$.unit')
           ELSE 'request' END,
       CASE WHEN is_derived THEN 'derived' ELSE 'measured' END,
       CASE WHEN NOT is_derived THEN json_extract(profile, '$.energy_kwh_per_inference.value') END,
       CASE WHEN NOT is_derived THEN json_extract(profile, '$.energy_kwh_per_inference.low') END,
       CASE WHEN NOT is_derived THEN json_extract(profile, '$.energy_kwh_per_inference.high') END,
       CASE WHEN has_ratio THEN json_extract(profile, '$.derived_from_training.ratio.value') END,
       CASE WHEN has_ratio THEN json_extract(profile, '$.derived_from_training.ratio.low') END,
       CASE WHEN has_ratio THEN json_extract(profile, '$.derived_from_training.ratio.high') END,
       CASE WHEN is_derived THEN
           json_extract(profile, '$.derived_from_training.token_steps.value') END,
       CASE WHEN is_derived THEN
           json_extract(profile, '$.derived_from_training.token_steps.low') END,
       CASE WHEN is_derived THEN
           json_extract(profile, '$.derived_from_training.token_steps.high') END,
       CASE WHEN has_training THEN
           json_extract(profile, '$.derived_from_training.training_kwh.value') END,
       CASE WHEN has_training THEN
           json_extract(profile, '$.derived_from_training.training_kwh.low') END,
       CASE WHEN has_training THEN
           json_extract(profile, '$.derived_from_training.training_kwh.high') END,
       json_extract(profile, '$.carbon_intensity.kg_per_kwh.value'),
       json_extract(profile, '$.carbon_intensity.kg_per_kwh.low'),
       json_extract(profile, '$.carbon_intensity.kg_per_kwh.high'),
       intensity_source,
       CASE WHEN intensity_source = 'table'
            THEN coalesce(json_extract(profile, '$.carbon_intensity.location'), '') END,
       CASE WHEN intensity_source = 'table'
            THEN coalesce(json_extract(profile, '$.carbon_intensity.table'), '') END,
       CASE WHEN intensity_source = 'table'
            THEN coalesce(json_extract(profile, '$.carbon_intensity.row'), 0) END,
       CASE WHEN intensity_source = 'table'
            THEN nullif(coalesce(json_extract(profile, '$.carbon_intensity.year'), 0), 0) END
FROM (SELECT model_id, profile,
             json_type(profile, '$.derived_from_training') IS NOT NULL AS is_derived,
             json_type(profile, '$.derived_from_training') IS NOT NULL
                 AND json_type(profile, '$.derived_from_training.ratio') = 'object' AS has_ratio,
             json_type(profile, '$.derived_from_training') IS NOT NULL
                 AND json_type(profile, '$.derived_from_training.training_kwh') = 'object'
                 AS has_training,
             CASE json_extract(profile, '$.carbon_intensity.source')
                 WHEN 'table' THEN 'table' WHEN 'explicit' THEN 'explicit' ELSE 'default'
             END AS intensity_source
      FROM model_ledger WHERE profile IS NOT NULL);

ALTER TABLE model_ledger DROP COLUMN profile;
