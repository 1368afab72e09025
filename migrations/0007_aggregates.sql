-- SPDX-License-Identifier: Apache-2.0
-- 0007: maintained aggregates for the dashboard reads, so GET /v1/families and
-- GET /v1/totals read a handful of rows whatever the ledger's size.
--
-- model_ledger gains, for every model n, the emissions of its family D(n) by kind
-- (training; fine_tuning; every other kind), each a range, and their central sum
-- family_co2e_kg (what a family list sorts on), and is_root (n has no parents:
-- it heads a family). ledger_totals holds one row per namespace and one for the
-- whole ledger (namespace ''): models, families (roots), own emissions by kind and
-- inferences of the models in it.
--
-- Triggers keep both in the statement that changes what they summarise, so every
-- write path (single writes, batch reports, the bulk loader) keeps them, each in
-- O(ancestors) rows. Lineage edits recompute the moved ancestors' family sums
-- (db/db_models.c, ledger_refresh). A removed activity is subtracted; the sums
-- never go below zero.
ALTER TABLE model_ledger ADD COLUMN family_training_co2e_kg REAL NOT NULL DEFAULT 0;
ALTER TABLE model_ledger ADD COLUMN family_training_co2e_kg_low REAL NOT NULL DEFAULT 0;
ALTER TABLE model_ledger ADD COLUMN family_training_co2e_kg_high REAL NOT NULL DEFAULT 0;
ALTER TABLE model_ledger ADD COLUMN family_fine_tuning_co2e_kg REAL NOT NULL DEFAULT 0;
ALTER TABLE model_ledger ADD COLUMN family_fine_tuning_co2e_kg_low REAL NOT NULL DEFAULT 0;
ALTER TABLE model_ledger ADD COLUMN family_fine_tuning_co2e_kg_high REAL NOT NULL DEFAULT 0;
ALTER TABLE model_ledger ADD COLUMN family_other_co2e_kg REAL NOT NULL DEFAULT 0;
ALTER TABLE model_ledger ADD COLUMN family_other_co2e_kg_low REAL NOT NULL DEFAULT 0;
ALTER TABLE model_ledger ADD COLUMN family_other_co2e_kg_high REAL NOT NULL DEFAULT 0;
ALTER TABLE model_ledger ADD COLUMN family_co2e_kg REAL NOT NULL DEFAULT 0;
ALTER TABLE model_ledger ADD COLUMN is_root INTEGER NOT NULL DEFAULT 1 CHECK (is_root IN (0, 1));

CREATE TABLE ledger_totals (
    namespace                TEXT PRIMARY KEY COLLATE NOCASE, -- '': the whole ledger
    models                   INTEGER NOT NULL DEFAULT 0 CHECK (models >= 0),
    families                 INTEGER NOT NULL DEFAULT 0 CHECK (families >= 0),
    training_co2e_kg         REAL NOT NULL DEFAULT 0,
    training_co2e_kg_low     REAL NOT NULL DEFAULT 0,
    training_co2e_kg_high    REAL NOT NULL DEFAULT 0,
    fine_tuning_co2e_kg      REAL NOT NULL DEFAULT 0,
    fine_tuning_co2e_kg_low  REAL NOT NULL DEFAULT 0,
    fine_tuning_co2e_kg_high REAL NOT NULL DEFAULT 0,
    other_co2e_kg            REAL NOT NULL DEFAULT 0,
    other_co2e_kg_low        REAL NOT NULL DEFAULT 0,
    other_co2e_kg_high       REAL NOT NULL DEFAULT 0,
    inferences               INTEGER NOT NULL DEFAULT 0 CHECK (inferences >= 0)
) STRICT, WITHOUT ROWID;

-- The family lists' orders: roots only, largest first, ties by key (oldest first).
CREATE INDEX model_ledger_roots_by_co2e ON model_ledger (family_co2e_kg DESC, model_id)
    WHERE is_root = 1;
CREATE INDEX model_ledger_roots_by_inferences
    ON model_ledger (descendant_inferences DESC, model_id) WHERE is_root = 1;
CREATE INDEX model_ledger_roots_by_size ON model_ledger (descendants DESC, model_id)
    WHERE is_root = 1;
CREATE INDEX model_ledger_roots ON model_ledger (model_id) WHERE is_root = 1;
-- The model lists' orders by a figure (and GET /metrics' most-used models).
CREATE INDEX model_ledger_by_inferences ON model_ledger (inferences DESC, model_id);
CREATE INDEX model_ledger_by_own_co2e ON model_ledger (own_co2e_kg DESC, model_id);

-- An activity counts in the family of each of its model's ancestors (the model
-- included) and in its namespace's and the ledger's totals.
CREATE TRIGGER activities_aggregates_insert AFTER INSERT ON activities BEGIN
    UPDATE model_ledger SET
        family_training_co2e_kg = family_training_co2e_kg
            + iif(NEW.kind = 'training', NEW.co2e_kg, 0),
        family_training_co2e_kg_low = family_training_co2e_kg_low
            + iif(NEW.kind = 'training', NEW.co2e_kg_low, 0),
        family_training_co2e_kg_high = family_training_co2e_kg_high
            + iif(NEW.kind = 'training', NEW.co2e_kg_high, 0),
        family_fine_tuning_co2e_kg = family_fine_tuning_co2e_kg
            + iif(NEW.kind = 'fine_tuning', NEW.co2e_kg, 0),
        family_fine_tuning_co2e_kg_low = family_fine_tuning_co2e_kg_low
            + iif(NEW.kind = 'fine_tuning', NEW.co2e_kg_low, 0),
        family_fine_tuning_co2e_kg_high = family_fine_tuning_co2e_kg_high
            + iif(NEW.kind = 'fine_tuning', NEW.co2e_kg_high, 0),
        family_other_co2e_kg = family_other_co2e_kg
            + iif(NEW.kind IN ('training', 'fine_tuning'), 0, NEW.co2e_kg),
        family_other_co2e_kg_low = family_other_co2e_kg_low
            + iif(NEW.kind IN ('training', 'fine_tuning'), 0, NEW.co2e_kg_low),
        family_other_co2e_kg_high = family_other_co2e_kg_high
            + iif(NEW.kind IN ('training', 'fine_tuning'), 0, NEW.co2e_kg_high),
        family_co2e_kg = family_co2e_kg + NEW.co2e_kg
    WHERE model_id IN (SELECT ancestor_id FROM model_closure WHERE descendant_id = NEW.model_id);
    UPDATE ledger_totals SET
        training_co2e_kg = training_co2e_kg + iif(NEW.kind = 'training', NEW.co2e_kg, 0),
        training_co2e_kg_low = training_co2e_kg_low
            + iif(NEW.kind = 'training', NEW.co2e_kg_low, 0),
        training_co2e_kg_high = training_co2e_kg_high
            + iif(NEW.kind = 'training', NEW.co2e_kg_high, 0),
        fine_tuning_co2e_kg = fine_tuning_co2e_kg
            + iif(NEW.kind = 'fine_tuning', NEW.co2e_kg, 0),
        fine_tuning_co2e_kg_low = fine_tuning_co2e_kg_low
            + iif(NEW.kind = 'fine_tuning', NEW.co2e_kg_low, 0),
        fine_tuning_co2e_kg_high = fine_tuning_co2e_kg_high
            + iif(NEW.kind = 'fine_tuning', NEW.co2e_kg_high, 0),
        other_co2e_kg = other_co2e_kg
            + iif(NEW.kind IN ('training', 'fine_tuning'), 0, NEW.co2e_kg),
        other_co2e_kg_low = other_co2e_kg_low
            + iif(NEW.kind IN ('training', 'fine_tuning'), 0, NEW.co2e_kg_low),
        other_co2e_kg_high = other_co2e_kg_high
            + iif(NEW.kind IN ('training', 'fine_tuning'), 0, NEW.co2e_kg_high)
    WHERE namespace IN ((SELECT namespace FROM models WHERE id = NEW.model_id), '');
END;

CREATE TRIGGER activities_aggregates_delete AFTER DELETE ON activities BEGIN
    UPDATE model_ledger SET
        family_training_co2e_kg = max(0.0, family_training_co2e_kg
            - iif(OLD.kind = 'training', OLD.co2e_kg, 0)),
        family_training_co2e_kg_low = max(0.0, family_training_co2e_kg_low
            - iif(OLD.kind = 'training', OLD.co2e_kg_low, 0)),
        family_training_co2e_kg_high = max(0.0, family_training_co2e_kg_high
            - iif(OLD.kind = 'training', OLD.co2e_kg_high, 0)),
        family_fine_tuning_co2e_kg = max(0.0, family_fine_tuning_co2e_kg
            - iif(OLD.kind = 'fine_tuning', OLD.co2e_kg, 0)),
        family_fine_tuning_co2e_kg_low = max(0.0, family_fine_tuning_co2e_kg_low
            - iif(OLD.kind = 'fine_tuning', OLD.co2e_kg_low, 0)),
        family_fine_tuning_co2e_kg_high = max(0.0, family_fine_tuning_co2e_kg_high
            - iif(OLD.kind = 'fine_tuning', OLD.co2e_kg_high, 0)),
        family_other_co2e_kg = max(0.0, family_other_co2e_kg
            - iif(OLD.kind IN ('training', 'fine_tuning'), 0, OLD.co2e_kg)),
        family_other_co2e_kg_low = max(0.0, family_other_co2e_kg_low
            - iif(OLD.kind IN ('training', 'fine_tuning'), 0, OLD.co2e_kg_low)),
        family_other_co2e_kg_high = max(0.0, family_other_co2e_kg_high
            - iif(OLD.kind IN ('training', 'fine_tuning'), 0, OLD.co2e_kg_high)),
        family_co2e_kg = max(0.0, family_co2e_kg - OLD.co2e_kg)
    WHERE model_id IN (SELECT ancestor_id FROM model_closure WHERE descendant_id = OLD.model_id);
    UPDATE ledger_totals SET
        training_co2e_kg = max(0.0, training_co2e_kg
            - iif(OLD.kind = 'training', OLD.co2e_kg, 0)),
        training_co2e_kg_low = max(0.0, training_co2e_kg_low
            - iif(OLD.kind = 'training', OLD.co2e_kg_low, 0)),
        training_co2e_kg_high = max(0.0, training_co2e_kg_high
            - iif(OLD.kind = 'training', OLD.co2e_kg_high, 0)),
        fine_tuning_co2e_kg = max(0.0, fine_tuning_co2e_kg
            - iif(OLD.kind = 'fine_tuning', OLD.co2e_kg, 0)),
        fine_tuning_co2e_kg_low = max(0.0, fine_tuning_co2e_kg_low
            - iif(OLD.kind = 'fine_tuning', OLD.co2e_kg_low, 0)),
        fine_tuning_co2e_kg_high = max(0.0, fine_tuning_co2e_kg_high
            - iif(OLD.kind = 'fine_tuning', OLD.co2e_kg_high, 0)),
        other_co2e_kg = max(0.0, other_co2e_kg
            - iif(OLD.kind IN ('training', 'fine_tuning'), 0, OLD.co2e_kg)),
        other_co2e_kg_low = max(0.0, other_co2e_kg_low
            - iif(OLD.kind IN ('training', 'fine_tuning'), 0, OLD.co2e_kg_low)),
        other_co2e_kg_high = max(0.0, other_co2e_kg_high
            - iif(OLD.kind IN ('training', 'fine_tuning'), 0, OLD.co2e_kg_high))
    WHERE namespace IN ((SELECT namespace FROM models WHERE id = OLD.model_id), '');
END;

-- A model counts in its namespace's and the ledger's totals; a root, as a family.
CREATE TRIGGER models_aggregates_insert AFTER INSERT ON models BEGIN
    INSERT OR IGNORE INTO ledger_totals (namespace) VALUES (NEW.namespace), ('');
    UPDATE ledger_totals SET models = models + 1, families = families + (NEW.depth = 0)
    WHERE namespace IN (NEW.namespace, '');
END;

CREATE TRIGGER models_aggregates_depth AFTER UPDATE OF depth ON models
WHEN (OLD.depth = 0) <> (NEW.depth = 0) BEGIN
    UPDATE ledger_totals SET families = families + (NEW.depth = 0) - (OLD.depth = 0)
    WHERE namespace IN (NEW.namespace, '');
    UPDATE model_ledger SET is_root = (NEW.depth = 0) WHERE model_id = NEW.id;
END;

-- A model leaves: its activities go first, while its lineage still names the
-- families they count in; then its own figures leave the totals.
CREATE TRIGGER models_aggregates_delete BEFORE DELETE ON models BEGIN
    DELETE FROM activities WHERE model_id = OLD.id;
    UPDATE ledger_totals SET models = models - 1, families = families - (OLD.depth = 0),
        inferences = inferences - coalesce((SELECT inferences FROM model_ledger
                                            WHERE model_id = OLD.id), 0)
    WHERE namespace IN (OLD.namespace, '');
END;

-- Inferences: the ledger row's count as inserted (the bulk loader) and each change.
-- A ledger's total saturates at the largest integer rather than refusing a count
-- every family could hold on its own.
CREATE TRIGGER model_ledger_aggregates_insert AFTER INSERT ON model_ledger BEGIN
    UPDATE model_ledger SET is_root = (SELECT depth = 0 FROM models WHERE id = NEW.model_id)
    WHERE model_id = NEW.model_id;
    UPDATE ledger_totals SET inferences = iif(inferences > 9223372036854775807 - NEW.inferences,
                                              9223372036854775807, inferences + NEW.inferences)
    WHERE NEW.inferences > 0
      AND namespace IN ((SELECT namespace FROM models WHERE id = NEW.model_id), '');
END;

CREATE TRIGGER model_ledger_aggregates_inferences AFTER UPDATE OF inferences ON model_ledger
WHEN NEW.inferences <> OLD.inferences BEGIN
    UPDATE ledger_totals SET inferences =
        iif(NEW.inferences > OLD.inferences
                AND inferences > 9223372036854775807 - (NEW.inferences - OLD.inferences),
            9223372036854775807, max(0, inferences + (NEW.inferences - OLD.inferences)))
    WHERE namespace IN ((SELECT namespace FROM models WHERE id = NEW.model_id), '');
END;

-- Back-fill.
UPDATE model_ledger SET is_root = (SELECT depth = 0 FROM models WHERE id = model_ledger.model_id);

UPDATE model_ledger SET
    (family_training_co2e_kg, family_training_co2e_kg_low, family_training_co2e_kg_high,
     family_fine_tuning_co2e_kg, family_fine_tuning_co2e_kg_low, family_fine_tuning_co2e_kg_high,
     family_other_co2e_kg, family_other_co2e_kg_low, family_other_co2e_kg_high,
     family_co2e_kg) =
    (SELECT total(iif(a.kind = 'training', a.co2e_kg, 0)),
            total(iif(a.kind = 'training', a.co2e_kg_low, 0)),
            total(iif(a.kind = 'training', a.co2e_kg_high, 0)),
            total(iif(a.kind = 'fine_tuning', a.co2e_kg, 0)),
            total(iif(a.kind = 'fine_tuning', a.co2e_kg_low, 0)),
            total(iif(a.kind = 'fine_tuning', a.co2e_kg_high, 0)),
            total(iif(a.kind IN ('training', 'fine_tuning'), 0, a.co2e_kg)),
            total(iif(a.kind IN ('training', 'fine_tuning'), 0, a.co2e_kg_low)),
            total(iif(a.kind IN ('training', 'fine_tuning'), 0, a.co2e_kg_high)),
            total(a.co2e_kg)
     FROM model_closure c JOIN activities a ON a.model_id = c.descendant_id
     WHERE c.ancestor_id = model_ledger.model_id);

INSERT INTO ledger_totals (namespace) SELECT '' UNION SELECT namespace FROM models;

UPDATE ledger_totals SET
    (models, families, inferences) =
    (SELECT count(*), coalesce(sum(m.depth = 0), 0), coalesce(sum(l.inferences), 0)
     FROM models m JOIN model_ledger l ON l.model_id = m.id
     WHERE ledger_totals.namespace = '' OR m.namespace = ledger_totals.namespace),
    (training_co2e_kg, training_co2e_kg_low, training_co2e_kg_high,
     fine_tuning_co2e_kg, fine_tuning_co2e_kg_low, fine_tuning_co2e_kg_high,
     other_co2e_kg, other_co2e_kg_low, other_co2e_kg_high) =
    (SELECT total(iif(a.kind = 'training', a.co2e_kg, 0)),
            total(iif(a.kind = 'training', a.co2e_kg_low, 0)),
            total(iif(a.kind = 'training', a.co2e_kg_high, 0)),
            total(iif(a.kind = 'fine_tuning', a.co2e_kg, 0)),
            total(iif(a.kind = 'fine_tuning', a.co2e_kg_low, 0)),
            total(iif(a.kind = 'fine_tuning', a.co2e_kg_high, 0)),
            total(iif(a.kind IN ('training', 'fine_tuning'), 0, a.co2e_kg)),
            total(iif(a.kind IN ('training', 'fine_tuning'), 0, a.co2e_kg_low)),
            total(iif(a.kind IN ('training', 'fine_tuning'), 0, a.co2e_kg_high))
     FROM activities a JOIN models m ON m.id = a.model_id
     WHERE ledger_totals.namespace = '' OR m.namespace = ledger_totals.namespace);
