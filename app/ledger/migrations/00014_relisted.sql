-- A blocklist incident that came too soon after the account's previous one closed delisted
-- (the policy's monitoring.relisted): its fix did not hold.

-- +goose Up
ALTER TABLE cases ADD COLUMN relisted INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE cases DROP COLUMN relisted;
