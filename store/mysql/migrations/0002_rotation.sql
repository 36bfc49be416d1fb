-- Rotations (ROTATE_REFRESH_TOKENS): one row per refresh token used, kept
-- until that token expires, so that a second use of it is recognised (a
-- retry gets the same answer, a reuse revokes the session). The primary
-- key makes a token rotatable once only. SimpleJWT's tables are left as
-- Django creates them. One statement, IF NOT EXISTS: MySQL commits DDL at
-- once, so a crash before the migration is recorded must not wedge it.
CREATE TABLE IF NOT EXISTS jwtrevoke_rotation (
    old_jti varchar(255) COLLATE utf8mb4_bin NOT NULL PRIMARY KEY,
    next_jti varchar(255) COLLATE utf8mb4_bin NOT NULL,
    next_token longtext NOT NULL,
    access_token longtext NOT NULL,
    session_id varchar(255) COLLATE utf8mb4_bin NOT NULL DEFAULT '',
    rotated_at datetime(6) NOT NULL,
    expires_at datetime(6) NOT NULL,
    KEY jwtrevoke_rotation_expires (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
