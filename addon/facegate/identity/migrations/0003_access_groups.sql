-- Who may open which door, and when: access groups (named sets of doors), each person's
-- memberships, and validity (from / until, uses, weekly schedule) on people and credentials.
--
-- The rows this writes carry their MACs (identity/row_seal.py): the store registers the MAC
-- function before migrating, so this file can call it. People and credentials are widened by
-- the validity columns, so their MACs cover more: a row whose old MAC matched is sealed again
-- over the wider columns; a row that was already altered keeps its MAC and stays refused.
-- The triggers of the widened tables are dropped here; the store creates them again over the
-- new columns when it opens the file.
DROP TRIGGER IF EXISTS people_sealed_insert;
DROP TRIGGER IF EXISTS people_sealed_update;
DROP TRIGGER IF EXISTS credentials_sealed_insert;
DROP TRIGGER IF EXISTS credentials_sealed_update;
ALTER TABLE people ADD COLUMN valid_from REAL;
ALTER TABLE people ADD COLUMN valid_until REAL;
ALTER TABLE people ADD COLUMN max_uses INTEGER;
ALTER TABLE people ADD COLUMN uses INTEGER NOT NULL DEFAULT 0;
ALTER TABLE people ADD COLUMN schedule TEXT;
-- A visitor holds only codes: no face, no consent (the store refuses both).
ALTER TABLE people ADD COLUMN visitor INTEGER NOT NULL DEFAULT 0;
ALTER TABLE credentials ADD COLUMN valid_from REAL;
ALTER TABLE credentials ADD COLUMN valid_until REAL;
ALTER TABLE credentials ADD COLUMN max_uses INTEGER;
ALTER TABLE credentials ADD COLUMN uses INTEGER NOT NULL DEFAULT 0;
ALTER TABLE credentials ADD COLUMN schedule TEXT;
UPDATE people SET mac = facegate_row_mac(
    'people', id, audit_ref, name, birth_year, minor, leaves_on, disabled_methods, created_at,
    valid_from, valid_until, max_uses, uses, schedule, visitor
) WHERE mac = facegate_row_mac(
    'people', id, audit_ref, name, birth_year, minor, leaves_on, disabled_methods, created_at
);
UPDATE credentials SET mac = facegate_row_mac(
    'credentials', id, person_id, kind, label, lookup, created_at,
    valid_from, valid_until, max_uses, uses, schedule
) WHERE mac = facegate_row_mac('credentials', id, person_id, kind, label, lookup, created_at);
CREATE TABLE access_groups (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 80),
    doors TEXT NOT NULL DEFAULT '[]',  -- JSON list of door ids
    every_door INTEGER NOT NULL DEFAULT 0,  -- 1: every door, those added later too
    created_at REAL NOT NULL,
    mac TEXT
);
CREATE TABLE memberships (
    id TEXT PRIMARY KEY,  -- "<group id>/<person id>"
    group_id TEXT NOT NULL REFERENCES access_groups(id) ON DELETE CASCADE,
    person_id TEXT NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    created_at REAL NOT NULL,
    mac TEXT,
    UNIQUE (group_id, person_id)
);
CREATE INDEX memberships_by_person ON memberships(person_id);
-- Today's installations keep working: everyone opens every door, as before.
INSERT INTO access_groups (id, name, doors, every_door, created_at)
    VALUES ('all-doors', 'All doors', '[]', 1, CAST(strftime('%s', 'now') AS REAL));
UPDATE access_groups SET mac = facegate_row_mac(
    'access_groups', id, name, doors, every_door, created_at
);
INSERT INTO memberships (id, group_id, person_id, created_at)
    SELECT 'all-doors/' || id, 'all-doors', id, CAST(strftime('%s', 'now') AS REAL) FROM people;
UPDATE memberships SET mac = facegate_row_mac(
    'memberships', id, group_id, person_id, created_at
);
