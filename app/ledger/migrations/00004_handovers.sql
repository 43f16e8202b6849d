-- Messages intake did not give to a case: handed to a person on a triage ticket, or answered
-- "not ours". The dashboard lists them (/intake); one row a message and ticket.

-- +goose Up
CREATE TABLE handovers (
    handover_key TEXT PRIMARY KEY,     -- kind "/" ticket "/" message digest
    at_ms        BIGINT NOT NULL,
    kind         TEXT   NOT NULL,      -- triage, not_ours
    ticket_id    BIGINT NOT NULL,
    reason       TEXT   NOT NULL DEFAULT '',
    reporter     TEXT   NOT NULL DEFAULT '',
    subject      TEXT   NOT NULL DEFAULT '',
    digest       TEXT   NOT NULL DEFAULT ''
);
CREATE INDEX handovers_at ON handovers (at_ms);

-- +goose Down
DROP TABLE handovers;
