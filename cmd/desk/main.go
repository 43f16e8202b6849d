// Command desk is abusedesk's one binary: `desk dev` runs everything on an embedded Temporal
// server, `desk run` runs the production components against a Temporal cluster, and the other
// subcommands check policies, parse and submit reports, provision Zendesk and benchmark.
//
// main only wires: flags and environment into config, components started and stopped in
// order. The work is in the packages it wires.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"abusedesk/platform/config"
	"abusedesk/platform/durable"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.LookupEnv)
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return
	}
	fmt.Fprintln(os.Stderr, "desk:", err)
	var u usageError
	if errors.As(err, &u) {
		os.Exit(2)
	}
	os.Exit(1)
}

// usageError is a mistake on the command line (exit code 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// env is the process environment as the commands see it.
type env struct {
	stdout, stderr io.Writer
	lookup         config.Lookup
}

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, e env, args []string) error
}

func commands() []command {
	return []command{
		{"dev", "run everything on an embedded Temporal server (the sandbox stands in for missing services)", waitForDisk(cmdDev)},
		{"run", "run the desk against an existing Temporal cluster (production)", waitForDisk(cmdRun)},
		{"cluster", "try the production topology locally: PostgreSQL, the Temporal server, workers and an ingress", cmdCluster},
		{"policy", "check or show a policy file", cmdPolicy},
		{"report", "parse report files (what the desk makes of them), or submit them to a running desk", cmdReport},
		{"ledger", "rebuild the case ledger of cases from before it, or print a case's events", cmdLedger},
		{"zendesk", "set a Zendesk account up for abusedesk (fields, macros, webhook, triggers)", cmdZendesk},
		{"bench", "measure intake storms, case throughput, capacity, deadline precision and parsing", cmdBench},
		{"help", "show help for a command, or `desk help env` for the environment variables", cmdHelp},
		{"version", "print the version", cmdVersion},
	}
}

// diskRetry is how often a desk that could not start for want of disk space tries again.
var diskRetry = 5 * time.Second

// waitForDisk runs a desk again while it stops because the disk is full (durable.WhileDiskFull).
func waitForDisk(cmd func(ctx context.Context, e env, args []string) error) func(ctx context.Context, e env, args []string) error {
	return func(ctx context.Context, e env, args []string) error {
		return durable.WhileDiskFull(ctx, diskRetry, e.stderr, func() error { return cmd(ctx, e, args) })
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, lookup config.Lookup) error {
	e := env{stdout: stdout, stderr: stderr, lookup: lookup}
	if len(args) == 0 {
		usage(stderr)
		return usageError{"no command given"}
	}
	switch args[0] {
	case "-h", "--help", "-help":
		usage(stdout)
		return nil
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, e, args[1:])
		}
	}
	usage(stderr)
	return usageError{fmt.Sprintf("unknown command %q", args[0])}
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "abusedesk (%s) — an abuse desk on Temporal\n\nUsage: desk COMMAND [flags]\n\nCommands:\n", version)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun `desk COMMAND --help` for a command's flags and `desk help env` for the configuration.")
}

// newFlagSet makes a subcommand's flag set whose --help prints the description and flags.
func newFlagSet(e env, name, synopsis, description string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		out := fs.Output()
		fmt.Fprintf(out, "Usage: desk %s\n\n%s\n", synopsis, strings.TrimSpace(description))
		hasFlags := false
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		if hasFlags {
			fmt.Fprintln(out, "\nFlags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

// flagGiven reports whether the command line set the flag name.
func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

// parse parses flags; --help prints usage to stdout and stops with flag.ErrHelp.
func parse(e env, fs *flag.FlagSet, args []string) error {
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "-h" || a == "--help" || a == "-help" {
			fs.SetOutput(e.stdout)
			fs.Usage()
			return flag.ErrHelp
		}
	}
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	return nil
}

func cmdVersion(_ context.Context, e env, args []string) error {
	fs := newFlagSet(e, "version", "version", "Print the version of this build.")
	if err := parse(e, fs, args); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, config.VersionLine(version))
	return nil
}

func cmdHelp(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "help", "help [COMMAND | env]", "Show help for a command, or with env every environment variable abusedesk reads.")
	if len(args) > 0 && args[0] != "env" {
		if err := parse(e, fs, args); err != nil {
			return err
		}
	}
	if len(args) == 0 {
		usage(e.stdout)
		return nil
	}
	if args[0] == "env" {
		if len(args) > 1 && args[1] == "--markdown" {
			fmt.Fprint(e.stdout, config.Table())
			return nil
		}
		fmt.Fprint(e.stdout, "abusedesk reads its configuration from these environment variables."+
			"\nA secret NAME may instead be given as NAME_FILE, the path of a file holding it.\n")
		fmt.Fprint(e.stdout, config.Text())
		return nil
	}
	return run(ctx, []string{args[0], "--help"}, e.stdout, e.stderr, e.lookup)
}
