-- What the platform recorded of a messaging case's sending identity (a number, sender ID,
-- campaign or messaging service): when the notice went out (stop 0) and once the action was in
-- place (stop 1). Complaints per 1,000 messages and the opt-out rate per identity come from it.

-- +goose Up
CREATE TABLE messaging_traffic (
    event_key   TEXT    PRIMARY KEY,
    case_number TEXT    NOT NULL,
    account_id  TEXT    NOT NULL,
    category    TEXT    NOT NULL,
    identity    TEXT    NOT NULL,
    since_ms    BIGINT  NOT NULL,
    until_ms    BIGINT  NOT NULL,
    stop        INTEGER NOT NULL DEFAULT 0,
    sent        BIGINT  NOT NULL,
    delivered   BIGINT  NOT NULL,
    failed      BIGINT  NOT NULL,
    filtered    BIGINT  NOT NULL,
    opt_outs    BIGINT  NOT NULL,
    complaints  BIGINT  NOT NULL
);
CREATE INDEX messaging_traffic_until ON messaging_traffic (until_ms);

-- +goose Down
DROP TABLE messaging_traffic;
