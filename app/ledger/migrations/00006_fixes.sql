-- Verified remediation: how many times an agent accepted a case's fix, and how many of those
-- fixes a re-check found not to hold (the case reopened).

-- +goose Up
ALTER TABLE cases ADD COLUMN fixes_accepted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN fixes_reopened INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE cases DROP COLUMN fixes_reopened;
ALTER TABLE cases DROP COLUMN fixes_accepted;
