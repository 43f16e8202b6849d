-- Quality sampling: the decisions the policy's qa.sample_rate picked for peer review, kept in
-- the transaction that kept their event (so a decision is sampled once), and the review a
-- person other than the decider gave it.

-- +goose Up
CREATE TABLE qa_reviews (
    review_id   TEXT PRIMARY KEY,          -- the decision's event key (case number "/" key)
    case_number TEXT    NOT NULL,
    case_id     TEXT    NOT NULL,
    account_id  TEXT    NOT NULL,
    category    TEXT    NOT NULL,
    subject     TEXT    NOT NULL,          -- enforcement, appeal, agent
    decision    TEXT    NOT NULL,          -- what was decided (suspend_sending, grant, resolve, …)
    decider     TEXT    NOT NULL,          -- who decided ("desk" for an enforcement nobody approved)
    decided_ms  BIGINT  NOT NULL,
    sampled_ms  BIGINT  NOT NULL,
    reviewer    TEXT    NOT NULL DEFAULT '',
    verdict     TEXT    NOT NULL DEFAULT '', -- agree, disagree; '' while waiting
    note        TEXT    NOT NULL DEFAULT '',
    reviewed_ms BIGINT
);
CREATE INDEX qa_reviews_waiting ON qa_reviews (reviewed_ms, decided_ms);
CREATE INDEX qa_reviews_decided ON qa_reviews (decided_ms);

-- +goose Down
DROP TABLE qa_reviews;
