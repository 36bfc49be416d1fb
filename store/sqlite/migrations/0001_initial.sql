-- Django's user table shape (the seed's users_user), so a Django project can
-- share it; emails are unique regardless of case.
CREATE TABLE IF NOT EXISTS "users_user" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "password" varchar(128) NOT NULL, "last_login" datetime NULL, "is_superuser" bool NOT NULL, "first_name" varchar(150) NOT NULL, "last_name" varchar(150) NOT NULL, "is_staff" bool NOT NULL, "is_active" bool NOT NULL, "date_joined" datetime NOT NULL, "email" varchar(254) NOT NULL UNIQUE);
CREATE UNIQUE INDEX IF NOT EXISTS "jwtrevoke_users_user_email_ci" ON "users_user" (lower("email"));

-- SimpleJWT's token_blacklist tables, exactly as Django's migrations create them.
CREATE TABLE IF NOT EXISTS "token_blacklist_outstandingtoken" ("token" text NOT NULL, "created_at" datetime NULL, "expires_at" datetime NOT NULL, "user_id" bigint NULL REFERENCES "users_user" ("id") DEFERRABLE INITIALLY DEFERRED, "jti" varchar(255) NOT NULL UNIQUE, "id" integer NOT NULL PRIMARY KEY AUTOINCREMENT);
CREATE INDEX IF NOT EXISTS "token_blacklist_outstandingtoken_user_id_83bc629a" ON "token_blacklist_outstandingtoken" ("user_id");
CREATE TABLE IF NOT EXISTS "token_blacklist_blacklistedtoken" ("blacklisted_at" datetime NOT NULL, "token_id" bigint NOT NULL UNIQUE REFERENCES "token_blacklist_outstandingtoken" ("id") DEFERRABLE INITIALLY DEFERRED, "id" integer NOT NULL PRIMARY KEY AUTOINCREMENT);
CREATE INDEX IF NOT EXISTS "jwtrevoke_outstanding_expires" ON "token_blacklist_outstandingtoken" ("expires_at");

-- Sessions: one per login, shared by the refresh tokens of a rotation family
-- and the access tokens minted from them (the "sid" claim).
CREATE TABLE "jwtrevoke_session" (
    "id" text NOT NULL PRIMARY KEY,
    "user_id" bigint NOT NULL,
    "created_at" datetime NOT NULL,
    "expires_at" datetime NOT NULL,
    "revoked_at" datetime NULL,
    "ip" text NOT NULL DEFAULT '',
    "user_agent" text NOT NULL DEFAULT ''
);
CREATE INDEX "jwtrevoke_session_user" ON "jwtrevoke_session" ("user_id");
CREATE INDEX "jwtrevoke_session_expires" ON "jwtrevoke_session" ("expires_at");

-- Revocations, in the order they were made; every instance loads the
-- unexpired ones at start and the new ones by seq.
CREATE TABLE "jwtrevoke_revocation" (
    "seq" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "session_id" text NOT NULL DEFAULT '',
    "jti" text NOT NULL DEFAULT '',
    "user_id" bigint NOT NULL,
    "not_before" datetime NULL,
    "expires_at" datetime NOT NULL,
    "reason" text NOT NULL,
    "created_at" datetime NOT NULL
);
CREATE INDEX "jwtrevoke_revocation_expires" ON "jwtrevoke_revocation" ("expires_at");

CREATE TABLE "jwtrevoke_setting" ("name" text NOT NULL PRIMARY KEY, "value" text NOT NULL);
