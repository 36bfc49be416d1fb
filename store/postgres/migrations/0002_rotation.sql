-- Rotations (ROTATE_REFRESH_TOKENS): one row per refresh token used, kept
-- until that token expires, so that a second use of it is recognised (a
-- retry gets the same answer, a reuse revokes the session). The primary
-- key makes a token rotatable once only. SimpleJWT's tables are left as
-- Django creates them.
CREATE TABLE jwtrevoke_rotation (
    old_jti varchar(255) NOT NULL PRIMARY KEY,
    next_jti varchar(255) NOT NULL,
    next_token text NOT NULL,
    access_token text NOT NULL,
    session_id text NOT NULL DEFAULT '',
    rotated_at timestamp with time zone NOT NULL,
    expires_at timestamp with time zone NOT NULL
);
CREATE INDEX jwtrevoke_rotation_expires ON jwtrevoke_rotation (expires_at);
