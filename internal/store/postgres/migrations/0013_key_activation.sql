-- 0013: when a signing key starts signing. A key rotated in with an
-- activation delay is published in the JWKS from its creation but signs
-- only from activates_at, and the key it replaces signs until then. NULL
-- (every key stored before) means from created_at.

ALTER TABLE signing_keys ADD COLUMN activates_at timestamptz;
