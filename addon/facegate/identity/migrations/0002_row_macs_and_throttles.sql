-- Rows carry a keyed MAC (identity/row_seal.py writes it through triggers, which the store
-- creates with the function they call); lockouts outlive a restart (access/throttle.py).
ALTER TABLE people ADD COLUMN mac TEXT;
ALTER TABLE consents ADD COLUMN mac TEXT;
ALTER TABLE credentials ADD COLUMN mac TEXT;
CREATE TABLE throttles (
    scope TEXT PRIMARY KEY,  -- "door/<door>/<method>" or "changes/<person id>"
    failures TEXT NOT NULL,  -- JSON list of the recent failures' wall-clock times
    locked_until REAL,
    streak INTEGER NOT NULL,
    lockouts INTEGER NOT NULL
);
