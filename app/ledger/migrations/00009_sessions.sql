-- Signed-in sessions, on the server: the browser's cookie carries only the ID, so signing out
-- (or deleting the row) ends a session for good, whoever copied the cookie.

-- +goose Up
CREATE TABLE sessions (
    session_id TEXT PRIMARY KEY,
    data       TEXT NOT NULL,
    expires_ms BIGINT NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires_ms);

-- +goose Down
DROP TABLE sessions;
