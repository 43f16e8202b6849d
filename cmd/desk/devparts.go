//go:build !nodev

package main

import (
	"abusedesk/devenv/imapsandbox"
	"abusedesk/devenv/sandbox"
)

// devParts are what `desk dev` runs beside the desk: the sandbox's stand-ins and its mailbox.
// A production build (-tags nodev) has none: it does not link the development environment.
type devParts struct {
	// ports are the ports `desk dev --port-base` pins (nil otherwise).
	ports   devPorts
	sandbox *sandbox.Sandbox
	mailbox *imapsandbox.Server
}
