-- 0011: browser sign-in. Clients gain their redirection endpoints and
-- logout settings; sessions remember the browser session that started
-- them; browser sessions, authorization codes, consents and authorization
-- requests (pushed or pending) get their tables. Secrets (cookies, codes,
-- request handles) are stored only as hashes.

ALTER TABLE clients ADD COLUMN redirect_uris_json TEXT NOT NULL DEFAULT '[]';
ALTER TABLE clients ADD COLUMN post_logout_redirect_uris_json TEXT NOT NULL DEFAULT '[]';
ALTER TABLE clients ADD COLUMN backchannel_logout_uri TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN require_par INTEGER NOT NULL DEFAULT 0;

ALTER TABLE sessions ADD COLUMN browser_session_id TEXT NOT NULL DEFAULT '';
CREATE INDEX sessions_browser ON sessions (tenant_id, browser_session_id) WHERE browser_session_id <> '';

CREATE TABLE browser_sessions (
    token_hash      TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL,
    id              TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    amr_json        TEXT NOT NULL DEFAULT '[]',
    ip              TEXT NOT NULL DEFAULT '',
    user_agent      TEXT NOT NULL DEFAULT '',
    auth_time       INTEGER,
    created_at      INTEGER,
    last_seen_at    INTEGER,
    idle_expires_at INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    revoked_at      INTEGER,
    UNIQUE (tenant_id, id)
);
CREATE INDEX browser_sessions_expires ON browser_sessions (expires_at);

CREATE TABLE auth_codes (
    code_hash          TEXT PRIMARY KEY,
    tenant_id          TEXT NOT NULL,
    client_id          TEXT NOT NULL,
    user_id            TEXT NOT NULL,
    browser_session_id TEXT NOT NULL DEFAULT '',
    redirect_uri       TEXT NOT NULL,
    scope              TEXT NOT NULL DEFAULT '',
    nonce              TEXT NOT NULL DEFAULT '',
    code_challenge     TEXT NOT NULL DEFAULT '',
    amr_json           TEXT NOT NULL DEFAULT '[]',
    auth_time          INTEGER,
    created_at         INTEGER,
    expires_at         INTEGER NOT NULL,
    used_at            INTEGER,
    session_id         TEXT NOT NULL DEFAULT ''
);
CREATE INDEX auth_codes_expires ON auth_codes (expires_at);

CREATE TABLE consents (
    tenant_id   TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    client_id   TEXT NOT NULL,
    scopes_json TEXT NOT NULL DEFAULT '[]',
    created_at  INTEGER,
    updated_at  INTEGER,
    PRIMARY KEY (tenant_id, user_id, client_id)
);

CREATE TABLE auth_requests (
    request_hash TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL,
    client_id    TEXT NOT NULL,
    kind         TEXT NOT NULL,
    data         BLOB,
    created_at   INTEGER,
    expires_at   INTEGER NOT NULL,
    used_at      INTEGER
);
CREATE INDEX auth_requests_expires ON auth_requests (expires_at);
