-- A resident's own way in to their pages: a single-use invitation link, and the sessions it
-- starts. Tokens are kept only as keyed hashes (the credential key, outside the database), so
-- a row written by anyone without that key names a token nobody holds.
CREATE TABLE invitations (
    id TEXT PRIMARY KEY,
    person_id TEXT NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL CHECK (expires_at > created_at),
    used_at REAL,
    revoked_at REAL
);
CREATE INDEX invitations_by_person ON invitations(person_id);
CREATE TABLE resident_sessions (
    token_hash TEXT PRIMARY KEY,
    person_id TEXT NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    csrf TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL CHECK (expires_at > created_at)
);
CREATE INDEX resident_sessions_by_person ON resident_sessions(person_id);
