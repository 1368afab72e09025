-- 0001: the model registry and its lineage.
-- Ids compare case-insensitively, as on the Hub. Parent edges carry the Hub's
-- relation names. model_closure holds every (ancestor, descendant) pair, the model
-- itself included, so a footprint reads O(ancestors) rows however large the family.
CREATE TABLE models (
    id          INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused: ids are cursors
    namespace   TEXT NOT NULL COLLATE NOCASE CHECK (length(namespace) BETWEEN 1 AND 96),
    name        TEXT NOT NULL COLLATE NOCASE CHECK (length(name) BETWEEN 1 AND 96),
    task        TEXT CHECK (task IS NULL OR length(task) <= 255),
    license     TEXT CHECK (license IS NULL OR length(license) <= 255),
    url         TEXT CHECK (url IS NULL OR length(url) <= 2047),
    parameters  INTEGER CHECK (parameters IS NULL OR parameters >= 0),
    depth       INTEGER NOT NULL DEFAULT 0 CHECK (depth BETWEEN 0 AND 64),
    version     INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (namespace, name)
) STRICT;

CREATE TABLE model_parents (
    child_id   INTEGER NOT NULL REFERENCES models (id) ON DELETE CASCADE,
    parent_id  INTEGER NOT NULL REFERENCES models (id) ON DELETE RESTRICT,
    relation   TEXT NOT NULL
               CHECK (relation IN ('finetune', 'adapter', 'quantized', 'merge', 'distillation')),
    position   INTEGER NOT NULL CHECK (position >= 0),
    PRIMARY KEY (child_id, parent_id),
    CHECK (child_id <> parent_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX model_parents_by_parent ON model_parents (parent_id, child_id);

CREATE TABLE model_closure (
    ancestor_id    INTEGER NOT NULL REFERENCES models (id) ON DELETE CASCADE,
    descendant_id  INTEGER NOT NULL REFERENCES models (id) ON DELETE CASCADE,
    PRIMARY KEY (ancestor_id, descendant_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX model_closure_by_descendant ON model_closure (descendant_id, ancestor_id);
