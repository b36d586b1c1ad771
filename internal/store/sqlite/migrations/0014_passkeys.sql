-- 0014: passkeys (WebAuthn credentials) and the state of their ceremonies.
-- A passkey refers to its user, so deleting a user deletes their passkeys.
-- Ceremonies are short-lived (minutes) and swept when expired.

CREATE TABLE passkeys (
    tenant_id          TEXT NOT NULL,
    user_id            TEXT NOT NULL,
    id                 TEXT NOT NULL,
    credential_id      BLOB NOT NULL,
    public_key         BLOB NOT NULL,
    attestation_format TEXT NOT NULL DEFAULT '',
    sign_count         INTEGER NOT NULL DEFAULT 0,
    backup_eligible    INTEGER NOT NULL DEFAULT 0,
    backup_state       INTEGER NOT NULL DEFAULT 0,
    transports_json    TEXT NOT NULL DEFAULT 'null',
    aaguid             BLOB,
    name               TEXT NOT NULL DEFAULT '',
    created_at         INTEGER,
    last_used_at       INTEGER,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);

CREATE UNIQUE INDEX passkeys_credential ON passkeys (tenant_id, credential_id);
CREATE INDEX passkeys_user ON passkeys (tenant_id, user_id);

CREATE TABLE passkey_ceremonies (
    tenant_id  TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    kind       TEXT NOT NULL,
    user_id    TEXT NOT NULL DEFAULT '',
    data       BLOB,
    created_at INTEGER,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER,
    PRIMARY KEY (tenant_id, token_hash)
);

CREATE INDEX passkey_ceremonies_expires ON passkey_ceremonies (expires_at);
