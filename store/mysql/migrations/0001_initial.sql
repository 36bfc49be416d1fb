-- Django's user table shape (the seed's users_user) and SimpleJWT's
-- token_blacklist tables, created only where a Django project has not
-- created them already. The email's case-insensitive collation makes the
-- unique key ignore case.
CREATE TABLE IF NOT EXISTS users_user (
    id bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
    password varchar(128) NOT NULL,
    last_login datetime(6) NULL,
    is_superuser bool NOT NULL,
    first_name varchar(150) NOT NULL,
    last_name varchar(150) NOT NULL,
    is_staff bool NOT NULL,
    is_active bool NOT NULL,
    date_joined datetime(6) NOT NULL,
    email varchar(254) COLLATE utf8mb4_general_ci NOT NULL UNIQUE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS token_blacklist_outstandingtoken (
    id bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
    token longtext NOT NULL,
    created_at datetime(6) NULL,
    expires_at datetime(6) NOT NULL,
    user_id bigint NULL,
    jti varchar(255) COLLATE utf8mb4_bin NOT NULL UNIQUE,
    KEY token_blacklist_outstandingtoken_user_id_83bc629a (user_id),
    KEY jwtrevoke_outstanding_expires (expires_at),
    CONSTRAINT token_blacklist_outs_user_id_83bc629a_fk_users_use FOREIGN KEY (user_id) REFERENCES users_user (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS token_blacklist_blacklistedtoken (
    id bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
    blacklisted_at datetime(6) NOT NULL,
    token_id bigint NOT NULL UNIQUE,
    CONSTRAINT token_blacklist_blacklistedtoken_token_id_3cc7fe56_fk FOREIGN KEY (token_id) REFERENCES token_blacklist_outstandingtoken (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Sessions: one per login (the "sid" claim).
CREATE TABLE jwtrevoke_session (
    id varchar(64) COLLATE utf8mb4_bin NOT NULL PRIMARY KEY,
    user_id bigint NOT NULL,
    created_at datetime(6) NOT NULL,
    expires_at datetime(6) NOT NULL,
    revoked_at datetime(6) NULL,
    ip varchar(64) NOT NULL DEFAULT '',
    user_agent varchar(512) NOT NULL DEFAULT '',
    KEY jwtrevoke_session_user (user_id),
    KEY jwtrevoke_session_expires (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Revocations in the order they were made.
CREATE TABLE jwtrevoke_revocation (
    seq bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
    session_id varchar(255) COLLATE utf8mb4_bin NOT NULL DEFAULT '',
    jti varchar(255) COLLATE utf8mb4_bin NOT NULL DEFAULT '',
    user_id bigint NOT NULL,
    not_before datetime(6) NULL,
    expires_at datetime(6) NOT NULL,
    reason varchar(64) NOT NULL,
    created_at datetime(6) NOT NULL,
    KEY jwtrevoke_revocation_expires (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE jwtrevoke_setting (
    name varchar(191) COLLATE utf8mb4_bin NOT NULL PRIMARY KEY,
    value text NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
