//go:build nodev

package main

import (
	"context"
	"errors"
)

// A production build (go build -tags nodev ./cmd/desk) leaves out the development environment —
// the embedded Temporal server, the sandbox's stand-ins, the demo, the local cluster and the
// benchmarks — and with it most of the binary. Its dev, cluster and bench commands say so.

var errNoDevenv = errors.New("this desk was built for production (-tags nodev), without the development environment: run `go run ./cmd/desk` from the source, or a build without the tag")

func cmdDev(context.Context, env, []string) error     { return errNoDevenv }
func cmdCluster(context.Context, env, []string) error { return errNoDevenv }
func cmdBench(context.Context, env, []string) error   { return errNoDevenv }
