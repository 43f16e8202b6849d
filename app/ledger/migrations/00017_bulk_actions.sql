-- Reviewed bulk actions on linked accounts: each action as it stands (its workflow's state, as
-- JSON), and one row per account it reached, so an account's page finds what was done to it.

-- +goose Up
CREATE TABLE bulk_actions (
    number      TEXT   PRIMARY KEY,
    proposed_ms BIGINT NOT NULL,
    updated_ms  BIGINT NOT NULL,
    status      TEXT   NOT NULL,
    state       TEXT   NOT NULL
);
CREATE INDEX bulk_actions_proposed ON bulk_actions (proposed_ms);
CREATE TABLE bulk_action_accounts (
    number     TEXT   NOT NULL,
    account_id TEXT   NOT NULL,
    action_id  TEXT   NOT NULL DEFAULT '',
    applied_ms BIGINT,
    error      TEXT   NOT NULL DEFAULT '',
    lifted_ms  BIGINT,
    PRIMARY KEY (number, account_id)
);
CREATE INDEX bulk_action_accounts_account ON bulk_action_accounts (account_id);

-- +goose Down
DROP TABLE bulk_action_accounts;
DROP TABLE bulk_actions;
