-- The account's name on each case, so cases can be searched by the customer's name.

-- +goose Up
ALTER TABLE cases ADD COLUMN account_name TEXT NOT NULL DEFAULT '';
CREATE INDEX indicators_case ON indicators (case_number);

-- +goose Down
DROP INDEX indicators_case;
ALTER TABLE cases DROP COLUMN account_name;
