-- 0002: one-time tickets, external OpenID providers, linked identities and
-- the replay guard of ID tokens.

-- Only the SHA-256 of a ticket is stored. A ticket goes with its user.
CREATE TABLE tickets (
    token_hash text COLLATE "C" PRIMARY KEY,
    tenant_id  text COLLATE "C" NOT NULL,
    user_id    text COLLATE "C" NOT NULL,
    purpose    text NOT NULL,
    actor      text NOT NULL DEFAULT '',
    created_at timestamptz,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX tickets_user_idx ON tickets (tenant_id, user_id);
CREATE INDEX tickets_expires_idx ON tickets (expires_at);

CREATE TABLE providers (
    tenant_id      text COLLATE "C" NOT NULL REFERENCES tenants (id),
    name           text COLLATE "C" NOT NULL,
    issuer         text NOT NULL,
    audiences      jsonb NOT NULL,
    jwks_uri       text NOT NULL DEFAULT '',
    algorithms     jsonb NOT NULL,
    auto_provision boolean NOT NULL DEFAULT false,
    link_by_email  boolean NOT NULL DEFAULT false,
    created_at     timestamptz,
    updated_at     timestamptz,
    PRIMARY KEY (tenant_id, name)
);

-- An external identity is the (issuer, subject) pair; it links to one user
-- and goes with that user.
CREATE TABLE identities (
    tenant_id  text COLLATE "C" NOT NULL,
    issuer     text COLLATE "C" NOT NULL,
    subject    text COLLATE "C" NOT NULL,
    provider   text NOT NULL DEFAULT '',
    user_id    text COLLATE "C" NOT NULL,
    email      text NOT NULL DEFAULT '',
    created_at timestamptz,
    PRIMARY KEY (tenant_id, issuer, subject),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX identities_user_idx ON identities (tenant_id, user_id);

-- Accepted ID tokens (by jti or token hash), kept until they expire.
CREATE TABLE id_token_replay (
    tenant_id text COLLATE "C" NOT NULL,
    issuer    text COLLATE "C" NOT NULL,
    key       text COLLATE "C" NOT NULL,
    exp       timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, issuer, key)
);
CREATE INDEX id_token_replay_exp_idx ON id_token_replay (exp);
