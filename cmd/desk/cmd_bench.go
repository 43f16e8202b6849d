package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"abusedesk/devenv/demo"
	"abusedesk/integrations/reports"
	"abusedesk/internal/config"
)

// benchScenarios are the scenarios of `desk bench`, in the order `all` runs them.
var benchScenarios = []string{"parse", "storm", "lifecycle", "precision", "capacity"}

// benchOptions are the flags of `desk bench`.
type benchOptions struct {
	out       string
	dataDir   string
	keep      bool
	inProcess bool
	log       io.Writer

	reports, accounts, naive, clients int
	zipf                              float64
	cases                             int
	open                              int
	idle                              time.Duration
	precisionCases                    int
	precisionRate                     float64
	deadline                          time.Duration
	corpus                            string
	profile                           string
	// set is configuration given to every desk the bench starts (--set NAME=VALUE).
	set map[string]string
}

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
             the ratio (abusedesk's overhead over Temporal's)
  precision  --precision-cases cases, opened --precision-rate a second, whose --deadline falls
             while a storm runs: how late the enforcement request reaches the enforcement API
             behind each deadline, p50/p99/max, and where the time went
  capacity   --open cases opened through intake → ticket → notice, left waiting on long
             deadlines: open rate, RSS, database bytes per case, idle CPU, restart time
  all        every scenario above

Targets (2-core machine): storm ≥ 1,000 reports/s and ≥ 20× naive; lifecycle ≤ 1.25× bare;
capacity ≤ 1 GiB RSS, ≤ 40 KB/case, restart ≤ 5 s; precision p99 ≤ 2 s; parse ≥ 10,000/s.
docs/benchmarks.md has the latest figures.`)
	var o benchOptions
	fs.StringVar(&o.out, "out", ".", "directory for bench-SCENARIO.json")
	fs.StringVar(&o.dataDir, "data-dir", "", "directory for the desks' data dirs (default a temporary one, removed afterwards)")
	fs.BoolVar(&o.keep, "keep", false, "keep the data dirs (and the desks' logs) afterwards")
	fs.BoolVar(&o.inProcess, "in-process", false, "run desk dev inside this process instead of a child (RSS, CPU and restart then describe the whole process)")
	fs.IntVar(&o.reports, "reports", 100_000, "storm: reports posted")
	fs.IntVar(&o.accounts, "accounts", 1_000, "storm: accounts they are about")
	fs.Float64Var(&o.zipf, "zipf", 1.1, "storm: skew of reports over accounts (Zipf s > 1; higher: fewer accounts get more)")
	fs.IntVar(&o.naive, "naive", 2_000, "storm: reports posted with batching off, for the ratio")
	fs.IntVar(&o.clients, "clients", 256, "storm, precision, capacity: concurrent API clients")
	fs.IntVar(&o.cases, "cases", 500, "lifecycle: cases")
	fs.IntVar(&o.open, "open", 20_000, "capacity: open cases")
	fs.DurationVar(&o.idle, "idle", 30*time.Second, "capacity: how long idle CPU is measured")
	fs.IntVar(&o.precisionCases, "precision-cases", 300, "precision: cases whose deadline falls during the storm")
	fs.Float64Var(&o.precisionRate, "precision-rate", 10, "precision: cases opened per second, so as many deadlines fall each second during the storm")
	fs.DurationVar(&o.deadline, "deadline", 20*time.Second, "precision: the cases' response window")
	fs.StringVar(&o.profile, "profile", "", "storm: save a 30 s CPU profile of the desk under the storm to this folder (desk-storm.pprof)")
	o.set = map[string]string{}
	fs.Func("set", "NAME=VALUE: configuration for the desks the bench starts (repeatable), e.g. --set DESK_BATCH_CONCURRENCY=4", func(v string) error {
		name, value, ok := strings.Cut(v, "=")
		if !ok || !slices.ContainsFunc(config.Vars, func(cv config.Var) bool { return cv.Name == name }) {
			return fmt.Errorf("%q: want NAME=VALUE with NAME one of `desk help env`", v)
		}
		o.set[name] = value
		return nil
	})
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of this process to the file (with --in-process it covers the desk too)")
	fs.StringVar(&o.corpus, "corpus", "", "parse: folder of .eml/.json reports (default ../shared/corpus, else the parser's fixtures, else the demo samples)")
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
		return usageError{"bench needs a scenario: " + strings.Join(benchScenarios, ", ") + " or all"}
	}
	if slices.Contains(which, "all") {
		which = benchScenarios
	}
	for _, s := range which {
		if !slices.Contains(benchScenarios, s) {
			return usageError{fmt.Sprintf("unknown scenario %q (want %s or all)", s, strings.Join(benchScenarios, ", "))}
		}
	}
	if o.precisionRate <= 0 {
		return usageError{"--precision-rate must be above 0"}
	}
	if o.zipf <= 1 {
		return usageError{"--zipf must be greater than 1"}
	}
	if o.reports < 1 || o.accounts < 1 || o.naive < 1 || o.clients < 1 || o.cases < 1 || o.open < 1 || o.precisionCases < 1 {
		return usageError{"counts must be at least 1"}
	}
	if o.dataDir == "" {
		dir, err := os.MkdirTemp("", "desk-bench-")
		if err != nil {
			return err
		}
		o.dataDir = dir
		if !o.keep {
			defer func() { _ = os.RemoveAll(dir) }()
		}
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	o.log = e.stderr
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer func() { pprof.StopCPUProfile(); _ = f.Close() }()
	}
	for _, s := range which {
		r := newBenchReport(s)
		if len(o.set) > 0 {
			r.Params["set"] = o.set
		}
		fmt.Fprintf(e.stderr, "== bench %s\n", s)
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
		}
		r.Duration = time.Since(r.Started).Round(time.Second).String()
		if err != nil {
			r.Error = err.Error()
		}
		r.print(e.stdout)
		path := filepath.Join(o.out, "bench-"+s+".json")
		if werr := r.write(path); werr != nil {
			return werr
		}
		fmt.Fprintf(e.stdout, "written to %s\n\n", path)
		if err != nil {
			return fmt.Errorf("bench %s: %w", s, err)
		}
	}
	return nil
}

// benchReport is what one scenario measured, as printed and written to JSON.
type benchReport struct {
	Scenario string         `json:"scenario"`
	Version  string         `json:"version"`
	Started  time.Time      `json:"started"`
	Duration string         `json:"duration"`
	Machine  benchMachine   `json:"machine"`
	Params   map[string]any `json:"params"`
	Figures  []benchFigure  `json:"figures"`
	Notes    []string       `json:"notes,omitempty"`
	Error    string         `json:"error,omitempty"`
}

// benchFigure is one measured value, with its target where the issue sets one.
type benchFigure struct {
	Name   string  `json:"name"`
	Value  float64 `json:"value"`
	Unit   string  `json:"unit"`
	Target string  `json:"target,omitempty"`
	Met    *bool   `json:"met,omitempty"`
}

type benchMachine struct {
	CPUs      int     `json:"cpus"`
	CPU       string  `json:"cpu"`
	MemoryGiB float64 `json:"memory_gib"`
	OS        string  `json:"os"`
	Go        string  `json:"go"`
}

func newBenchReport(scenario string) *benchReport {
	return &benchReport{Scenario: scenario, Version: version, Started: time.Now().UTC(), Machine: machine(), Params: map[string]any{}}
}

// add records a figure without a target.
func (r *benchReport) add(name string, v float64, unit string) {
	r.Figures = append(r.Figures, benchFigure{Name: name, Value: round3(v), Unit: unit})
}

// atLeast records a figure that should be at least target.
func (r *benchReport) atLeast(name string, v float64, unit string, target float64) {
	met := v >= target
	r.Figures = append(r.Figures, benchFigure{Name: name, Value: round3(v), Unit: unit, Target: fmt.Sprintf("≥ %g", target), Met: &met})
}

// atMost records a figure that should be at most target.
func (r *benchReport) atMost(name string, v float64, unit string, target float64) {
	met := v <= target
	r.Figures = append(r.Figures, benchFigure{Name: name, Value: round3(v), Unit: unit, Target: fmt.Sprintf("≤ %g", target), Met: &met})
}

func (r *benchReport) note(format string, args ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

func round3(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return math.Round(v*1000) / 1000
}

func (r *benchReport) print(w io.Writer) {
	fmt.Fprintf(w, "\nbench %s (%s, %d CPUs, %s)\n", r.Scenario, r.Duration, r.Machine.CPUs, r.Machine.CPU)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "figure\tvalue\tunit\ttarget\t")
	for _, f := range r.Figures {
		verdict := ""
		if f.Met != nil {
			verdict = "met"
			if !*f.Met {
				verdict = "MISSED"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s %s\t\n", f.Name, formatFigure(f.Value), f.Unit, f.Target, verdict)
	}
	_ = tw.Flush()
	for _, n := range r.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
	if r.Error != "" {
		fmt.Fprintf(w, "  error: %s\n", r.Error)
	}
}

func formatFigure(v float64) string {
	switch {
	case v == math.Trunc(v) && math.Abs(v) < 1e12:
		return fmt.Sprintf("%d", int64(v))
	case math.Abs(v) >= 100:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.3f", v)
	}
}

func (r *benchReport) write(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// machine describes where the bench ran.
func machine() benchMachine {
	m := benchMachine{CPUs: runtime.NumCPU(), OS: runtime.GOOS + "/" + runtime.GOARCH, Go: runtime.Version()}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
		_ = f.Close()
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb float64
		if _, err := fmt.Sscanf(string(b), "MemTotal: %f kB", &kb); err == nil {
			m.MemoryGiB = math.Round(kb/1024/1024*10) / 10
		}
	}
	return m
}

// benchParse measures the parser on one core: reports/s and allocations per report.
func benchParse(o *benchOptions, r *benchReport) error {
	samples, source, err := parseCorpus(o.corpus)
	if err != nil {
		return err
	}
	r.Params["corpus"], r.Params["files"] = source, len(samples)
	p := reports.New(reports.Options{})
	reportsPerPass := 0
	for _, s := range samples {
		reportsPerPass += max(1, len(p.Parse(s.Raw).Reports))
	}
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	old := debug.SetGCPercent(100)
	defer debug.SetGCPercent(old)
	// Five rounds of Go's benchmark timer (about a second each), the median reported: on a
	// shared machine one round can be a quarter off.
	const rounds = 5
	var results []testing.BenchmarkResult
	for range rounds {
		results = append(results, testing.Benchmark(func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				for _, s := range samples {
					p.Parse(s.Raw)
				}
			}
		}))
	}
	perPass := func(res testing.BenchmarkResult) float64 { return float64(res.T.Nanoseconds()) / float64(res.N) }
	slices.SortFunc(results, func(a, b testing.BenchmarkResult) int { return cmp.Compare(perPass(a), perPass(b)) })
	res := results[rounds/2]
	msgs := float64(len(samples))
	r.atLeast("messages parsed per second (one core), median of 5", msgs/(perPass(res)/1e9), "messages/s", 10_000)
	r.add("slowest round", msgs/(perPass(results[rounds-1])/1e9), "messages/s")
	r.add("fastest round", msgs/(perPass(results[0])/1e9), "messages/s")
	r.add("reports parsed per second (one core), median", float64(reportsPerPass)/(perPass(res)/1e9), "reports/s")
	r.add("allocations per message", float64(res.AllocsPerOp())/msgs, "allocs")
	r.add("bytes allocated per message", float64(res.AllocedBytesPerOp())/msgs, "B")
	r.note("%d rounds of about %d passes over %d files (%s); a multi-report notification counts once in messages/s", rounds, res.N, len(samples), source)
	return nil
}

// parseCorpus finds the reports to parse: the given folder, else the shared corpus, else the
// parser's fixtures (both when run from the repository), else the embedded demo samples.
func parseCorpus(dir string) ([]demo.Sample, string, error) {
	if dir != "" {
		s, err := demo.LoadDir(dir)
		return s, dir, err
	}
	for _, d := range []string{"../shared/corpus", "integrations/reports/testdata"} {
		if s, err := demo.LoadDir(d); err == nil {
			return s, d, nil
		}
	}
	return demo.Samples(), "the embedded demo samples", nil
}
