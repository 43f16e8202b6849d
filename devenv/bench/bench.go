// Package bench holds the benchmarks behind `desk bench`: each scenario starts `desk dev` (the
// desk binary as a child process, or in this process) on a fresh data dir, with stand-ins for
// Zendesk, Slack and the enforcement API served from the bench process (so the child's memory
// and CPU are the desk's own), drives it, and reports figures against their targets, as a
// table and as bench-SCENARIO.json. docs/benchmarks.md has the latest figures.
//
// What it needs from outside comes in Options: the desk's own command runner and the
// stand-ins (cmd/desk builds both from devenv), so this package runs no product code of its own
// choosing.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"abusedesk/platform/config"
)

// Scenarios are the scenarios, in the order "all" runs them.
var Scenarios = []string{"parse", "storm", "lifecycle", "precision", "capacity", "notification", "admission", "metrics", "reliability", "topology"}

// Topologies a desk under bench runs in: the embedded default (`desk dev`, one process) and
// the production topology (Options.StartCluster).
const (
	Embedded = "embedded"
	Cluster  = "cluster"
)

// ClusterScenarios are the scenarios that run on the production topology too.
var ClusterScenarios = []string{"storm", "lifecycle", "precision", "admission"}

// RunFunc runs one desk command in this process (`desk dev …`, `desk zendesk provision`), as
// `desk` would with these arguments, output and environment.
type RunFunc func(ctx context.Context, args []string, stdout, stderr io.Writer, lookup config.Lookup) error

// Account is a customer account the stand-in enforcement API knows, owning one IP range.
type Account struct {
	ID, Name, ContactEmail string
	// Range is a CIDR prefix, e.g. 10.0.1.0/24.
	Range string
}

// Action is an enforcement action as the stand-in recorded it.
type Action struct {
	ID        string
	CreatedAt time.Time
}

// StandIns are the outside services a bench desk talks to, served from the bench process.
type StandIns interface {
	// Serve starts the stand-ins on loopback with the accounts and returns the configuration
	// variables that point a desk at them.
	Serve(accounts []Account) (map[string]string, error)
	// Actions lists the account's enforcement actions, oldest first.
	Actions(account string) []Action
	// Close stops them.
	Close()
}

// ProductionTopology is the production topology running for a bench: PostgreSQL, a Temporal
// server on it, worker processes and an ingress (devenv/cluster).
type ProductionTopology interface {
	// Endpoints are the ingress's HTTP base URL and reports API (with its token) and the
	// Temporal frontend.
	Endpoints() config.Endpoints
	// LedgerURL is the desk's ledger database.
	LedgerURL() string
	// Temporal is how a client reaches the topology's Temporal: its frontend with mTLS, and the
	// desks' payload keys.
	Temporal() config.Temporal
	// DeskPIDs are the desk processes' IDs; ServerPIDs those of the Temporal server and the
	// database (whose children count with them).
	DeskPIDs() []int
	ServerPIDs() []int
	// DatabaseBytes is the size of Temporal's databases (persistence and visibility).
	DatabaseBytes(ctx context.Context) (int64, error)
	// Stop stops every process.
	Stop()
}

// Sample is one report of the parse corpus.
type Sample struct {
	Name string
	Raw  []byte
}

// Options are the scenarios' parameters (the flags of `desk bench`) and what they run.
type Options struct {
	// Out is the folder for bench-SCENARIO.json; DataDir the one for the desks' data dirs.
	Out, DataDir string
	// InProcess runs desk dev in this process instead of a child.
	InProcess bool
	// Topology is where the ClusterScenarios run: Embedded ("" too) or Cluster.
	Topology string
	// Log receives progress.
	Log io.Writer

	Reports, Accounts, Naive, Clients int
	Zipf                              float64
	Cases                             int
	Open                              int
	Idle                              time.Duration
	PrecisionCases                    int
	PrecisionRate                     float64
	Deadline                          time.Duration
	// Rows and RowAccounts size the notification scenario: one list of Rows rows about
	// RowAccounts accounts.
	Rows, RowAccounts int
	// Uploads large uploads of UploadMB MiB at once, SlowUploads trickling ones, and a small
	// file system of FileSystemMB MiB size the reliability scenario.
	Uploads, UploadMB, SlowUploads, FileSystemMB int
	// LedgerCases sizes the metrics scenario's ledger.
	LedgerCases int
	// Corpus is the parse scenario's folder of reports ("" for the default).
	Corpus string
	// Profile, when set, is where a 30 s CPU profile of the storm's desk is saved; CPUProfile
	// the file a CPU profile of this process over the whole run goes to.
	Profile, CPUProfile string
	// Set is configuration given to every desk the bench starts; ChildEnv is more environment
	// for the desk processes it starts (a test binary's switch to run as desk).
	Set, ChildEnv map[string]string
	// Version is the desk's build, written into each report.
	Version string
	// Greedy makes the bench's API clients ignore Retry-After: a refused report is sent again
	// at once (the admission scenario sets it for its second run).
	Greedy bool

	// Run runs desk commands in this process (with InProcess, and to provision the stand-in
	// Zendesk); NewStandIns makes the stand-ins for one scenario; LoadCorpus reads the parse
	// corpus (dir "" for the default) and says where it came from; DatabaseFile is the
	// embedded Temporal server's database file name under a data dir.
	Run          RunFunc
	NewStandIns  func() StandIns
	LoadCorpus   func(dir string) ([]Sample, string, error)
	DatabaseFile string
	// StartCluster starts the production topology in dir with the desk configured by vars
	// (the stand-ins', already provisioned) and running the policy file; the cluster topology
	// and the topology scenario need it.
	StartCluster func(ctx context.Context, dir string, vars map[string]string, policyFile string) (ProductionTopology, error)

	// Set by the topology scenario: the storm's naive part and the lifecycle's ledger
	// comparison are left out.
	skipNaive, skipLedger bool
}

// Validate checks the parameters, naming the flag that is wrong.
func (o *Options) Validate() error {
	switch {
	case o.PrecisionRate <= 0:
		return errors.New("--precision-rate must be above 0")
	case o.Zipf <= 1:
		return errors.New("--zipf must be greater than 1")
	case o.Reports < 1 || o.Accounts < 1 || o.Naive < 1 || o.Clients < 1 || o.Cases < 1 || o.Open < 1 || o.PrecisionCases < 1 || o.Rows < 1 || o.RowAccounts < 1 ||
		o.Uploads < 1 || o.UploadMB < 1 || o.SlowUploads < 1 || o.FileSystemMB < 1 || o.LedgerCases < 1:
		return errors.New("counts must be at least 1")
	case o.Run == nil || o.NewStandIns == nil || o.LoadCorpus == nil:
		return errors.New("bench: Run, NewStandIns and LoadCorpus are required")
	case o.Topology != "" && o.Topology != Embedded && o.Topology != Cluster:
		return fmt.Errorf("--topology %q: want %s or %s", o.Topology, Embedded, Cluster)
	case o.Topology == Cluster && o.InProcess:
		return errors.New("--in-process runs desk dev in this process: the cluster topology runs its desks as processes of their own")
	}
	return nil
}

// UseDataDir makes DataDir absolute, and a temporary folder when it is empty, which cleanup
// removes unless keep.
func (o *Options) UseDataDir(keep bool) (cleanup func(), err error) {
	cleanup = func() {}
	if o.DataDir == "" {
		dir, err := os.MkdirTemp("", "desk-bench-")
		if err != nil {
			return cleanup, err
		}
		o.DataDir = dir
		if !keep {
			cleanup = func() { _ = os.RemoveAll(dir) }
		}
	}
	abs, err := filepath.Abs(o.DataDir)
	if err != nil {
		return cleanup, err
	}
	o.DataDir = abs
	return cleanup, nil
}

// Run runs the scenarios in order, prints each one's table to stdout and writes its JSON to
// o.Out. It stops at the first scenario that fails (its JSON says why).
func Run(ctx context.Context, o Options, scenarios []string, stdout io.Writer) error {
	if err := o.Validate(); err != nil {
		return err
	}
	for _, s := range scenarios {
		if !slices.Contains(Scenarios, s) {
			return fmt.Errorf("unknown scenario %q (want %s or all)", s, strings.Join(Scenarios, ", "))
		}
		if o.Topology == Cluster && !slices.Contains(ClusterScenarios, s) {
			return fmt.Errorf("scenario %s runs on the embedded default only (on the cluster: %s)", s, strings.Join(ClusterScenarios, ", "))
		}
		if (o.Topology == Cluster || s == "topology") && o.StartCluster == nil {
			return fmt.Errorf("scenario %s on the cluster: bench.Options.StartCluster is not set", s)
		}
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return err
	}
	if o.CPUProfile != "" {
		f, err := os.Create(o.CPUProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer func() { pprof.StopCPUProfile(); _ = f.Close() }()
	}
	for _, s := range scenarios {
		r := newReport(s, o.Version)
		if len(o.Set) > 0 {
			r.Params["set"] = o.Set
		}
		if o.Topology == Cluster {
			r.Params["topology"] = Cluster
		}
		fmt.Fprintf(o.Log, "== bench %s\n", s)
		var err error
		switch s {
		case "parse":
			err = benchParse(&o, r)
		case "storm":
			err = benchStorm(ctx, &o, r)
		case "lifecycle":
			err = benchLifecycle(ctx, &o, r)
		case "precision":
			err = benchPrecision(ctx, &o, r)
		case "capacity":
			err = benchCapacity(ctx, &o, r)
		case "notification":
			err = benchNotification(ctx, &o, r)
		case "admission":
			err = benchAdmission(ctx, &o, r)
		case "metrics":
			err = benchMetrics(ctx, &o, r)
		case "reliability":
			err = benchReliability(ctx, &o, r)
		case "topology":
			err = benchTopology(ctx, &o, r)
		}
		r.Duration = time.Since(r.Started).Round(time.Second).String()
		if err != nil {
			r.Error = err.Error()
		}
		r.print(stdout)
		path := filepath.Join(o.Out, "bench-"+s+".json")
		if werr := r.write(path); werr != nil {
			return werr
		}
		fmt.Fprintf(stdout, "written to %s\n\n", path)
		if err != nil {
			return fmt.Errorf("bench %s: %w", s, err)
		}
	}
	return nil
}
