-- 0007: a used TOTP time step belongs to the factor whose code used it, so
-- that a new factor (after an admin reset or a re-enrolment) can use its
-- first code in the step the old factor's last code used. Steps already
-- recorded go to the user's confirmed factor, the only one they could have
-- come from in a sign-in.

ALTER TABLE mfa_totp_steps ADD COLUMN factor_id text COLLATE "C" NOT NULL DEFAULT '';

UPDATE mfa_totp_steps s SET factor_id = f.id
FROM mfa_factors f
WHERE f.tenant_id = s.tenant_id AND f.user_id = s.user_id
  AND f.kind = 'totp' AND f.confirmed_at IS NOT NULL;

ALTER TABLE mfa_totp_steps DROP CONSTRAINT mfa_totp_steps_pkey;
ALTER TABLE mfa_totp_steps ADD PRIMARY KEY (tenant_id, user_id, factor_id, step);
ALTER TABLE mfa_totp_steps ALTER COLUMN factor_id DROP DEFAULT;
