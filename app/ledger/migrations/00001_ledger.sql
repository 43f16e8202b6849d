-- The case ledger: every event of every case (case_events), and one row a case summing them up
-- (cases), kept in the same transaction as the events. The same SQL runs on SQLite and
-- PostgreSQL: times are Unix milliseconds (BIGINT), texts are TEXT.

-- +goose Up
CREATE TABLE case_events (
    event_key   TEXT PRIMARY KEY,          -- case number "/" event key: appending twice keeps one
    case_number TEXT    NOT NULL,
    case_id     TEXT    NOT NULL,
    at_ms       BIGINT  NOT NULL,
    kind        TEXT    NOT NULL,
    account_id  TEXT    NOT NULL,
    category    TEXT    NOT NULL,
    actor       TEXT    NOT NULL DEFAULT '',
    decision    TEXT    NOT NULL DEFAULT '',
    outcome     TEXT    NOT NULL DEFAULT '',
    n           INTEGER NOT NULL DEFAULT 0,
    reporters   TEXT    NOT NULL DEFAULT '', -- a line each: reporter, TAB, how many it sent (when known)
    detail      TEXT    NOT NULL DEFAULT '',
    recorded_ms BIGINT  NOT NULL
);
CREATE INDEX case_events_case ON case_events (case_number, at_ms);
CREATE INDEX case_events_kind ON case_events (kind, at_ms);
CREATE INDEX case_events_account ON case_events (account_id, at_ms);

CREATE TABLE cases (
    case_number       TEXT PRIMARY KEY,
    case_id           TEXT    NOT NULL,
    account_id        TEXT    NOT NULL,
    category          TEXT    NOT NULL,
    track             TEXT    NOT NULL DEFAULT '', -- abuse, advisory, legal, customer
    rules             TEXT    NOT NULL DEFAULT '', -- standard, strict, strategic
    tier              TEXT    NOT NULL DEFAULT '',
    reporter          TEXT    NOT NULL DEFAULT '', -- the first reporter
    opened_ms         BIGINT  NOT NULL,
    reports           INTEGER NOT NULL DEFAULT 0,
    notices           INTEGER NOT NULL DEFAULT 0,
    first_notice_ms   BIGINT,
    replies           INTEGER NOT NULL DEFAULT 0,
    first_reply_ms    BIGINT,
    escalated_ms      BIGINT,
    approvals_asked   INTEGER NOT NULL DEFAULT 0,
    approval_asked_ms BIGINT,                      -- the first request
    approval_decided_ms BIGINT,                    -- the first answer (a lead's or the timeout's)
    approval_timeouts INTEGER NOT NULL DEFAULT 0,
    approved_by       TEXT    NOT NULL DEFAULT '',
    enforced_ms       BIGINT,
    action            TEXT    NOT NULL DEFAULT '',
    lifted_ms         BIGINT,
    appeals           INTEGER NOT NULL DEFAULT 0,
    appealed_ms       BIGINT,
    appeal_decided_ms BIGINT,
    appeal_decision   TEXT    NOT NULL DEFAULT '',
    appeal_decided_by TEXT    NOT NULL DEFAULT '',
    decided_ms        BIGINT,
    decided_by        TEXT    NOT NULL DEFAULT '',  -- who made the last decision on the case
    sla_breaches      INTEGER NOT NULL DEFAULT 0,  -- all of them; by SLA below
    triage_breaches   INTEGER NOT NULL DEFAULT 0,
    approval_breaches INTEGER NOT NULL DEFAULT 0,
    appeal_breaches   INTEGER NOT NULL DEFAULT 0,
    legal_breaches    INTEGER NOT NULL DEFAULT 0,
    handoff_breaches  INTEGER NOT NULL DEFAULT 0,
    closed_ms         BIGINT,
    outcome           TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX cases_opened ON cases (opened_ms);
CREATE INDEX cases_account ON cases (account_id, opened_ms);
CREATE INDEX cases_closed ON cases (closed_ms);

-- What the reports name, a row for each case and thing: links accounts that share a phishing
-- host, a sender domain or a phone number, and counts sightings per network for spikes.
CREATE TABLE indicators (
    case_number TEXT   NOT NULL,
    account_id  TEXT   NOT NULL,
    category    TEXT   NOT NULL,
    kind        TEXT   NOT NULL, -- ip, host, domain, sender-domain, sender, phone
    value       TEXT   NOT NULL,
    first_ms    BIGINT NOT NULL,
    PRIMARY KEY (case_number, kind, value)
);
CREATE INDEX indicators_value ON indicators (kind, value);
CREATE INDEX indicators_first ON indicators (first_ms);

-- Spike alerts sent, one per dimension, key and window: several processes may look, one posts.
CREATE TABLE alerts (
    alert_key TEXT PRIMARY KEY,
    at_ms     BIGINT  NOT NULL,
    dimension TEXT    NOT NULL,
    subject   TEXT    NOT NULL,
    count     INTEGER NOT NULL,
    baseline  DOUBLE PRECISION NOT NULL
);
CREATE INDEX alerts_subject ON alerts (dimension, subject, at_ms);

-- +goose Down
DROP TABLE alerts;
DROP TABLE indicators;
DROP TABLE cases;
DROP TABLE case_events;
