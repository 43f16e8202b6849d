// Package workflows holds abusedesk's Temporal workflows — the Case workflow (one per open
// abuse case, keyed by account and category) and its Appeal child — and their contract: the
// task queue, workflow-ID helpers, signal, update and query names with their input structs,
// status constants and search-attribute keys. Intake, the webhooks and the dashboard talk to
// cases only through this contract.
package workflows
