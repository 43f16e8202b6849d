-- Tickets are named by a neutral reference, "system#id" (ticket.Ref), not by a Zendesk integer:
-- the triage ticket of a hand-over and of a report the API accepted. Rows kept before name
-- Zendesk tickets by number; they are rewritten as references. ticket_id stays, filled for
-- numeric IDs, for the queries people wrote against it.

-- +goose Up
ALTER TABLE handovers ADD COLUMN ticket TEXT NOT NULL DEFAULT '';
UPDATE handovers SET ticket = 'zendesk#' || CAST(ticket_id AS TEXT) WHERE ticket_id > 0;
ALTER TABLE submitted_reports ADD COLUMN ticket TEXT NOT NULL DEFAULT '';
UPDATE submitted_reports SET ticket = 'zendesk#' || CAST(ticket_id AS TEXT) WHERE ticket_id > 0;

-- +goose Down
ALTER TABLE submitted_reports DROP COLUMN ticket;
ALTER TABLE handovers DROP COLUMN ticket;
