-- Indexes for listing outstanding tokens newest (or oldest) first by
-- created_at (a NULL counting as the earliest, so NULLS FIRST: a backward
-- scan then gives DESC NULLS LAST), and blacklisted ones by
-- blacklisted_at, one page at a time, ties by id. SimpleJWT's columns are
-- left as Django creates them: these are extra indexes only.
CREATE INDEX IF NOT EXISTS jwtrevoke_outstanding_created ON token_blacklist_outstandingtoken (created_at NULLS FIRST, id);
CREATE INDEX IF NOT EXISTS jwtrevoke_blacklisted_at ON token_blacklist_blacklistedtoken (blacklisted_at, token_id);
