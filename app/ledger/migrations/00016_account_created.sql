-- When each case's account was opened, as the enforcement API says: accounts reported in their
-- first days are a signal of accounts opened to abuse (the Trends page lists them).

-- +goose Up
ALTER TABLE cases ADD COLUMN account_created_ms BIGINT;

-- +goose Down
ALTER TABLE cases DROP COLUMN account_created_ms;
