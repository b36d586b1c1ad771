-- 0002: one-time tickets, external OpenID providers, linked identities and
-- the replay guard of ID tokens. Times are INTEGER unix microseconds.

-- Only the SHA-256 of a ticket is stored. A ticket goes with its user.
CREATE TABLE tickets (
    token_hash TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    purpose    TEXT NOT NULL,
    actor      TEXT NOT NULL DEFAULT '',
    created_at INTEGER,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER,
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);

CREATE INDEX tickets_user ON tickets (tenant_id, user_id);
CREATE INDEX tickets_expires ON tickets (expires_at);

CREATE TABLE providers (
    tenant_id       TEXT NOT NULL REFERENCES tenants (id),
    name            TEXT NOT NULL,
    issuer          TEXT NOT NULL,
    audiences_json  TEXT NOT NULL DEFAULT 'null',
    jwks_uri        TEXT NOT NULL DEFAULT '',
    algorithms_json TEXT NOT NULL DEFAULT 'null',
    auto_provision  INTEGER NOT NULL DEFAULT 0,
    link_by_email   INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER,
    updated_at      INTEGER,
    PRIMARY KEY (tenant_id, name)
);

-- An external identity is the (issuer, subject) pair; it links to one user
-- and goes with that user.
CREATE TABLE identities (
    tenant_id  TEXT NOT NULL,
    issuer     TEXT NOT NULL,
    subject    TEXT NOT NULL,
    provider   TEXT NOT NULL DEFAULT '',
    user_id    TEXT NOT NULL,
    email      TEXT NOT NULL DEFAULT '',
    created_at INTEGER,
    PRIMARY KEY (tenant_id, issuer, subject),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);

CREATE INDEX identities_user ON identities (tenant_id, user_id);

-- Accepted ID tokens (by jti or token hash), kept until they expire.
CREATE TABLE id_token_replay (
    tenant_id TEXT NOT NULL,
    issuer    TEXT NOT NULL,
    key       TEXT NOT NULL,
    exp       INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, issuer, key)
);

CREATE INDEX id_token_replay_exp ON id_token_replay (exp);
