-- 0008: one issuer per tenant, and usernames compared by RFC 8265.
--
-- Providers: a second provider of a tenant with the same issuer is refused
-- from now on. Providers registered before the rule that share an issuer
-- keep working: all but the oldest of each group are marked
-- issuer_unique = 0 and left out of the unique index.
ALTER TABLE providers ADD COLUMN issuer_unique INTEGER NOT NULL DEFAULT 1;
UPDATE providers SET issuer_unique = 0 WHERE EXISTS (
    SELECT 1 FROM providers AS older
    WHERE older.tenant_id = providers.tenant_id AND older.issuer = providers.issuer
      AND (COALESCE(older.created_at, 0) < COALESCE(providers.created_at, 0)
           OR (COALESCE(older.created_at, 0) = COALESCE(providers.created_at, 0) AND older.name < providers.name)));
CREATE UNIQUE INDEX providers_issuer ON providers (tenant_id, issuer) WHERE issuer_unique = 1;

-- Usernames: username_lower becomes the PRECIS key (UsernameCaseMapped) of
-- the username, and email_lower folds ASCII letters only. Both keys are
-- recomputed by the Go step of this migration (PRECIS is not available in
-- SQL). A user whose prepared name is already another user's key, or whose
-- stored name the profile refuses, keeps its old key and is marked:
-- username_legacy = 1 (collision) or 2 (refused by the profile). Such users
-- keep signing in with their stored names; GET /admin/username-collisions
-- lists them.
ALTER TABLE users ADD COLUMN username_legacy INTEGER NOT NULL DEFAULT 0;
CREATE INDEX users_username_legacy ON users (tenant_id, username_legacy) WHERE username_legacy <> 0;
