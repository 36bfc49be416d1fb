-- The audit trail: one row per revocation recorded with AuditUntil set
-- (logout, a session ended, logout-all, an admin's blacklisting...), with
-- where the request came from, kept until keep_until, long after the
-- revocation itself expired. SimpleJWT's tables are left as Django creates
-- them.
CREATE TABLE jwtrevoke_audit (
    id bigserial NOT NULL PRIMARY KEY,
    user_id bigint NOT NULL,
    session_id text NOT NULL DEFAULT '',
    jti text NOT NULL DEFAULT '',
    reason text NOT NULL,
    ip text NOT NULL DEFAULT '',
    user_agent text NOT NULL DEFAULT '',
    created_at timestamp with time zone NOT NULL,
    keep_until timestamp with time zone NOT NULL
);
CREATE INDEX jwtrevoke_audit_user ON jwtrevoke_audit (user_id, created_at);
CREATE INDEX jwtrevoke_audit_keep ON jwtrevoke_audit (keep_until);

-- Attempt counters (the login rate limits shared by every instance): one
-- row per key and fixed window, k naming both; deleted once the window
-- has ended (expires_at).
CREATE TABLE jwtrevoke_attempt (
    k varchar(255) NOT NULL PRIMARY KEY,
    n bigint NOT NULL,
    expires_at timestamp with time zone NOT NULL
);
CREATE INDEX jwtrevoke_attempt_expires ON jwtrevoke_attempt (expires_at);
