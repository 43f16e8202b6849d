-- Notifications: one row per message of reports the desk took into cases, whatever its rows (a
-- feed's CSV of 50,000 rows is one notification): the DSA transparency report counts notices
-- here. Kept by intake as it accepts the message; the same message again is kept once.

-- +goose Up
CREATE TABLE notifications (
    digest      TEXT PRIMARY KEY,             -- the raw message's SHA-256
    received_ms BIGINT  NOT NULL,
    reporter    TEXT    NOT NULL DEFAULT '',
    category    TEXT    NOT NULL,             -- its first report's
    reports     INTEGER NOT NULL DEFAULT 0    -- the reports it held that went to cases
);
CREATE INDEX notifications_received ON notifications (received_ms);

-- +goose Down
DROP TABLE notifications;
