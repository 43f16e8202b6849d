-- A message handed to a person that reads as a legal matter (a police request, a hotline's
-- notice): listed and counted for the legal team only (1), never for anyone else.

-- +goose Up
ALTER TABLE handovers ADD COLUMN legal INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE handovers DROP COLUMN legal;
