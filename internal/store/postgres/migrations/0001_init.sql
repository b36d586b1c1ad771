-- 0001: the initial schema of Gatehouse on PostgreSQL.
-- Times are timestamptz (NULL for an unset time), JSON is jsonb, token
-- hashes are text. Case-insensitive uniqueness uses lowercased copies kept
-- by the store. Identifiers that are paged or ordered use the "C" collation
-- so that their order is the byte order whatever the database locale.

CREATE TABLE tenants (
    id         text COLLATE "C" PRIMARY KEY,
    name       text NOT NULL,
    created_at timestamptz
);

CREATE TABLE users (
    tenant_id            text COLLATE "C" NOT NULL,
    id                   text COLLATE "C" NOT NULL,
    username             text NOT NULL,
    username_lower       text NOT NULL,
    email                text NOT NULL DEFAULT '',
    email_lower          text NOT NULL DEFAULT '',
    phone                text NOT NULL DEFAULT '',
    display_name         text NOT NULL DEFAULT '',
    avatar_url           text NOT NULL DEFAULT '',
    groups               jsonb NOT NULL,
    roles                jsonb NOT NULL,
    attributes           jsonb NOT NULL,
    status               text NOT NULL DEFAULT '',
    must_change_password boolean NOT NULL DEFAULT false,
    password_hash        text NOT NULL DEFAULT '',
    created_at           timestamptz,
    updated_at           timestamptz,
    password_changed_at  timestamptz,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX users_username_key ON users (tenant_id, username_lower);
CREATE UNIQUE INDEX users_email_key ON users (tenant_id, email_lower) WHERE email_lower <> '';
CREATE UNIQUE INDEX users_phone_key ON users (tenant_id, phone) WHERE phone <> '';

CREATE TABLE sessions (
    tenant_id    text COLLATE "C" NOT NULL,
    id           text COLLATE "C" NOT NULL,
    user_id      text COLLATE "C" NOT NULL,
    client_id    text NOT NULL DEFAULT '',
    kind         text NOT NULL,
    amr          jsonb NOT NULL,
    actor        text NOT NULL DEFAULT '',
    ip           text NOT NULL DEFAULT '',
    user_agent   text NOT NULL DEFAULT '',
    payload      text NOT NULL DEFAULT '',
    created_at   timestamptz,
    last_used_at timestamptz,
    expires_at   timestamptz,
    auth_time    timestamptz,
    revoked_at   timestamptz,
    reason       text NOT NULL DEFAULT '',
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX sessions_user_idx ON sessions (tenant_id, user_id);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);

CREATE TABLE refresh_tokens (
    token_hash     text COLLATE "C" PRIMARY KEY,
    tenant_id      text COLLATE "C" NOT NULL,
    session_id     text COLLATE "C" NOT NULL,
    generation     integer NOT NULL,
    created_at     timestamptz,
    expires_at     timestamptz,
    rotated_at     timestamptz,
    revoked_at     timestamptz,
    successor_hash text COLLATE "C",
    retry_data     bytea,
    FOREIGN KEY (tenant_id, session_id) REFERENCES sessions (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (tenant_id, session_id);
CREATE INDEX refresh_tokens_expires_idx ON refresh_tokens (expires_at);
CREATE INDEX refresh_tokens_retry_idx ON refresh_tokens (rotated_at) WHERE retry_data IS NOT NULL;

-- Rows are inserted only under a transaction-level advisory lock, so they
-- commit in seq order (see revocations.go).
CREATE TABLE revocations (
    seq        bigserial PRIMARY KEY,
    tenant_id  text NOT NULL,
    session_id text NOT NULL,
    exp        timestamptz,
    revoked_at timestamptz
);
CREATE INDEX revocations_exp_idx ON revocations (exp);

CREATE TABLE throttles (
    tenant_id    text COLLATE "C" NOT NULL,
    key          text COLLATE "C" NOT NULL,
    failures     integer NOT NULL DEFAULT 0,
    first_at     timestamptz,
    locked_until timestamptz,
    PRIMARY KEY (tenant_id, key)
);

CREATE TABLE signing_keys (
    kid           text COLLATE "C" PRIMARY KEY,
    alg           text NOT NULL,
    private_enc   bytea,
    public_jwk    bytea,
    created_at    timestamptz,
    retired_at    timestamptz,
    publish_until timestamptz
);

CREATE TABLE audit_events (
    seq        bigserial PRIMARY KEY,
    id         text COLLATE "C" NOT NULL UNIQUE,
    time       timestamptz,
    type       text NOT NULL DEFAULT '',
    tenant_id  text COLLATE "C" NOT NULL DEFAULT '',
    user_id    text COLLATE "C" NOT NULL DEFAULT '',
    session_id text NOT NULL DEFAULT '',
    actor      text NOT NULL DEFAULT '',
    ip         text NOT NULL DEFAULT '',
    user_agent text NOT NULL DEFAULT '',
    details    jsonb NOT NULL
);
CREATE INDEX audit_events_tenant_idx ON audit_events (tenant_id, time DESC, seq DESC);
CREATE INDEX audit_events_user_idx ON audit_events (tenant_id, user_id, time DESC, seq DESC);
