-- 0003: registered clients (app backends and OAuth 2.0 clients). Client ids
-- are unique across all tenants, so that a client authenticates by its id
-- alone. Only the hex SHA-256 of a secret is stored.

CREATE TABLE clients (
    id          text COLLATE "C" PRIMARY KEY,
    tenant_id   text COLLATE "C" NOT NULL,
    name        text NOT NULL,
    secret_hash text NOT NULL DEFAULT '',
    public      boolean NOT NULL DEFAULT false,
    grant_types jsonb NOT NULL,
    scopes      jsonb NOT NULL,
    created_at  timestamptz,
    updated_at  timestamptz
);
CREATE INDEX clients_tenant_idx ON clients (tenant_id, id);
