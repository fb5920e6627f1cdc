-- DRF tokens (rest_framework.authtoken): one non-expiring 40-hex key per user. The key is kept
-- (DRF shows it in the admin and hands it out again); lookups go through its SHA-256 digest.

CREATE TABLE drf_tokens (
    user_id BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    key TEXT NOT NULL UNIQUE,
    digest TEXT NOT NULL UNIQUE,
    created BIGINT NOT NULL
);
