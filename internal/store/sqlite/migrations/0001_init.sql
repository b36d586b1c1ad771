-- Initial schema. Times are INTEGER unix microseconds (NULL when unset), JSON
-- values are TEXT, token hashes are TEXT.

CREATE TABLE tenants (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at INTEGER
);

CREATE TABLE users (
    tenant_id            TEXT NOT NULL REFERENCES tenants (id),
    id                   TEXT NOT NULL,
    username             TEXT NOT NULL,
    username_lower       TEXT NOT NULL,
    email                TEXT NOT NULL DEFAULT '',
    email_lower          TEXT NOT NULL DEFAULT '',
    phone                TEXT NOT NULL DEFAULT '',
    display_name         TEXT NOT NULL DEFAULT '',
    avatar_url           TEXT NOT NULL DEFAULT '',
    groups_json          TEXT NOT NULL DEFAULT 'null',
    roles_json           TEXT NOT NULL DEFAULT 'null',
    attributes_json      TEXT NOT NULL DEFAULT 'null',
    status               TEXT NOT NULL DEFAULT '',
    must_change_password INTEGER NOT NULL DEFAULT 0,
    password_hash        TEXT NOT NULL DEFAULT '',
    created_at           INTEGER,
    updated_at           INTEGER,
    password_changed_at  INTEGER,
    PRIMARY KEY (tenant_id, id)
);

CREATE UNIQUE INDEX users_username ON users (tenant_id, username_lower);
CREATE UNIQUE INDEX users_email ON users (tenant_id, email_lower) WHERE email_lower <> '';
CREATE UNIQUE INDEX users_phone ON users (tenant_id, phone) WHERE phone <> '';

-- Sessions outlive their user (DeleteUser revokes them), so there is no
-- foreign key to users.
CREATE TABLE sessions (
    tenant_id    TEXT NOT NULL REFERENCES tenants (id),
    id           TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    client_id    TEXT NOT NULL DEFAULT '',
    kind         TEXT NOT NULL,
    amr_json     TEXT NOT NULL DEFAULT 'null',
    actor        TEXT NOT NULL DEFAULT '',
    ip           TEXT NOT NULL DEFAULT '',
    user_agent   TEXT NOT NULL DEFAULT '',
    payload      TEXT NOT NULL DEFAULT '',
    created_at   INTEGER,
    last_used_at INTEGER,
    expires_at   INTEGER NOT NULL,
    auth_time    INTEGER,
    revoked_at   INTEGER,
    reason       TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (tenant_id, id)
);

CREATE INDEX sessions_user ON sessions (tenant_id, user_id, created_at);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- successor_hash and retry_data are set by the rotation that retired the
-- token; retry_data is cleared by Sweep once the leeway is over.
CREATE TABLE refresh_tokens (
    token_hash     TEXT PRIMARY KEY,
    tenant_id      TEXT NOT NULL,
    session_id     TEXT NOT NULL,
    generation     INTEGER NOT NULL,
    created_at     INTEGER,
    expires_at     INTEGER NOT NULL,
    rotated_at     INTEGER,
    revoked_at     INTEGER,
    successor_hash TEXT,
    retry_data     BLOB,
    FOREIGN KEY (tenant_id, session_id) REFERENCES sessions (tenant_id, id) ON DELETE CASCADE
);

CREATE INDEX refresh_tokens_session ON refresh_tokens (tenant_id, session_id);
CREATE INDEX refresh_tokens_expires ON refresh_tokens (expires_at);
CREATE INDEX refresh_tokens_retry ON refresh_tokens (rotated_at) WHERE retry_data IS NOT NULL;

CREATE TABLE revocations (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id  TEXT NOT NULL,
    session_id TEXT NOT NULL,
    exp        INTEGER NOT NULL,
    revoked_at INTEGER NOT NULL
);

CREATE INDEX revocations_exp ON revocations (exp);

CREATE TABLE throttles (
    tenant_id    TEXT NOT NULL,
    key          TEXT NOT NULL,
    failures     INTEGER NOT NULL DEFAULT 0,
    first_at     INTEGER,
    locked_until INTEGER,
    PRIMARY KEY (tenant_id, key)
);

CREATE TABLE signing_keys (
    kid           TEXT PRIMARY KEY,
    alg           TEXT NOT NULL,
    private_enc   BLOB,
    public_jwk    BLOB,
    created_at    INTEGER,
    retired_at    INTEGER,
    publish_until INTEGER
);

CREATE TABLE audit_events (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT NOT NULL UNIQUE,
    tenant_id    TEXT NOT NULL,
    time         INTEGER,
    type         TEXT NOT NULL,
    user_id      TEXT NOT NULL DEFAULT '',
    session_id   TEXT NOT NULL DEFAULT '',
    actor        TEXT NOT NULL DEFAULT '',
    ip           TEXT NOT NULL DEFAULT '',
    user_agent   TEXT NOT NULL DEFAULT '',
    details_json TEXT NOT NULL DEFAULT 'null'
);

CREATE INDEX audit_events_tenant ON audit_events (tenant_id, time);
CREATE INDEX audit_events_user ON audit_events (tenant_id, user_id, time);
CREATE INDEX audit_events_type ON audit_events (tenant_id, type, time);
