-- SPDX-License-Identifier: Apache-2.0
-- 0008: model ids without a namespace (gpt2, bert-base-uncased): legacy Hub
-- repositories that cards still name as base_model. Such a model is stored with
-- namespace '' rather than NULL, so that UNIQUE (namespace, name) still holds (NULLs
-- are distinct there) and every lookup stays one equality; in ledger_totals, '' is
-- already the whole ledger, which is where a bare model counts (it has no namespace
-- of its own to count in).
--
-- SQLite cannot change a CHECK in place: models is rebuilt (create, copy, drop,
-- rename), with its triggers recreated as 0007 wrote them. The runner turns foreign
-- keys off around this file (a table the others reference is dropped and renamed)
-- and checks them before it commits. legacy_alter_table keeps the rename from
-- rewriting the triggers and views of other tables, which name models, not
-- models_new.
PRAGMA legacy_alter_table = ON;

CREATE TABLE models_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused: ids are cursors
    namespace   TEXT NOT NULL COLLATE NOCASE CHECK (length(namespace) BETWEEN 0 AND 96),
    name        TEXT NOT NULL COLLATE NOCASE CHECK (length(name) BETWEEN 1 AND 96),
    task        TEXT CHECK (task IS NULL OR length(task) <= 255),
    license     TEXT CHECK (license IS NULL OR length(license) <= 255),
    url         TEXT CHECK (url IS NULL OR length(url) <= 2047),
    parameters  INTEGER CHECK (parameters IS NULL OR parameters >= 0),
    depth       INTEGER NOT NULL DEFAULT 0 CHECK (depth BETWEEN 0 AND 64),
    version     INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    placeholder INTEGER NOT NULL DEFAULT 0 CHECK (placeholder IN (0, 1)),
    UNIQUE (namespace, name)
) STRICT;

INSERT INTO models_new (id, namespace, name, task, license, url, parameters, depth, version,
                        created_at, updated_at, placeholder)
SELECT id, namespace, name, task, license, url, parameters, depth, version,
       created_at, updated_at, placeholder
FROM models;

-- AUTOINCREMENT's high-water mark: a deleted model's id is never handed out again.
UPDATE sqlite_sequence SET seq = (SELECT seq FROM sqlite_sequence WHERE name = 'models')
WHERE name = 'models_new' AND EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'models');
INSERT INTO sqlite_sequence (name, seq)
SELECT 'models_new', seq FROM sqlite_sequence
WHERE name = 'models' AND NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'models_new');

DROP TABLE models;
ALTER TABLE models_new RENAME TO models;

PRAGMA legacy_alter_table = OFF;

-- A bare model has no namespace row; it counts in the ledger's ('') only.
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

CREATE TRIGGER models_aggregates_delete BEFORE DELETE ON models BEGIN
    DELETE FROM activities WHERE model_id = OLD.id;
    UPDATE ledger_totals SET models = models - 1, families = families - (OLD.depth = 0),
        inferences = inferences - coalesce((SELECT inferences FROM model_ledger
                                            WHERE model_id = OLD.id), 0)
    WHERE namespace IN (OLD.namespace, '');
END;
