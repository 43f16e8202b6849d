package templates

import "time"

// BulkNoticeData is the notice to one customer of a reviewed bulk action on their account
// (bulk_enforced, with its statement of reasons; bulk_lifted once undone; bulk_subject). It
// holds this account's facts alone: the indicators its own reports name and its own cases,
// never another account nor the lead's own words.
type BulkNoticeData struct {
	Number, AccountID, AccountName string
	// Measure says what was done ("outbound email sending suspended"); ActionID is the
	// enforcement API's reference.
	Measure, ActionID                string
	AppliedAt, LiftedAt, AppealUntil time.Time
	// Indicators are what this account's reports name that reports about other accounts name
	// too ("domain login.consumer.example"); Cases the account's own cases that name them.
	Indicators, Cases []string
	// Ground is the clause or the law (Law: the law); OutOfCourt and Judicial the other redress.
	Ground               string
	Law                  bool
	OutOfCourt, Judicial string
}
