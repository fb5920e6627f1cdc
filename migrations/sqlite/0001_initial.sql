-- Users, groups, bearer tokens (knox AuthToken) and login sessions.
-- Times are Unix microseconds (UTC); lists are JSON arrays.

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL UNIQUE,
    password TEXT,
    email TEXT NOT NULL DEFAULT '',
    first_name TEXT NOT NULL DEFAULT '',
    last_name TEXT NOT NULL DEFAULT '',
    is_staff INTEGER NOT NULL DEFAULT 0,
    is_superuser INTEGER NOT NULL DEFAULT 0,
    is_active INTEGER NOT NULL DEFAULT 1,
    date_joined INTEGER NOT NULL,
    last_login INTEGER,
    fairdata_username TEXT,
    organization TEXT,
    admin_organizations TEXT NOT NULL DEFAULT '[]',
    csc_projects TEXT NOT NULL DEFAULT '[]'
);

CREATE TABLE groups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE
);

CREATE TABLE user_groups (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    group_id INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, group_id)
);

CREATE TABLE bearer_tokens (
    digest TEXT PRIMARY KEY,
    token_key TEXT NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created INTEGER NOT NULL,
    expiry INTEGER NOT NULL
);
CREATE INDEX bearer_tokens_token_key ON bearer_tokens (token_key);
CREATE INDEX bearer_tokens_user_id ON bearer_tokens (user_id, expiry);

CREATE TABLE sessions (
    key_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created INTEGER NOT NULL,
    expires INTEGER NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires);
