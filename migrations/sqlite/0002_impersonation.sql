-- Impersonation (django-hijack): who a session impersonates for, who minted a token while
-- impersonating, and the audit log of every start and end.

ALTER TABLE sessions ADD COLUMN impersonator_id INTEGER REFERENCES users (id) ON DELETE CASCADE;

-- A token made while impersonating dies with its impersonator (and is refused once they are no
-- longer an active superuser).
ALTER TABLE bearer_tokens ADD COLUMN impersonator_id INTEGER REFERENCES users (id) ON DELETE CASCADE;

CREATE TABLE impersonation_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    action TEXT NOT NULL,
    impersonator TEXT NOT NULL,
    target TEXT NOT NULL,
    client_address TEXT NOT NULL DEFAULT ''
);
CREATE INDEX impersonation_events_at ON impersonation_events (at);
CREATE INDEX users_email ON users (email);
