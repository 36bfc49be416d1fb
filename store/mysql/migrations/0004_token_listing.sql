-- Indexes for listing outstanding tokens newest (or oldest) first by
-- created_at, and blacklisted ones by blacklisted_at, one page at a time
-- (ties by id, which InnoDB's secondary indexes end with). SimpleJWT's
-- columns are left as Django creates them: these are extra indexes only.
-- MySQL commits DDL at once and has no CREATE INDEX IF NOT EXISTS, so each
-- index is added only when information_schema does not list it yet: a
-- crash before the migration is recorded must not wedge it.
SET @jwtrevoke_ddl = (SELECT IF(count(*) = 0,
    'ALTER TABLE token_blacklist_outstandingtoken ADD INDEX jwtrevoke_outstanding_created (created_at)', 'DO 0')
    FROM information_schema.statistics WHERE table_schema = DATABASE()
    AND table_name = 'token_blacklist_outstandingtoken' AND index_name = 'jwtrevoke_outstanding_created');
PREPARE jwtrevoke_stmt FROM @jwtrevoke_ddl;
EXECUTE jwtrevoke_stmt;
DEALLOCATE PREPARE jwtrevoke_stmt;
SET @jwtrevoke_ddl = (SELECT IF(count(*) = 0,
    'ALTER TABLE token_blacklist_blacklistedtoken ADD INDEX jwtrevoke_blacklisted_at (blacklisted_at, token_id)', 'DO 0')
    FROM information_schema.statistics WHERE table_schema = DATABASE()
    AND table_name = 'token_blacklist_blacklistedtoken' AND index_name = 'jwtrevoke_blacklisted_at');
PREPARE jwtrevoke_stmt FROM @jwtrevoke_ddl;
EXECUTE jwtrevoke_stmt;
DEALLOCATE PREPARE jwtrevoke_stmt;
