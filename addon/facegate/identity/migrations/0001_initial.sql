-- The schema of the last release without numbered migrations (commit 343dce0). A database
-- it wrote has user_version 0 and these tables already: IF NOT EXISTS lets it through.
CREATE TABLE IF NOT EXISTS notices (
    version TEXT PRIMARY KEY,
    scope TEXT NOT NULL,
    text_en TEXT NOT NULL,
    text_zh TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS people (
    id TEXT PRIMARY KEY,
    audit_ref TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
    birth_year INTEGER,
    minor INTEGER NOT NULL DEFAULT 0,
    leaves_on TEXT,
    disabled_methods TEXT NOT NULL DEFAULT '[]',
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS consents (
    id TEXT PRIMARY KEY,
    person_id TEXT NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    notice_version TEXT NOT NULL,
    method TEXT NOT NULL CHECK (method IN ('signed_name', 'checkbox', 'paper')),
    signer TEXT NOT NULL CHECK (length(signer) >= 1),
    witness TEXT,
    guardian TEXT,
    entered_by TEXT,
    given_at REAL NOT NULL,
    expires_at REAL NOT NULL CHECK (expires_at > given_at),
    renewed_at REAL,
    withdrawn_at REAL,
    needs_renewal INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS templates (
    id TEXT PRIMARY KEY,
    person_id TEXT NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    consent_id TEXT NOT NULL REFERENCES consents(id) ON DELETE CASCADE,
    embedder TEXT NOT NULL,
    sealed BLOB NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS templates_by_embedder ON templates(embedder);
CREATE TABLE IF NOT EXISTS credentials (
    id TEXT PRIMARY KEY,
    person_id TEXT NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('pin', 'card', 'tag', 'phone')),
    label TEXT NOT NULL DEFAULT '',
    lookup TEXT NOT NULL UNIQUE,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS engine_state (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS door_methods (
    door TEXT NOT NULL,
    method TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    PRIMARY KEY (door, method)
);
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY,
    ts REAL NOT NULL,
    kind TEXT NOT NULL,
    subject TEXT,
    door TEXT,
    data TEXT NOT NULL,
    prev TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_by_subject ON audit(subject);
CREATE TABLE IF NOT EXISTS audit_checkpoint (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL,
    ts REAL NOT NULL,
    sig TEXT NOT NULL
);
-- Entries from keyed_from on carry keyed MACs; `hash` is the hash entry keyed_from follows.
CREATE TABLE IF NOT EXISTS audit_anchor (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    keyed_from INTEGER NOT NULL,
    hash TEXT NOT NULL,
    sig TEXT NOT NULL
);
