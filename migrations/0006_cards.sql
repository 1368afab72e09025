-- SPDX-License-Identifier: Apache-2.0
-- 0006: Hub model cards.
-- models.placeholder: a parent that a card named before the parent itself was
-- registered. It has no facts of its own; a registration of its id completes it.
ALTER TABLE models ADD COLUMN placeholder INTEGER NOT NULL DEFAULT 0
    CHECK (placeholder IN (0, 1));

-- model_cards: what the last registration of a model said, one row per model
-- registered through POST, PUT or `carbontree import`; is_card says whether that
-- body was a Hub card (base_model, co2_eq_emissions, tags, ...). facts is the
-- digest (BLAKE2b, hex) of the canonical JSON of everything the body decides
-- (metadata, lineage, co2_eq_emissions as written, the names of ignored keys), so
-- that registering the same card again changes nothing and a changed card
-- replaces its own reported activity (activity_id) instead of adding another.
-- relation_given says whether the card named base_model_relation (1) or the
-- relation was inferred (0) from relation_from; both are NULL for a card without
-- parents. ignored is the JSON array of the card's keys that carbontree neither
-- keeps nor uses. location, hardware, hours and source are co2_eq_emissions'
-- geographical_location, hardware_used, hours_used and source as the card gives
-- them. flags is the JSON array of what looked wrong in the card's figure (copied
-- from an ancestor, implausibly small or large), each {"flag", "detail"}.
-- readings is the JSON object of what carbontree read into the card's words: the
-- grid region geographical_location names and the catalogue hardware
-- hardware_used names (each with how it matched, or that it stayed unmatched),
-- and the training type, given or inferred.
CREATE TABLE model_cards (
    model_id        INTEGER PRIMARY KEY REFERENCES models (id) ON DELETE CASCADE,
    facts           TEXT NOT NULL CHECK (length(facts) = 64),
    activity_id     INTEGER REFERENCES activities (id) ON DELETE SET NULL,
    relation_given  INTEGER CHECK (relation_given IS NULL OR relation_given IN (0, 1)),
    relation_from   TEXT CHECK (relation_from IS NULL OR length(relation_from) <= 255),
    is_card         INTEGER NOT NULL DEFAULT 1 CHECK (is_card IN (0, 1)),
    ignored         TEXT NOT NULL DEFAULT '[]',
    location        TEXT CHECK (location IS NULL OR length(location) <= 255),
    hardware        TEXT CHECK (hardware IS NULL OR length(hardware) <= 255),
    hours           REAL CHECK (hours IS NULL OR hours >= 0),
    source          TEXT CHECK (source IS NULL OR length(source) <= 255),
    flags           TEXT NOT NULL DEFAULT '[]',
    readings        TEXT NOT NULL DEFAULT '{}'
) STRICT;
