-- Django's user table shape (the seed's users_user) and SimpleJWT's
-- token_blacklist tables with Django's constraint and index names, created
-- only where a Django project has not created them already.
CREATE TABLE IF NOT EXISTS users_user (
    id bigserial NOT NULL CONSTRAINT users_user_pkey PRIMARY KEY,
    password varchar(128) NOT NULL,
    last_login timestamp with time zone NULL,
    is_superuser boolean NOT NULL,
    first_name varchar(150) NOT NULL,
    last_name varchar(150) NOT NULL,
    is_staff boolean NOT NULL,
    is_active boolean NOT NULL,
    date_joined timestamp with time zone NOT NULL,
    email varchar(254) NOT NULL CONSTRAINT users_user_email_key UNIQUE
);
CREATE INDEX IF NOT EXISTS users_user_email_243f6e77_like ON users_user (email varchar_pattern_ops);
CREATE UNIQUE INDEX IF NOT EXISTS jwtrevoke_users_user_email_ci ON users_user (lower(email));

CREATE TABLE IF NOT EXISTS token_blacklist_outstandingtoken (
    id bigserial NOT NULL CONSTRAINT token_blacklist_outstandingtoken_pkey PRIMARY KEY,
    token text NOT NULL,
    created_at timestamp with time zone NULL,
    expires_at timestamp with time zone NOT NULL,
    user_id bigint NULL CONSTRAINT token_blacklist_outs_user_id_83bc629a_fk_users_use REFERENCES users_user (id) DEFERRABLE INITIALLY DEFERRED,
    jti varchar(255) NOT NULL CONSTRAINT token_blacklist_outstandingtoken_jti_hex_d9bdf6f7_uniq UNIQUE
);
CREATE INDEX IF NOT EXISTS token_blacklist_outstandingtoken_jti_hex_d9bdf6f7_like ON token_blacklist_outstandingtoken (jti varchar_pattern_ops);
CREATE INDEX IF NOT EXISTS token_blacklist_outstandingtoken_user_id_83bc629a ON token_blacklist_outstandingtoken (user_id);
CREATE INDEX IF NOT EXISTS jwtrevoke_outstanding_expires ON token_blacklist_outstandingtoken (expires_at);

CREATE TABLE IF NOT EXISTS token_blacklist_blacklistedtoken (
    id bigserial NOT NULL CONSTRAINT token_blacklist_blacklistedtoken_pkey PRIMARY KEY,
    blacklisted_at timestamp with time zone NOT NULL,
    token_id bigint NOT NULL CONSTRAINT token_blacklist_blacklistedtoken_token_id_key UNIQUE
        CONSTRAINT token_blacklist_blacklistedtoken_token_id_3cc7fe56_fk REFERENCES token_blacklist_outstandingtoken (id) DEFERRABLE INITIALLY DEFERRED
);

-- Sessions: one per login (the "sid" claim).
CREATE TABLE jwtrevoke_session (
    id text NOT NULL PRIMARY KEY,
    user_id bigint NOT NULL,
    created_at timestamp with time zone NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    revoked_at timestamp with time zone NULL,
    ip text NOT NULL DEFAULT '',
    user_agent text NOT NULL DEFAULT ''
);
CREATE INDEX jwtrevoke_session_user ON jwtrevoke_session (user_id);
CREATE INDEX jwtrevoke_session_expires ON jwtrevoke_session (expires_at);

-- Revocations in the order they were made.
CREATE TABLE jwtrevoke_revocation (
    seq bigserial NOT NULL PRIMARY KEY,
    session_id text NOT NULL DEFAULT '',
    jti text NOT NULL DEFAULT '',
    user_id bigint NOT NULL,
    not_before timestamp with time zone NULL,
    expires_at timestamp with time zone NOT NULL,
    reason text NOT NULL,
    created_at timestamp with time zone NOT NULL
);
CREATE INDEX jwtrevoke_revocation_expires ON jwtrevoke_revocation (expires_at);

CREATE TABLE jwtrevoke_setting (name text NOT NULL PRIMARY KEY, value text NOT NULL);
