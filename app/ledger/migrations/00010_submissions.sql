-- The reports API's own records. api_keys keeps the answer given to a request made with an
-- Idempotency-Key, so that sending it again returns that answer and takes nothing twice;
-- submitted_reports keeps which case (or person) each report the API accepted went to, for
-- GET /api/v1/reports/{id}.

-- +goose Up
CREATE TABLE api_keys (
    idem_key    TEXT PRIMARY KEY,
    body_sha256 TEXT    NOT NULL,
    status      INTEGER NOT NULL DEFAULT 0, -- the HTTP status answered; 0 while the first request is under way
    response    TEXT    NOT NULL DEFAULT '',
    at_ms       BIGINT  NOT NULL
);
CREATE INDEX api_keys_at ON api_keys (at_ms);

CREATE TABLE submitted_reports (
    report_id   TEXT    NOT NULL,           -- the report's ID, or the message's digest when the whole message went to a person
    case_id     TEXT    NOT NULL DEFAULT '', -- '' when a person has it (triage)
    category    TEXT    NOT NULL DEFAULT '',
    track       TEXT    NOT NULL DEFAULT '',
    ticket_id   BIGINT  NOT NULL DEFAULT 0,
    received_ms BIGINT  NOT NULL,
    PRIMARY KEY (report_id, case_id)
);
CREATE INDEX submitted_reports_received ON submitted_reports (received_ms);

-- +goose Down
DROP TABLE submitted_reports;
DROP TABLE api_keys;
