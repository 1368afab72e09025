-- 0004: API tokens. Only a BLAKE2b-256 hash of each token is kept; the token itself
-- is shown once, when it is created. scopes and namespaces are space-separated
-- lists ("*" in namespaces: every namespace).
CREATE TABLE tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash   BLOB NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    name         TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 128),
    scopes       TEXT NOT NULL CHECK (length(scopes) BETWEEN 1 AND 256),
    namespaces   TEXT NOT NULL CHECK (length(namespaces) BETWEEN 1 AND 4096),
    is_admin     INTEGER NOT NULL CHECK (is_admin IN (0, 1)),
    created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    revoked_at   TEXT
) STRICT;
