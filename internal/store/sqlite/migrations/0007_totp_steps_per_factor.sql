-- 0007: a used TOTP time step belongs to the factor whose code used it, so
-- that a new factor (after an admin reset or a re-enrolment) can use its
-- first code in the step the old factor's last code used. Steps already
-- recorded go to the user's confirmed factor, the only one they could have
-- come from in a sign-in.

CREATE TABLE mfa_totp_steps_0007 (
    tenant_id TEXT NOT NULL,
    user_id   TEXT NOT NULL,
    factor_id TEXT NOT NULL,
    step      INTEGER NOT NULL,
    used_at   INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, user_id, factor_id, step),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);

INSERT INTO mfa_totp_steps_0007 (tenant_id, user_id, factor_id, step, used_at)
SELECT s.tenant_id, s.user_id,
       COALESCE((SELECT f.id FROM mfa_factors f
                 WHERE f.tenant_id = s.tenant_id AND f.user_id = s.user_id
                   AND f.kind = 'totp' AND f.confirmed_at IS NOT NULL
                 ORDER BY f.confirmed_at DESC LIMIT 1), ''),
       s.step, s.used_at
FROM mfa_totp_steps s;

DROP TABLE mfa_totp_steps;
ALTER TABLE mfa_totp_steps_0007 RENAME TO mfa_totp_steps;
CREATE INDEX mfa_totp_steps_used ON mfa_totp_steps (used_at);
