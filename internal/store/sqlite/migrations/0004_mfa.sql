-- 0004: second factors, recovery codes, MFA challenges, the TOTP replay
-- guard and the known devices of the risk assessment. Every table refers to
-- its user, so deleting a user deletes all of it.

CREATE TABLE mfa_factors (
    tenant_id    TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    id           TEXT NOT NULL,
    kind         TEXT NOT NULL,
    secret_enc   BLOB NOT NULL,
    created_at   INTEGER,
    confirmed_at INTEGER,
    PRIMARY KEY (tenant_id, user_id, id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);

-- At most one pending factor of a kind per user.
CREATE UNIQUE INDEX mfa_factors_pending ON mfa_factors (tenant_id, user_id, kind) WHERE confirmed_at IS NULL;

CREATE TABLE mfa_recovery_codes (
    tenant_id TEXT NOT NULL,
    user_id   TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    used_at   INTEGER,
    PRIMARY KEY (tenant_id, user_id, code_hash),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE mfa_totp_steps (
    tenant_id TEXT NOT NULL,
    user_id   TEXT NOT NULL,
    step      INTEGER NOT NULL,
    used_at   INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, user_id, step),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);

CREATE INDEX mfa_totp_steps_used ON mfa_totp_steps (used_at);

CREATE TABLE mfa_challenges (
    tenant_id    TEXT NOT NULL,
    token_hash   TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    methods_json TEXT NOT NULL DEFAULT 'null',
    data         BLOB,
    created_at   INTEGER,
    expires_at   INTEGER NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    used_at      INTEGER,
    PRIMARY KEY (tenant_id, token_hash),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);

CREATE INDEX mfa_challenges_user ON mfa_challenges (tenant_id, user_id);
CREATE INDEX mfa_challenges_expires ON mfa_challenges (expires_at);

CREATE TABLE known_devices (
    tenant_id  TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    kind       TEXT NOT NULL,
    hash       TEXT NOT NULL,
    first_seen INTEGER,
    last_seen  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, user_id, kind, hash),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
