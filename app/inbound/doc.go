// Package inbound is the one layer through which the outside reaches the desk. Each file maps
// one channel's events onto intake (new mail and reports) or the cases client (replies,
// decisions, clicks):
//
//   - mail.go: the abuse mailbox (IMAP): a message goes to intake and is then moved to the
//     processed or the failed folder;
//   - api.go: the reports API, POST /api/v1/reports;
//   - zendesk.go: the signed Zendesk webhook and the incremental-export poll (reports in the
//     intake group, customers' public comments, agents' decision macros);
//   - slack.go: a lead's click on an approval request, as an Update of its case.
//
// The protocols themselves (signatures, payloads, IMAP) live in integrations/; what a message
// means lives in intake and the workflows. Nothing here decides anything about a case.
package inbound
