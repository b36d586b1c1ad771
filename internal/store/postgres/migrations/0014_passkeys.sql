-- 0014: passkeys (WebAuthn credentials) and the state of their ceremonies.
-- A passkey refers to its user, so deleting a user deletes their passkeys.
-- Ceremonies are short-lived (minutes) and swept when expired.

CREATE TABLE passkeys (
    tenant_id          text COLLATE "C" NOT NULL,
    user_id            text COLLATE "C" NOT NULL,
    id                 text COLLATE "C" NOT NULL,
    credential_id      bytea NOT NULL,
    public_key         bytea NOT NULL,
    attestation_format text NOT NULL DEFAULT '',
    sign_count         bigint NOT NULL DEFAULT 0,
    backup_eligible    boolean NOT NULL DEFAULT false,
    backup_state       boolean NOT NULL DEFAULT false,
    transports         jsonb NOT NULL DEFAULT 'null',
    aaguid             bytea,
    name               text NOT NULL DEFAULT '',
    created_at         timestamptz,
    last_used_at       timestamptz,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);

CREATE UNIQUE INDEX passkeys_credential ON passkeys (tenant_id, credential_id);
CREATE INDEX passkeys_user ON passkeys (tenant_id, user_id);

CREATE TABLE passkey_ceremonies (
    tenant_id  text COLLATE "C" NOT NULL,
    token_hash text COLLATE "C" NOT NULL,
    kind       text NOT NULL,
    user_id    text COLLATE "C" NOT NULL DEFAULT '',
    data       bytea,
    created_at timestamptz,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    PRIMARY KEY (tenant_id, token_hash)
);

CREATE INDEX passkey_ceremonies_expires ON passkey_ceremonies (expires_at);
