-- 0006: who a token is for.
--   clients.first_party: the client's user sessions get first-party access
--   tokens (aud contains the issuer), like the built-in client's.
--   sessions.first_party: the session's access tokens are first-party.
--   sessions.client_bound: the session was issued to a confidential client
--   and rotates only at the token endpoint with that client.
--   sessions.parent_id: for an app session, the session whose access token
--   opened it; revoking the parent revokes it.
-- Existing sessions: those of the built-in client stay first-party, every
-- other one becomes the client's only; sessions of confidential clients
-- become bound to them.

ALTER TABLE clients ADD COLUMN first_party boolean NOT NULL DEFAULT false;
ALTER TABLE sessions ADD COLUMN first_party boolean NOT NULL DEFAULT false;
ALTER TABLE sessions ADD COLUMN client_bound boolean NOT NULL DEFAULT false;
ALTER TABLE sessions ADD COLUMN parent_id text NOT NULL DEFAULT '';

UPDATE sessions SET first_party = true WHERE client_id = 'gatehouse' AND kind = 'user';
UPDATE sessions SET client_bound = true
 WHERE client_id IN (SELECT id FROM clients WHERE NOT public);

CREATE INDEX sessions_parent_idx ON sessions (tenant_id, parent_id) WHERE parent_id <> '';
CREATE INDEX sessions_client_idx ON sessions (tenant_id, client_id);
