-- How long each worker process's workflow tasks wait to be picked up, as the worker measures it
-- (its sticky queue included), written every half second: an ingress without a worker holds
-- intake back on the longest fresh one.

-- +goose Up
CREATE TABLE worker_waits (
    worker  TEXT PRIMARY KEY,
    wait_ms BIGINT NOT NULL,
    at_ms   BIGINT NOT NULL
);

-- +goose Down
DROP TABLE worker_waits;
