-- 0003: registered clients (app backends and OAuth 2.0 clients). Client ids
-- are unique across all tenants, so that a client authenticates by its id
-- alone. Only the hex SHA-256 of a secret is stored.

CREATE TABLE clients (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL REFERENCES tenants (id),
    name             TEXT NOT NULL,
    secret_hash      TEXT NOT NULL DEFAULT '',
    public           INTEGER NOT NULL DEFAULT 0,
    grant_types_json TEXT NOT NULL DEFAULT 'null',
    scopes_json      TEXT NOT NULL DEFAULT 'null',
    created_at       INTEGER,
    updated_at       INTEGER
);

CREATE INDEX clients_tenant ON clients (tenant_id, id);
