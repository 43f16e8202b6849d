-- When a case's latest reports arrived: for a blocklist case, the last time the address was
-- seen listed, so the time to delist (first listing → last) is on the operations page.

-- +goose Up
ALTER TABLE cases ADD COLUMN last_report_ms BIGINT;

-- +goose Down
ALTER TABLE cases DROP COLUMN last_report_ms;
