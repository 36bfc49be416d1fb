-- The audit trail: one row per revocation recorded with AuditUntil set
-- (logout, a session ended, logout-all, an admin's blacklisting...), with
-- where the request came from, kept until keep_until, long after the
-- revocation itself expired. SimpleJWT's tables are left as Django creates
-- them. Each statement creates a table with its indexes, IF NOT EXISTS:
-- MySQL commits DDL at once, so a crash before the migration is recorded
-- (even between the two) must not wedge it.
CREATE TABLE IF NOT EXISTS jwtrevoke_audit (
    id bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_id bigint NOT NULL,
    session_id varchar(255) COLLATE utf8mb4_bin NOT NULL DEFAULT '',
    jti varchar(255) COLLATE utf8mb4_bin NOT NULL DEFAULT '',
    reason varchar(64) NOT NULL,
    ip varchar(64) NOT NULL DEFAULT '',
    user_agent varchar(512) NOT NULL DEFAULT '',
    created_at datetime(6) NOT NULL,
    keep_until datetime(6) NOT NULL,
    KEY jwtrevoke_audit_user (user_id, created_at),
    KEY jwtrevoke_audit_keep (keep_until)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Attempt counters (the login rate limits shared by every instance): one
-- row per key and fixed window, k naming both; deleted once the window
-- has ended (expires_at).
CREATE TABLE IF NOT EXISTS jwtrevoke_attempt (
    k varchar(255) COLLATE utf8mb4_bin NOT NULL PRIMARY KEY,
    n bigint NOT NULL,
    expires_at datetime(6) NOT NULL,
    KEY jwtrevoke_attempt_expires (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
