// Package devenv holds what `desk dev` ships besides the desk itself — a product feature, not
// test code: the embedded Temporal server (devserver), stand-ins that speak the real wire
// formats of Zendesk (zendesksandbox), Slack (slacksandbox), the enforcement API
// (enforcementapi, also the contract's reference implementation) and the abuse mailbox
// (imapsandbox), the sandbox that starts them with demo people and accounts (sandbox), the
// demo's samples and policy (demo), the dashboard's sandbox page (playground), the desk
// `desk dev` runs around them (devdesk), `desk bench` (bench) and the local cluster (cluster).
//
// Only cmd/desk imports it (tests may too); production code never does. The layers test at
// the module's root keeps it so.
package devenv
