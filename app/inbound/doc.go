// Package inbound is the one layer through which the outside reaches the desk. Each file maps
// one channel's events onto intake (new mail and reports) or the cases client (replies,
// decisions, clicks):
//
//   - mail.go: the abuse mailbox (IMAP): a message goes to intake and is then moved to the
//     processed or the failed folder;
//   - api.go: the reports API, POST /api/v1/reports;
//   - tickets.go: the desk's side of the ticketing port (ticket.Desk). The ticketing adapter
//     (integrations/zendesk's Channel: the signed webhook, the incremental-export poll, the
//     ticket's audits) hands it reports from the intake group, customers' public comments,
//     agents' decision macros and assignments, in neutral terms; it gives back the notes the
//     adapter posts;
//   - slack.go: a lead's click on an approval request, as an Update of its case.
//
// The protocols themselves (signatures, payloads, IMAP) live in integrations/; what a message
// means lives in intake and the workflows. Nothing here decides anything about a case.
package inbound
