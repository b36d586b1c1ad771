-- 0011: browser sign-in. Clients gain their redirection endpoints and
-- logout settings; sessions remember the browser session that started
-- them; browser sessions, authorization codes, consents and authorization
-- requests (pushed or pending) get their tables. Secrets (cookies, codes,
-- request handles) are stored only as hashes.

ALTER TABLE clients ADD COLUMN redirect_uris jsonb NOT NULL DEFAULT '[]';
ALTER TABLE clients ADD COLUMN post_logout_redirect_uris jsonb NOT NULL DEFAULT '[]';
ALTER TABLE clients ADD COLUMN backchannel_logout_uri text NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN require_par boolean NOT NULL DEFAULT false;

ALTER TABLE sessions ADD COLUMN browser_session_id text NOT NULL DEFAULT '';
CREATE INDEX sessions_browser ON sessions (tenant_id, browser_session_id) WHERE browser_session_id <> '';

CREATE TABLE browser_sessions (
    token_hash      text COLLATE "C" PRIMARY KEY,
    tenant_id       text NOT NULL,
    id              text NOT NULL,
    user_id         text NOT NULL,
    amr             jsonb NOT NULL DEFAULT '[]',
    ip              text NOT NULL DEFAULT '',
    user_agent      text NOT NULL DEFAULT '',
    auth_time       timestamptz,
    created_at      timestamptz,
    last_seen_at    timestamptz,
    idle_expires_at timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL,
    revoked_at      timestamptz,
    UNIQUE (tenant_id, id)
);
CREATE INDEX browser_sessions_expires ON browser_sessions (expires_at);

CREATE TABLE auth_codes (
    code_hash          text COLLATE "C" PRIMARY KEY,
    tenant_id          text NOT NULL,
    client_id          text NOT NULL,
    user_id            text NOT NULL,
    browser_session_id text NOT NULL DEFAULT '',
    redirect_uri       text NOT NULL,
    scope              text NOT NULL DEFAULT '',
    nonce              text NOT NULL DEFAULT '',
    code_challenge     text NOT NULL DEFAULT '',
    amr           jsonb NOT NULL DEFAULT '[]',
    auth_time          timestamptz,
    created_at         timestamptz,
    expires_at         timestamptz NOT NULL,
    used_at            timestamptz,
    session_id         text NOT NULL DEFAULT ''
);
CREATE INDEX auth_codes_expires ON auth_codes (expires_at);

CREATE TABLE consents (
    tenant_id   text NOT NULL,
    user_id     text NOT NULL,
    client_id   text NOT NULL,
    scopes jsonb NOT NULL DEFAULT '[]',
    created_at  timestamptz,
    updated_at  timestamptz,
    PRIMARY KEY (tenant_id, user_id, client_id)
);

CREATE TABLE auth_requests (
    request_hash text COLLATE "C" PRIMARY KEY,
    tenant_id    text NOT NULL,
    client_id    text NOT NULL,
    kind         text NOT NULL,
    data         bytea,
    created_at   timestamptz,
    expires_at   timestamptz NOT NULL,
    used_at      timestamptz
);
CREATE INDEX auth_requests_expires ON auth_requests (expires_at);
