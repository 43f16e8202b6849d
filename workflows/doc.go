// Package workflows holds abusedesk's Temporal workflows — the Case workflow (one per open
// case, keyed by account and category, running the lifecycle of its category's track: abuse,
// advisory, legal or customer) and its Appeal child — and their contract: the task queue,
// workflow-ID helpers, case numbers, signal, update and query names with their input structs,
// status constants and search-attribute keys. Intake, the webhooks and the dashboard talk to
// cases only through this contract.
package workflows
