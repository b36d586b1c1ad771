-- 0009: webhook endpoints and the outbox. An outbox message is written in
-- the transaction of the audit event it reports and delivered at least once
-- by the dispatcher; kind says who delivers it (webhook now, other kinds
-- later), target which endpoint of that kind.

CREATE TABLE webhooks (
    id         text COLLATE "C" PRIMARY KEY,
    tenant_id  text COLLATE "C" NOT NULL,
    url        text NOT NULL,
    events     jsonb NOT NULL DEFAULT '[]',
    secret_enc bytea NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX webhooks_tenant_idx ON webhooks (tenant_id, created_at);

CREATE TABLE outbox (
    seq             bigserial PRIMARY KEY,
    id              text COLLATE "C" NOT NULL UNIQUE,
    kind            text COLLATE "C" NOT NULL,
    tenant_id       text COLLATE "C" NOT NULL,
    target          text COLLATE "C" NOT NULL,
    event_type      text NOT NULL DEFAULT '',
    payload         bytea NOT NULL,
    status          text NOT NULL DEFAULT 'pending',
    attempts        integer NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL,
    next_attempt_at timestamptz NOT NULL,
    delivered_at    timestamptz,
    last_status     integer NOT NULL DEFAULT 0,
    last_error      text NOT NULL DEFAULT ''
);
-- The dispatcher's scan: pending messages, oldest first per target.
CREATE INDEX outbox_pending_idx ON outbox (kind, target, seq) WHERE status = 'pending';
CREATE INDEX outbox_due_idx ON outbox (next_attempt_at) WHERE status = 'pending';
-- The delivery log of one endpoint.
CREATE INDEX outbox_log_idx ON outbox (tenant_id, kind, target, seq);
