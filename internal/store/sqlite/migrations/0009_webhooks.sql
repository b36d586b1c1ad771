-- 0009: webhook endpoints and the outbox. An outbox message is written in
-- the transaction of the audit event it reports and delivered at least once
-- by the dispatcher; kind says who delivers it (webhook now, other kinds
-- later), target which endpoint of that kind.

CREATE TABLE webhooks (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    url         TEXT NOT NULL,
    events_json TEXT NOT NULL DEFAULT '[]',
    secret_enc  BLOB NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX webhooks_tenant ON webhooks (tenant_id, created_at);

CREATE TABLE outbox (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT NOT NULL UNIQUE,
    kind            TEXT NOT NULL,
    tenant_id       TEXT NOT NULL,
    target          TEXT NOT NULL,
    event_type      TEXT NOT NULL DEFAULT '',
    payload         BLOB NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    delivered_at    INTEGER,
    last_status     INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT ''
);
-- The dispatcher's scan: pending messages, oldest first per target.
CREATE INDEX outbox_pending ON outbox (kind, target, seq) WHERE status = 'pending';
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'pending';
-- The delivery log of one endpoint.
CREATE INDEX outbox_log ON outbox (tenant_id, kind, target, seq);
