package main

import (
	"net"
	"net/netip"
)

// The desk process itself — what starts in which order, and how it stops — is
// internal/app/process; the commands here read flags and configuration and call it.

// components says which parts a process runs (`desk run --components`).
type components struct {
	worker, http, imap bool
}

// loopbackAddr reports whether a listen address (host:port) takes connections from this
// machine only: a loopback IP or "localhost"; an empty host is every interface.
func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}
