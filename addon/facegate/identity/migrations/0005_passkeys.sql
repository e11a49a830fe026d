-- A phone key: a passkey (WebAuthn) held by the resident's phone. The `phone` credential row
-- it belongs to carries the passkey's credential id as its (keyed-hash) value, so it goes
-- through the same decision path as any credential (R5); this row keeps what checks the
-- phone's signature. A phone credential with a passkey opens a door only with a fresh
-- signature, never by its id alone.
CREATE TABLE passkeys (
    credential_id TEXT PRIMARY KEY REFERENCES credentials(id) ON DELETE CASCADE,
    webauthn_id TEXT NOT NULL UNIQUE,  -- the authenticator's credential id, base64url
    public_key BLOB NOT NULL,          -- COSE key
    sign_count INTEGER NOT NULL,
    created_at REAL NOT NULL
);
