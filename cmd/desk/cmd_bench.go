//go:build !nodev

package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"abusedesk/devenv/bench"
	"abusedesk/devenv/cluster"
	"abusedesk/devenv/devserver"
	"abusedesk/devenv/sandbox"
	"abusedesk/platform/config"
)

func cmdBench(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "bench", "bench [flags] SCENARIO...", `
Measures abusedesk on the embedded default: each scenario starts `+"`desk dev`"+` (this binary, as
a child process) on a fresh data dir under --data-dir, with stand-ins for Zendesk, Slack and
the enforcement API served from this process (so the child's memory and CPU are the desk's
own), drives it, prints a table and writes bench-SCENARIO.json to --out.

Scenarios:
  parse      parser reports/s on one core and allocations per report over a corpus
  storm      --reports reports over --accounts accounts (Zipf-skewed) posted to the reports
             API by --clients clients: reports/s accepted, time until every report is counted
             in its case, workflow tasks used; then --naive reports with batching off (one
             SignalWithStart each) on a fresh desk, and the ratio of the two rates
  lifecycle  --cases cases through notice → deadline (1 s) → auto-enforce → close: cases/s and
             p50/p99 per case; then a bare workflow with the same activities and timers, and
             the ratio (abusedesk's overhead over Temporal's); and what the case ledger costs:
             the same cases on a desk that keeps none (DESK_LEDGER_URL=off), in rounds
             alternating with the other desk, and the bare workflow with and without the
             ledger's local activities side by side
  precision  --precision-cases cases, opened --precision-rate a second, whose --deadline falls
             while a storm runs: how late the enforcement request reaches the enforcement API
             behind each deadline, p50/p99/max, and where the time went
  capacity   --open cases opened through intake → ticket → notice, left waiting on long
             deadlines: open rate, RSS, database bytes per case, idle CPU, restart time
  notification  one zipped CSV notification of --rows rows about --row-accounts accounts
             posted to the reports API: time until it is accepted (every row parsed and
             resolved), then until each account's one case counts its rows
  admission  precision twice: API clients that wait the Retry-After of a refused report, then
             clients that send it again at once; the storm's useful throughput in each
  metrics    a SQLite ledger of --ledger-cases cases over a year: how long the operations
             figures and the /operations page take over all of them, against reading the rows
  reliability  the desk under faults, each part ending in exact counts (lost, counted twice):
             kill -9 mid storm (--reports reports) and a start again; a storm on a small file
             system (--fs-mb; a tmpfs, needs root, skipped otherwise) that fills up, is freed
             and then kill -9; --uploads uploads of --upload-mb MiB at once against
             DESK_MEMORY_LIMIT (peak RSS); --slow-uploads uploads trickling a byte a second
             (answers, descriptors held, an ordinary report still taken); after kill -9 the
             ledger must sum every account's reports as its cases count them (after the full
             disk, how far it is behind is reported). Desks always run as child processes here
  topology   storm, lifecycle and precision on the embedded default, then on the production
             topology (as desk cluster runs it: PostgreSQL, the Temporal server built from the
             module graph, two worker processes and an ingress; needs Debian's postgresql
             package and the abusedesk module), and their figures side by side: cluster ÷
             embedded, from the same run. Sized by the same flags as the three scenarios
  all        every scenario above

--topology cluster runs storm, lifecycle, precision and admission on the production
topology alone (the storm's naive part on a fresh cluster; the lifecycle without its ledger
comparison, which would need a second cluster).

Targets (2-core machine): storm ≥ 1,000 reports/s and ≥ 20× naive; lifecycle ≤ 1.25× bare;
capacity ≤ 1 GiB RSS, ≤ 40 KB/case, restart ≤ 5 s; precision p99 ≤ 2 s; parse ≥ 10,000/s;
notification accepted ≤ 10 s; topology: precision p99 ≤ 2 s on the cluster; admission: greedy clients keep ≥ 0.5× the obedient throughput;
reliability: 0 lost, 0 counted twice, peak RSS ≤ 1.25 × DESK_MEMORY_LIMIT.
docs/benchmarks.md has the latest figures.`)
	o := bench.Options{Set: map[string]string{}, Run: run, NewStandIns: sandbox.NewBenchStandIns, LoadCorpus: sandbox.BenchCorpus,
		DatabaseFile: devserver.DatabaseFile, Version: version, Log: e.stderr}
	var keep bool
	fs.StringVar(&o.Out, "out", ".", "directory for bench-SCENARIO.json")
	fs.StringVar(&o.DataDir, "data-dir", "", "directory for the desks' data dirs (default a temporary one, removed afterwards)")
	fs.BoolVar(&keep, "keep", false, "keep the data dirs (and the desks' logs) afterwards")
	fs.StringVar(&o.Topology, "topology", bench.Embedded, "where storm, lifecycle, precision and admission run: embedded (desk dev) or cluster (the production topology)")
	fs.BoolVar(&o.InProcess, "in-process", false, "run desk dev inside this process instead of a child (RSS, CPU and restart then describe the whole process)")
	fs.IntVar(&o.Reports, "reports", 100_000, "storm: reports posted")
	fs.IntVar(&o.Accounts, "accounts", 1_000, "storm: accounts they are about")
	fs.Float64Var(&o.Zipf, "zipf", 1.1, "storm: skew of reports over accounts (Zipf s > 1; higher: fewer accounts get more)")
	fs.IntVar(&o.Naive, "naive", 2_000, "storm: reports posted with batching off, for the ratio")
	fs.IntVar(&o.Clients, "clients", 256, "storm, precision, capacity: concurrent API clients")
	fs.IntVar(&o.Cases, "cases", 500, "lifecycle: cases")
	fs.IntVar(&o.Open, "open", 20_000, "capacity: open cases")
	fs.DurationVar(&o.Idle, "idle", 30*time.Second, "capacity: how long idle CPU is measured")
	fs.IntVar(&o.PrecisionCases, "precision-cases", 300, "precision: cases whose deadline falls during the storm")
	fs.Float64Var(&o.PrecisionRate, "precision-rate", 10, "precision: cases opened per second, so as many deadlines fall each second during the storm")
	fs.DurationVar(&o.Deadline, "deadline", 20*time.Second, "precision: the cases' response window")
	fs.IntVar(&o.Rows, "rows", 50_000, "notification: rows in the one notification")
	fs.IntVar(&o.RowAccounts, "row-accounts", 5_000, "notification: accounts the rows are about")
	fs.IntVar(&o.LedgerCases, "ledger-cases", 100_000, "metrics: cases in the ledger the operations figures are computed over")
	fs.IntVar(&o.Uploads, "uploads", 64, "reliability: large uploads sent at once")
	fs.IntVar(&o.UploadMB, "upload-mb", 25, "reliability: size of each large upload, MiB")
	fs.IntVar(&o.SlowUploads, "slow-uploads", 2_000, "reliability: uploads whose bodies trickle in, a byte a second")
	fs.IntVar(&o.FileSystemMB, "fs-mb", 256, "reliability: size of the small file system (a tmpfs; needs root) that fills up mid storm, MiB")
	fs.StringVar(&o.Profile, "profile", "", "storm: save a 30 s CPU profile of the desk under the storm to this folder (desk-storm.pprof)")
	fs.Func("set", "NAME=VALUE: configuration for the desks the bench starts (repeatable), e.g. --set DESK_BATCH_CONCURRENCY=4", func(v string) error {
		name, value, ok := strings.Cut(v, "=")
		if !ok || !slices.ContainsFunc(config.Vars, func(cv config.Var) bool { return cv.Name == name }) {
			return fmt.Errorf("%q: want NAME=VALUE with NAME one of `desk help env`", v)
		}
		o.Set[name] = value
		return nil
	})
	fs.StringVar(&o.CPUProfile, "cpuprofile", "", "write a CPU profile of this process to the file (with --in-process it covers the desk too)")
	fs.StringVar(&o.Corpus, "corpus", "", "parse: folder of .eml/.json reports (default ../shared/corpus, else the parser's fixtures, else the demo samples)")
	// Scenarios and flags may come in any order.
	var which []string
	for {
		if err := parse(e, fs, args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		which, args = append(which, fs.Arg(0)), fs.Args()[1:]
	}
	if len(which) == 0 {
		fs.Usage()
		return usageError{"bench needs a scenario: " + strings.Join(bench.Scenarios, ", ") + " or all"}
	}
	if slices.Contains(which, "all") {
		which = bench.Scenarios
	}
	for _, s := range which {
		if !slices.Contains(bench.Scenarios, s) {
			return usageError{fmt.Sprintf("unknown scenario %q (want %s or all)", s, strings.Join(bench.Scenarios, ", "))}
		}
	}
	if err := o.Validate(); err != nil {
		return usageError{err.Error()}
	}
	cleanup, err := o.UseDataDir(keep)
	if err != nil {
		return err
	}
	defer cleanup()
	o.StartCluster = cluster.ForBench(nil, nil, filepath.Join(o.DataDir, "cluster-bin"), slog.New(slog.NewTextHandler(e.stderr, nil)))
	return bench.Run(ctx, o, which, e.stdout)
}
