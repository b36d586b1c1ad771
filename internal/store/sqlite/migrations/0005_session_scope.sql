-- 0005: the OAuth 2.0 scope granted to a session, so that refreshes keep
-- the scope of the original grant (RFC 6749 §6). Empty for sessions of
-- other sign-ins.

ALTER TABLE sessions ADD COLUMN scope TEXT NOT NULL DEFAULT '';
