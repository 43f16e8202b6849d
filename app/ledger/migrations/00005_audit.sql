-- Who looked at or acted on a legal case in the dashboard, and when: legal matters are seen by
-- the legal team only, and every look is on record.

-- +goose Up
CREATE TABLE audit (
    at_ms       BIGINT NOT NULL,
    who         TEXT   NOT NULL,
    case_number TEXT   NOT NULL,
    what        TEXT   NOT NULL
);
CREATE INDEX audit_case ON audit (case_number, at_ms);

-- +goose Down
DROP TABLE audit;
