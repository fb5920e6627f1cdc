-- Fairdata SSO: when the user's details were last synced from an SSO session or user_status.
ALTER TABLE users ADD COLUMN synced BIGINT;
