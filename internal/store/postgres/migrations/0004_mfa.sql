-- 0004: second factors, recovery codes, MFA challenges, the TOTP replay
-- guard and the known devices of the risk assessment. Every table refers to
-- its user, so deleting a user deletes all of it.

CREATE TABLE mfa_factors (
    tenant_id    text COLLATE "C" NOT NULL,
    user_id      text COLLATE "C" NOT NULL,
    id           text COLLATE "C" NOT NULL,
    kind         text NOT NULL,
    secret_enc   bytea NOT NULL,
    created_at   timestamptz,
    confirmed_at timestamptz,
    PRIMARY KEY (tenant_id, user_id, id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);

-- At most one pending factor of a kind per user.
CREATE UNIQUE INDEX mfa_factors_pending ON mfa_factors (tenant_id, user_id, kind) WHERE confirmed_at IS NULL;

CREATE TABLE mfa_recovery_codes (
    tenant_id text COLLATE "C" NOT NULL,
    user_id   text COLLATE "C" NOT NULL,
    code_hash text NOT NULL,
    used_at   timestamptz,
    PRIMARY KEY (tenant_id, user_id, code_hash),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE mfa_totp_steps (
    tenant_id text COLLATE "C" NOT NULL,
    user_id   text COLLATE "C" NOT NULL,
    step      bigint NOT NULL,
    used_at   timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, user_id, step),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);

CREATE INDEX mfa_totp_steps_used ON mfa_totp_steps (used_at);

CREATE TABLE mfa_challenges (
    tenant_id  text COLLATE "C" NOT NULL,
    token_hash text NOT NULL,
    user_id    text COLLATE "C" NOT NULL,
    methods    jsonb NOT NULL,
    data       bytea,
    created_at timestamptz,
    expires_at timestamptz NOT NULL,
    attempts   integer NOT NULL DEFAULT 0,
    used_at    timestamptz,
    PRIMARY KEY (tenant_id, token_hash),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);

CREATE INDEX mfa_challenges_user ON mfa_challenges (tenant_id, user_id);
CREATE INDEX mfa_challenges_expires ON mfa_challenges (expires_at);

CREATE TABLE known_devices (
    tenant_id  text COLLATE "C" NOT NULL,
    user_id    text COLLATE "C" NOT NULL,
    kind       text NOT NULL,
    hash       text NOT NULL,
    first_seen timestamptz,
    last_seen  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, user_id, kind, hash),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
