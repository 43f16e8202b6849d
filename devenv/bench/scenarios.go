package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"abusedesk/app/ledger"
	"abusedesk/domain/abuse"
	"abusedesk/domain/policy"
	"abusedesk/workflows"
)

const caseQuery = "WorkflowType = '" + workflows.CaseWorkflowType + "'"

// benchStorm: a storm through the reports API, then the naive path for the ratio.
func benchStorm(ctx context.Context, o *Options, r *Report) error {
	r.Params["reports"], r.Params["accounts"], r.Params["zipf_s"], r.Params["clients"], r.Params["naive_reports"] = o.Reports, o.Accounts, o.Zipf, o.Clients, o.Naive
	dir := filepath.Join(o.DataDir, "storm")
	env, err := newBenchEnv(ctx, o, dir, o.Accounts, nil)
	if err != nil {
		return err
	}
	defer env.close()
	d, profiled, err := env.startProfiled(ctx, filepath.Join(dir, "batched"), "storm")
	if err != nil {
		return err
	}
	defer func() { _, _ = d.stop() }()
	defer profiled()

	plan := stormPlan(o.Reports, o.Accounts, o.Zipf, 1)
	expect := map[string]int64{}
	for _, a := range plan {
		expect[benchAccount(a)]++
	}
	top := 0
	for _, n := range expect {
		top = max(top, int(n))
	}
	r.note("%d of %d accounts got reports; the busiest got %d", len(expect), o.Accounts, top)
	at := time.Now().UTC()
	cpu0, server0 := d.cpu(), d.serverCPU()
	fmt.Fprintf(o.Log, "posting %d reports with %d clients\n", o.Reports, o.Clients)
	res := d.post(ctx, o.Reports, o.Clients, func(i int) []byte { return benchMail(i, benchIP(plan[i], i), at) }, nil)
	if res.accepted != int64(o.Reports) {
		return fmt.Errorf("%d of %d reports accepted: %v", res.accepted, o.Reports, res.failures)
	}
	r.atLeast("reports accepted per second", res.rate(), "reports/s", 1000)
	r.add("API retries (503)", float64(res.retries), "requests")

	counts, counted, err := waitCounted(ctx, d, o.Reports, res.first)
	if err != nil {
		return err
	}
	r.add("time until every report is counted in its case", counted.Seconds(), "s")
	r.add("reports into their cases per second (end to end)", float64(o.Reports)/counted.Seconds(), "reports/s")
	wrong := 0
	for acct, n := range expect {
		if counts[acct] != n {
			wrong++
		}
	}
	r.add("cases whose count differs from the reports sent", float64(wrong), "cases")
	if wrong > 0 || len(counts) != len(expect) {
		return fmt.Errorf("%d cases hold a wrong count (%d cases for %d accounts)", wrong, len(counts), len(expect))
	}
	r.add("desk CPU during the storm", (d.cpu() - cpu0).Seconds(), "CPU-s")
	if d.cluster != nil {
		r.add("Temporal server and PostgreSQL CPU during the storm", (d.serverCPU() - server0).Seconds(), "CPU-s")
	}
	hs, err := d.historyStats(ctx, caseQuery)
	if err != nil {
		return err
	}
	batches := d.metric("desk_intake_batches_total")
	r.add("cases", float64(len(counts)), "cases")
	r.add("batches delivered (SignalWithStart)", batches, "batches")
	r.add("workflow tasks used", float64(hs.workflowTasks), "tasks")
	r.add("workflow tasks per 1,000 reports", float64(hs.workflowTasks)*1000/float64(o.Reports), "tasks")
	r.add("history per case", float64(hs.bytes)/float64(max(1, len(counts))), "B")
	r.add("runs (continue-as-new included)", float64(hs.runs), "runs")
	if _, err := d.stop(); err != nil {
		return err
	}
	if o.skipNaive {
		return nil
	}

	// The naive path: one SignalWithStart per report, on a fresh desk.
	n, err := env.startDesk(ctx, filepath.Join(dir, "naive"), map[string]string{"DESK_BATCH_MAX": "1", "DESK_BATCH_WINDOW": "0"})
	if err != nil {
		return err
	}
	defer func() { _, _ = n.stop() }()
	nplan := stormPlan(o.Naive, o.Accounts, o.Zipf, 2)
	fmt.Fprintf(o.Log, "posting %d reports, one SignalWithStart each\n", o.Naive)
	nres := n.post(ctx, o.Naive, o.Clients, func(i int) []byte { return benchMail(o.Reports+i, benchIP(nplan[i], i), at) }, nil)
	if nres.accepted != int64(o.Naive) {
		return fmt.Errorf("naive: %d of %d reports accepted: %v", nres.accepted, o.Naive, nres.failures)
	}
	_, ncounted, err := waitCounted(ctx, n, o.Naive, nres.first)
	if err != nil {
		return fmt.Errorf("naive: %w", err)
	}
	nhs, err := n.historyStats(ctx, caseQuery)
	if err != nil {
		return err
	}
	naiveRate := float64(o.Naive) / ncounted.Seconds()
	r.add("naive: reports into their cases per second (end to end)", naiveRate, "reports/s")
	r.add("naive: SignalWithStart calls", n.metric("desk_intake_batches_total"), "calls")
	r.add("naive: workflow tasks per 1,000 reports", float64(nhs.workflowTasks)*1000/float64(o.Naive), "tasks")
	r.atLeast("batched ÷ naive, end-to-end rate", float64(o.Reports)/counted.Seconds()/naiveRate, "×", 20)
	return nil
}

// waitCounted waits until the running cases count n reports in all and returns the counts
// per account and the time since start.
func waitCounted(ctx context.Context, d *benchDesk, n int, start time.Time) (map[string]int64, time.Duration, error) {
	var counts map[string]int64
	err := waitFor(ctx, 30*time.Minute, 250*time.Millisecond, func() (bool, error) {
		c, err := d.caseCounts(ctx, "ExecutionStatus = 'Running'")
		if err != nil {
			return false, err
		}
		counts = c
		return sum(c) >= int64(n), nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("waiting for every report to be counted (%d of %d): %w", sum(counts), n, err)
	}
	return counts, time.Since(start), nil
}

func sum(m map[string]int64) int64 {
	var s int64
	for _, v := range m {
		s += v
	}
	return s
}

// lifecyclePolicy makes a case go notice → 1 s deadline → auto-enforce → 1 s appeal window → close.
var lifecyclePolicy = map[string]string{
	"response_window: 72h":  "response_window: 1s",
	"reminders: [24h, 48h]": "reminders: []",
	"window: 14d":           "window: 1s",
	"reminders: [24h]\n":    "reminders: []\n",
}

// benchLifecycle: N cases through their whole life, then a bare workflow of the same shape.
// The same cases also run on a desk that keeps no ledger, in rounds alternating with the desk
// that keeps one (so that a machine's drift falls on both), and the bare workflow runs with and
// without the ledger's local activities side by side: what the ledger costs.
func benchLifecycle(ctx context.Context, o *Options, r *Report) error {
	r.Params["cases"] = o.Cases
	dir := filepath.Join(o.DataDir, "lifecycle")
	env, err := newBenchEnv(ctx, o, dir, 2*o.Cases, lifecyclePolicy)
	if err != nil {
		return err
	}
	defer env.close()
	p, err := policy.Load(env.policyPath)
	if err != nil {
		return err
	}
	snap := p.Snapshot(abuse.Spam)

	type side struct {
		d      *benchDesk
		prefix string
		acc    *lifecycleRun
	}
	var onRun, offRun lifecycleRun
	var sides []side
	if !o.skipLedger {
		off, err := env.startDesk(ctx, filepath.Join(dir, "desk-no-ledger"), map[string]string{"DESK_LEDGER_URL": "off"})
		if err != nil {
			return err
		}
		defer func() { _, _ = off.stop() }()
		sides = append(sides, side{off, "plain", &offRun})
	}
	d, err := env.startDesk(ctx, filepath.Join(dir, "desk"), nil)
	if err != nil {
		return err
	}
	defer func() { _, _ = d.stop() }()
	sides = append(sides, side{d, "life", &onRun})
	rounds := lifecycleRounds(o.Cases)
	server0 := d.serverCPU()
	db0, _ := d.databaseBytes(ctx)
	for k := range rounds {
		from, n := k*o.Cases/rounds, (k+1)*o.Cases/rounds-k*o.Cases/rounds
		for _, side := range sides {
			fmt.Fprintf(o.Log, "round %d of %d: %d cases (%s)\n", k+1, rounds, n, side.prefix)
			run, err := lifecycleCases(ctx, env, side.d, snap, side.prefix, from, n)
			if err != nil {
				return fmt.Errorf("%s, round %d: %w", side.prefix, k+1, err)
			}
			side.acc.elapsed += run.elapsed
			side.acc.cpu += run.cpu
		}
	}
	serverCPU := d.serverCPU() - server0
	db1, dbErr := d.databaseBytes(ctx)
	if !o.skipLedger {
		_, _ = sides[0].d.stop()
	}
	desk, err := closedTimes(ctx, d, caseQuery, o.Cases)
	if err != nil {
		return err
	}
	closed, err := d.caseSummaries(ctx, "ExecutionStatus != 'Running'")
	if err != nil {
		return err
	}
	enforced := 0
	for _, s := range closed {
		if len(env.standIns.Actions(s.Account)) > 0 {
			enforced++
		}
	}
	if enforced != o.Cases {
		return fmt.Errorf("%d of %d cases were enforced", enforced, o.Cases)
	}
	shape, err := caseShape(ctx, d, closed[0].CaseID, closed[0].RunID)
	if err != nil {
		return err
	}
	kept, err := ledgerCases(ctx, d)
	if err != nil {
		return err
	}
	if kept != o.Cases {
		return fmt.Errorf("the ledger closed %d of %d cases", kept, o.Cases)
	}
	r.note("a case ran %s", shape)
	// The cases ran in rounds: their rate is over the time the rounds took, not from the first
	// start to the last close (the other desk's rounds fell between).
	deskPerCase := onRun.elapsed.Seconds() / float64(o.Cases)
	r.add("abusedesk: cases per second", 1/deskPerCase, "cases/s")
	r.add("abusedesk: time per case (elapsed ÷ cases)", deskPerCase, "s")
	r.add("abusedesk: p50 case duration", desk.p(50).Seconds(), "s")
	r.add("abusedesk: p99 case duration", desk.p(99).Seconds(), "s")
	r.add("abusedesk: desk CPU per case", onRun.cpu.Seconds()/float64(o.Cases), "s")
	if d.cluster != nil {
		r.add("abusedesk: Temporal server and PostgreSQL CPU per case", serverCPU.Seconds()/float64(o.Cases), "s")
		if dbErr == nil && db0 > 0 {
			r.add("abusedesk: Temporal's PostgreSQL databases grew per case", float64(db1-db0)/float64(o.Cases), "B")
		}
	}

	// The bare workflow: the same activities (doing nothing) and timers, on the same server.
	w := worker.New(d.tc, "bench-bare", worker.Options{})
	w.RegisterWorkflowWithOptions(benchBare, workflow.RegisterOptions{Name: "BenchBare"})
	w.RegisterActivityWithOptions(benchNoop, activityName("BenchNoop"))
	if err := w.Start(); err != nil {
		return err
	}
	defer w.Stop()
	// In the same rounds as the cases, so that the two compare.
	fmt.Fprintf(o.Log, "running %d bare workflows\n", o.Cases)
	var bareElapsed time.Duration
	for k := range rounds {
		from, n := k*o.Cases/rounds, (k+1)*o.Cases/rounds-k*o.Cases/rounds
		took, err := round(ctx, d, "WorkflowType = 'BenchBare'", from, n, func(i int) error {
			_, err := d.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: fmt.Sprintf("bare-%d", from+i), TaskQueue: "bench-bare"}, "BenchBare", shape)
			return err
		})
		if err != nil {
			return fmt.Errorf("bare, round %d: %w", k+1, err)
		}
		bareElapsed += took
	}
	bare, err := closedTimes(ctx, d, "WorkflowType = 'BenchBare'", o.Cases)
	if err != nil {
		return err
	}
	barePerCase := bareElapsed.Seconds() / float64(o.Cases)
	r.add("bare: cases per second", 1/barePerCase, "cases/s")
	r.add("bare: time per case (elapsed ÷ cases)", barePerCase, "s")
	r.add("bare: p50 duration", bare.p(50).Seconds(), "s")
	r.add("bare: p99 duration", bare.p(99).Seconds(), "s")
	r.atMost("overhead: time per case, abusedesk ÷ bare", deskPerCase/barePerCase, "×", 1.25)
	r.add("overhead: p50 duration, abusedesk ÷ bare", desk.p(50).Seconds()/bare.p(50).Seconds(), "×")
	if o.skipLedger {
		return nil
	}

	// What the ledger costs: its writes (the desk with ÷ without it; without it the case still
	// calls the local activity, which then writes nothing), and its local activities (the bare
	// workflow with ÷ without them).
	// Elapsed time per case, summed over the rounds of each desk; CPU time per case measures
	// the writes more steadily on a busy machine.
	perCase := func(d time.Duration) float64 { return d.Seconds() / float64(o.Cases) }
	r.add("ledger off: time per case", perCase(offRun.elapsed), "s")
	r.add("ledger: time per case", perCase(onRun.elapsed), "s")
	r.add("ledger: time per case, with ÷ without its writes", onRun.elapsed.Seconds()/offRun.elapsed.Seconds(), "×")
	r.add("ledger off: desk CPU per case", perCase(offRun.cpu), "s")
	r.add("ledger: desk CPU per case", perCase(onRun.cpu), "s")
	writes := onRun.cpu.Seconds() / offRun.cpu.Seconds()
	r.add("ledger: desk CPU per case, with ÷ without its writes", writes, "×")
	// The local activities: bare workflows with and without them, started alternately so both
	// run under the same load; their median durations compare.
	lean := shape.withoutLedger()
	fmt.Fprintf(o.Log, "running %d bare workflows with and %d without the ledger's local activities, side by side\n", o.Cases, o.Cases)
	err = parallel(ctx, 2*o.Cases, 32, func(i int) error {
		id, s := fmt.Sprintf("mix-full-%d", i/2), shape
		if i%2 == 1 {
			id, s = fmt.Sprintf("mix-lean-%d", i/2), lean
		}
		_, err := d.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: "bench-bare"}, "BenchBare", s)
		return err
	})
	if err != nil {
		return err
	}
	full, err := closedTimes(ctx, d, "WorkflowType = 'BenchBare' AND WorkflowId STARTS_WITH 'mix-full-'", o.Cases)
	if err != nil {
		return err
	}
	bareLean, err := closedTimes(ctx, d, "WorkflowType = 'BenchBare' AND WorkflowId STARTS_WITH 'mix-lean-'", o.Cases)
	if err != nil {
		return err
	}
	calls := full.p(50).Seconds() / bareLean.p(50).Seconds()
	r.note("the ledger's local activities: %d of the case's %d steps", len(shape)-len(lean), len(shape))
	r.add("ledger: bare p50 duration, with ÷ without its local activities (side by side)", calls, "×")
	// The bare workflow does less per step than a case, so the same local activities are a
	// larger share of its time: the product overstates what they add to a case.
	r.atMost("ledger: added to time per case (writes × local activities)", writes*calls, "×", 1.10)
	return nil
}

// lifecycleRun is how long cases took to run, in wall time and in the desk's CPU time.
type lifecycleRun struct{ elapsed, cpu time.Duration }

// lifecycleCases opens n cases on d (accounts from, …), each with one report, and waits until
// every case on d closed.
// lifecycleRounds is how many rounds the lifecycle's cases run in: four, alternating the desks
// so that a machine's drift falls on each, or fewer for a handful of cases (a round waits for
// its cases' whole lives, seconds however few they are).
func lifecycleRounds(cases int) int {
	return min(4, max(1, cases/4))
}

func lifecycleCases(ctx context.Context, env *benchEnv, d *benchDesk, snap policy.Snapshot, prefix string, from, n int) (lifecycleRun, error) {
	now := time.Now().UTC()
	cpu := d.cpu()
	took, err := round(ctx, d, caseQuery, from, n, func(i int) error {
		acct := benchAccount(from + i)
		_, err := d.cases.Submit(ctx, workflows.CaseWorkflowID(acct, abuse.Spam), workflows.CaseInput{AccountID: acct, Category: abuse.Spam, Policy: snap},
			[]workflows.ReportSummary{{ID: fmt.Sprintf("%s-%d", prefix, from+i), Format: "arf", Category: abuse.Spam, Reporter: "fbl@isp.example",
				ReceivedAt: now, Subjects: []abuse.Subject{{Kind: abuse.SubjectIP, Value: benchIP(from+i, 1)}}, Summary: "bench report"}})
		return err
	})
	if err != nil {
		return lifecycleRun{}, err
	}
	return lifecycleRun{elapsed: took, cpu: d.cpu() - cpu}, nil
}

// round starts n workflows (start(i) for i < n) and waits until from+n of those query selects
// have closed; it returns how long that took.
func round(ctx context.Context, d *benchDesk, query string, from, n int, start func(i int) error) (time.Duration, error) {
	began := time.Now()
	if err := parallel(ctx, n, 32, start); err != nil {
		return 0, err
	}
	if err := waitClosed(ctx, d, query, from+n, 100*time.Millisecond); err != nil {
		return 0, err
	}
	return time.Since(began), nil
}

// waitClosed waits until n workflows of a query have closed, looking every interval.
func waitClosed(ctx context.Context, d *benchDesk, query string, n int, interval time.Duration) error {
	q := query + " AND ExecutionStatus != 'Running'"
	var got int64
	err := waitFor(ctx, 30*time.Minute, interval, func() (bool, error) {
		resp, err := d.tc.CountWorkflow(ctx, countRequest(q))
		if err != nil {
			return false, err
		}
		got = resp.GetCount()
		return got >= int64(n), nil
	})
	if err != nil {
		return fmt.Errorf("%d of %d workflows closed: %w", got, n, err)
	}
	return nil
}

// ledgerCases counts the closed cases in the desk's ledger.
func ledgerCases(ctx context.Context, d *benchDesk) (int, error) {
	l, err := ledger.Open(ctx, d.ledgerURL)
	if err != nil {
		return 0, err
	}
	defer l.Close()
	var n int
	err = l.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM cases WHERE closed_ms IS NOT NULL`).Scan(&n)
	return n, err
}

// runTimes are the start and close times of finished workflows.
type runTimes struct {
	first, last time.Time
	durations   []time.Duration
}

func (t runTimes) p(q float64) time.Duration { return percentile(sortedDurations(t.durations), q) }

// closedTimes waits until n workflows of a query have closed and reads their times.
func closedTimes(ctx context.Context, d *benchDesk, query string, n int) (runTimes, error) {
	if err := waitClosed(ctx, d, query, n, 500*time.Millisecond); err != nil {
		return runTimes{}, err
	}
	closedQ := query + " AND ExecutionStatus != 'Running'"
	var t runTimes
	var token []byte
	for {
		resp, err := d.tc.ListWorkflow(ctx, listRequest(closedQ, token))
		if err != nil {
			return t, err
		}
		for _, e := range resp.Executions {
			if e.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED {
				return t, fmt.Errorf("workflow %s ended %s", e.GetExecution().GetWorkflowId(), e.GetStatus())
			}
			start, end := e.GetStartTime().AsTime(), e.GetCloseTime().AsTime()
			if t.first.IsZero() || start.Before(t.first) {
				t.first = start
			}
			if end.After(t.last) {
				t.last = end
			}
			t.durations = append(t.durations, end.Sub(start))
		}
		if len(resp.NextPageToken) == 0 {
			return t, nil
		}
		token = resp.NextPageToken
	}
}

func countRequest(q string) *workflowservice.CountWorkflowExecutionsRequest {
	return &workflowservice.CountWorkflowExecutionsRequest{Query: q}
}

func listRequest(q string, token []byte) *workflowservice.ListWorkflowExecutionsRequest {
	return &workflowservice.ListWorkflowExecutionsRequest{Query: q, PageSize: 1000, NextPageToken: token}
}

func activityName(name string) activity.RegisterOptions { return activity.RegisterOptions{Name: name} }

// benchStep is one step of a case's life as the bare workflow repeats it.
type benchStep struct {
	Kind string        `json:"kind"` // activity, local, timer
	Wait time.Duration `json:"wait,omitempty"`
	// Ledger marks the case's appends to the ledger (local activities).
	Ledger bool `json:"ledger,omitempty"`
}

type benchShape []benchStep

// withoutLedger is the shape without the ledger's local activities.
func (s benchShape) withoutLedger() benchShape {
	return slices.DeleteFunc(slices.Clone(s), func(st benchStep) bool { return st.Ledger })
}

func (s benchShape) String() string {
	var a, l, t int
	for _, st := range s {
		switch st.Kind {
		case "activity":
			a++
		case "local":
			l++
		case "timer":
			t++
		}
	}
	return fmt.Sprintf("%d activities, %d local activities and %d timers", a, l, t)
}

// caseShape reads the activities and fired timers of one case's history, in order.
func caseShape(ctx context.Context, d *benchDesk, id, run string) (benchShape, error) {
	var shape benchShape
	timers := map[string]time.Duration{}
	it := d.tc.GetWorkflowHistory(ctx, id, run, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return nil, err
		}
		switch ev.GetEventType() {
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
			shape = append(shape, benchStep{Kind: "activity"})
		case enumspb.EVENT_TYPE_MARKER_RECORDED:
			if m := ev.GetMarkerRecordedEventAttributes(); m.GetMarkerName() == "LocalActivity" {
				ledger := false
				for _, p := range m.GetDetails() {
					for _, d := range p.GetPayloads() {
						ledger = ledger || bytes.Contains(d.GetData(), []byte(`"`+workflows.ActivityRecordEvents+`"`))
					}
				}
				shape = append(shape, benchStep{Kind: "local", Ledger: ledger})
			}
		case enumspb.EVENT_TYPE_TIMER_STARTED:
			a := ev.GetTimerStartedEventAttributes()
			timers[a.GetTimerId()] = a.GetStartToFireTimeout().AsDuration()
		case enumspb.EVENT_TYPE_TIMER_FIRED:
			shape = append(shape, benchStep{Kind: "timer", Wait: timers[ev.GetTimerFiredEventAttributes().GetTimerId()]})
		}
	}
	if len(shape) == 0 {
		return nil, errors.New("the case's history has no activities")
	}
	return shape, nil
}

// benchBare is a workflow doing what a case does, with activities that do nothing.
func benchBare(ctx workflow.Context, shape benchShape) error {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 3}})
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: 10 * time.Second})
	for _, st := range shape {
		var err error
		switch st.Kind {
		case "activity":
			err = workflow.ExecuteActivity(actx, "BenchNoop").Get(ctx, nil)
		case "local":
			err = workflow.ExecuteLocalActivity(lctx, benchNoop).Get(ctx, nil)
		case "timer":
			err = workflow.Sleep(ctx, st.Wait)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func benchNoop(context.Context) error { return nil }

// benchPrecision: cases whose deadlines fall while a storm runs; how late their escalations
// reach the enforcement API.
func benchPrecision(ctx context.Context, o *Options, r *Report) error {
	r.Params["cases"], r.Params["deadline"], r.Params["storm_accounts"], r.Params["clients"] = o.PrecisionCases, o.Deadline.String(), o.Accounts, o.Clients
	r.Params["cases_per_second"] = o.PrecisionRate
	dir := filepath.Join(o.DataDir, "precision")
	window := o.Deadline.String()
	env, err := newBenchEnv(ctx, o, dir, o.Accounts+o.PrecisionCases, map[string]string{
		"response_window: 12h\n    reminders: [6h]": "response_window: " + window + "\n    reminders: []",
	})
	if err != nil {
		return err
	}
	defer env.close()
	d, profiled, err := env.startProfiled(ctx, filepath.Join(dir, "desk"), "precision")
	if err != nil {
		return err
	}
	defer func() { _, _ = d.stop() }()
	defer profiled()
	p, err := policy.Load(env.policyPath)
	if err != nil {
		return err
	}
	snap := p.Snapshot(abuse.DoS)

	// The storm runs until the escalations are in.
	stop := make(chan struct{})
	var storm *postResult
	var stormDone sync.WaitGroup
	plan := stormPlan(o.Reports, o.Accounts, o.Zipf, 3)
	at := time.Now().UTC()
	stormDone.Go(func() { // as long as it takes: the plan repeats, every report is new
		storm = d.post(ctx, math.MaxInt32, o.Clients, func(i int) []byte { return benchMail(i, benchIP(plan[i%len(plan)], i), at) }, stop)
	})
	stopStorm := sync.OnceFunc(func() { close(stop); stormDone.Wait() })
	defer stopStorm()
	time.Sleep(3 * time.Second)

	fmt.Fprintf(o.Log, "opening %d cases due in %v, %v a second, while the storm runs\n", o.PrecisionCases, o.Deadline, o.PrecisionRate)
	acct := func(i int) string { return benchAccount(o.Accounts + i) }
	openStart := time.Now()
	err = parallel(ctx, o.PrecisionCases, 16, func(i int) error {
		// Paced, so the deadlines fall at that rate too.
		time.Sleep(time.Until(openStart.Add(time.Duration(float64(i) / o.PrecisionRate * float64(time.Second)))))
		_, err := d.cases.Submit(ctx, workflows.CaseWorkflowID(acct(i), abuse.DoS), workflows.CaseInput{AccountID: acct(i), Category: abuse.DoS, Policy: snap},
			[]workflows.ReportSummary{{ID: fmt.Sprintf("prec-%d", i), Format: "arf", Category: abuse.DoS, Reporter: "noc@isp.example",
				ReceivedAt: time.Now().UTC(), Subjects: []abuse.Subject{{Kind: abuse.SubjectIP, Value: benchIP(o.Accounts+i, 1)}}, Summary: "bench DoS report"}})
		return err
	})
	if err != nil {
		return err
	}
	// Wait until every case's escalation reached the enforcement API.
	var arrived []time.Time
	err = waitFor(ctx, o.Deadline+10*time.Minute, 250*time.Millisecond, func() (bool, error) {
		arrived = arrived[:0]
		for i := range o.PrecisionCases {
			acts := env.standIns.Actions(acct(i))
			if len(acts) == 0 {
				return false, nil
			}
			arrived = append(arrived, acts[0].CreatedAt)
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("%d of %d escalations arrived: %w", len(arrived), o.PrecisionCases, err)
	}
	stopStorm()
	// Each case's deadline and the steps from it to the request, from its history.
	traces := make([]escalationTrace, o.PrecisionCases)
	err = parallel(ctx, o.PrecisionCases, 8, func(i int) error {
		t, err := traceEscalation(ctx, d, workflows.CaseWorkflowID(acct(i), abuse.DoS), o.Deadline)
		traces[i] = t
		return err
	})
	if err != nil {
		return err
	}
	late := make([]time.Duration, o.PrecisionCases)
	steps := map[string][]time.Duration{}
	for i, t := range traces {
		late[i] = arrived[i].Sub(t.deadline)
		steps["timer fired"] = append(steps["timer fired"], t.fired.Sub(t.deadline))
		steps["workflow task picked up"] = append(steps["workflow task picked up"], t.taskStarted.Sub(t.fired))
		steps["workflow task done, enforcement scheduled"] = append(steps["workflow task done, enforcement scheduled"], t.scheduled.Sub(t.taskStarted))
		steps["enforcement activity picked up"] = append(steps["enforcement activity picked up"], t.started.Sub(t.scheduled))
		steps["request reached the enforcement API"] = append(steps["request reached the enforcement API"], arrived[i].Sub(t.started))
	}
	r.add("storm during the measurement", storm.rate(), "reports/s")
	r.add("storm reports accepted", float64(storm.accepted), "reports")
	s := sortedDurations(late)
	r.add("escalation lateness p50", percentile(s, 50).Seconds(), "s")
	r.atMost("escalation lateness p99", percentile(s, 99).Seconds(), "s", 2)
	r.add("escalation lateness max", s[len(s)-1].Seconds(), "s")
	for _, step := range []string{"timer fired", "workflow task picked up", "workflow task done, enforcement scheduled", "enforcement activity picked up", "request reached the enforcement API"} {
		ds := sortedDurations(steps[step])
		r.add("step: "+step+", p50", percentile(ds, 50).Seconds(), "s")
		r.add("step: "+step+", p99", percentile(ds, 99).Seconds(), "s")
	}
	if s[0] < 0 {
		r.note("an escalation came %v before its deadline", -s[0])
	}
	r.note("lateness = when the enforcement API received the throttle request − the case's deadline; the steps are from each case's history (server clock)")
	return nil
}

// benchAdmission runs the precision scenario twice — API clients that wait the Retry-After of a
// refused report, then clients that send it again at once — and compares the storm's useful
// throughput (reports accepted a second) and the deadlines' lateness. Admission before the body
// is read is what keeps the greedy run's throughput up.
func benchAdmission(ctx context.Context, o *Options, r *Report) error {
	r.Params["cases"], r.Params["clients"], r.Params["deadline"] = o.PrecisionCases, o.Clients, o.Deadline.String()
	var rates [2]float64
	for i, greedy := range []bool{false, true} {
		label := map[bool]string{false: "obedient", true: "greedy"}[greedy]
		fmt.Fprintf(o.Log, "-- %s clients\n", label)
		oo := *o
		oo.Greedy, oo.DataDir = greedy, filepath.Join(o.DataDir, "admission-"+label)
		sub := newReport("precision", o.Version)
		if err := benchPrecision(ctx, &oo, sub); err != nil {
			return fmt.Errorf("%s clients: %w", label, err)
		}
		rates[i] = sub.value("storm during the measurement")
		r.add(label+" clients: storm accepted", rates[i], "reports/s")
		r.add(label+" clients: escalation lateness p99", sub.value("escalation lateness p99"), "s")
	}
	ratio := 0.0
	if rates[0] > 0 {
		ratio = rates[1] / rates[0]
	}
	r.atLeast("greedy / obedient useful throughput", ratio, "×", 0.5)
	r.note("both runs on this machine, one after the other; greedy clients send a refused report again after 1 ms instead of the Retry-After")
	return nil
}

// escalationTrace is when each step between a case's deadline and its enforcement request
// happened, from the case's history.
type escalationTrace struct {
	deadline, fired, taskStarted, scheduled, started time.Time
}

// traceEscalation reads a case's history: its response deadline (the start of the timer of
// about window, at the workflow time of the task that started it), when that timer fired, when
// the next workflow task started, and when the enforcement activity was scheduled and started.
// The server writes an activity's start into the history only when the activity ends, so a
// request that has reached the enforcement API may not be in the history yet: the history is
// read again until it is (for up to a minute).
func traceEscalation(ctx context.Context, d *benchDesk, id string, window time.Duration) (escalationTrace, error) {
	var t escalationTrace
	var err error
	for deadline := time.Now().Add(time.Minute); ; {
		t, err = readEscalation(ctx, d, id, window)
		if err == nil || !t.started.IsZero() || t.scheduled.IsZero() || time.Now().After(deadline) {
			return t, err
		}
		select {
		case <-ctx.Done():
			return t, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// readEscalation reads the steps of traceEscalation from the history once.
func readEscalation(ctx context.Context, d *benchDesk, id string, window time.Duration) (escalationTrace, error) {
	var t escalationTrace
	it := d.tc.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var taskStarted time.Time
	var timerID string
	var enforceEvent int64
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return t, err
		}
		at := ev.GetEventTime().AsTime()
		switch ev.GetEventType() {
		case enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED:
			taskStarted = at
			if !t.fired.IsZero() && t.taskStarted.IsZero() {
				t.taskStarted = at
			}
		case enumspb.EVENT_TYPE_TIMER_STARTED:
			a := ev.GetTimerStartedEventAttributes()
			if fire := a.GetStartToFireTimeout().AsDuration(); timerID == "" && fire > window-2*time.Second && fire <= window {
				t.deadline, timerID = taskStarted.Add(fire), a.GetTimerId()
			}
		case enumspb.EVENT_TYPE_TIMER_FIRED:
			if timerID != "" && ev.GetTimerFiredEventAttributes().GetTimerId() == timerID {
				t.fired = at
			}
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
			if ev.GetActivityTaskScheduledEventAttributes().GetActivityType().GetName() == workflows.ActivityEnforce && enforceEvent == 0 {
				t.scheduled, enforceEvent = at, ev.GetEventId()
			}
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED:
			if enforceEvent != 0 && ev.GetActivityTaskStartedEventAttributes().GetScheduledEventId() == enforceEvent {
				t.started = at
			}
		}
	}
	if t.deadline.IsZero() || t.fired.IsZero() || t.taskStarted.IsZero() || t.scheduled.IsZero() || t.started.IsZero() {
		return t, fmt.Errorf("case %s: its history lacks a step from the response timer (of about %v) to the enforcement activity: %+v", id, window, t)
	}
	return t, nil
}

// benchCapacity: many open cases waiting on long deadlines.
func benchCapacity(ctx context.Context, o *Options, r *Report) error {
	r.Params["open"], r.Params["clients"], r.Params["idle"] = o.Open, o.Clients, o.Idle.String()
	dir := filepath.Join(o.DataDir, "capacity")
	// Every tenth report is a free-text SMS complaint (naming a phone number), which the parser
	// is less sure of than an ARF report: the triage gate's threshold is lowered below it, so
	// its case is noticed like the others.
	env, err := newBenchEnv(ctx, o, dir, o.Open, map[string]string{"  confidence: 0.5\n": "  confidence: 0.3\n"})
	if err != nil {
		return err
	}
	defer env.close()
	data := filepath.Join(dir, "desk")
	// The database of an empty desk, measured after a stop has checkpointed it, like the
	// measurement it is subtracted from.
	d, err := env.startDesk(ctx, data, nil)
	if err != nil {
		return err
	}
	if _, err := d.stop(); err != nil {
		return err
	}
	base := d.dbBytes()
	d, err = env.startDesk(ctx, data, nil)
	if err != nil {
		return err
	}
	defer func() { _, _ = d.stop() }()
	at := time.Now().UTC()
	fmt.Fprintf(o.Log, "opening %d cases through the reports API\n", o.Open)
	start := time.Now()
	res := d.post(ctx, o.Open, o.Clients, func(i int) []byte { return capacityMail(i, at) }, nil)
	if res.accepted != int64(o.Open) {
		return fmt.Errorf("%d of %d reports accepted: %v", res.accepted, o.Open, res.failures)
	}
	awaiting := statusQuery(workflows.StatusAwaitingResponse)
	var n int64
	err = waitFor(ctx, 2*time.Hour, 2*time.Second, func() (bool, error) {
		c, err := d.cases.Count(ctx, awaiting)
		n = c
		return c >= int64(o.Open), err
	})
	if err != nil {
		return fmt.Errorf("%d of %d cases awaiting a response: %w", n, o.Open, err)
	}
	r.add("cases opened per second (report → ticket → notice)", float64(o.Open)/time.Since(start).Seconds(), "cases/s")
	time.Sleep(min(o.Idle/3, 10*time.Second)) // let the last tasks settle
	rss, peak := d.rss()
	r.atMost("RSS with every case open", float64(rss)/(1<<20), "MiB", 1024)
	r.add("peak RSS while opening", float64(peak)/(1<<20), "MiB")
	cpu0, t0 := d.cpu(), time.Now()
	time.Sleep(o.Idle)
	r.add("idle CPU", 100*(d.cpu()-cpu0).Seconds()/time.Since(t0).Seconds(), "% of a core")
	r.add("database with its WAL while running, per case", float64(d.dbBytes()-base)/float64(o.Open)/1000, "KB")

	stopTime, err := d.stop()
	if err != nil {
		return err
	}
	r.add("stop time", stopTime.Seconds(), "s")
	r.atMost("database per case (after the stop's checkpoint)", float64(d.dbBytes()-base)/float64(o.Open)/1000, "KB", 40)
	d2, err := env.startDesk(ctx, data, nil)
	if err != nil {
		return err
	}
	defer func() { _, _ = d2.stop() }()
	r.atMost("restart time (start → ready) with every case open", d2.ready.Seconds(), "s", 5)
	if c, err := d2.cases.Count(ctx, awaiting); err != nil || c != int64(o.Open) {
		return fmt.Errorf("after the restart %d cases await a response (%v), want %d", c, err, o.Open)
	}
	probe := o.Open / 2
	if probe%10 == 0 && probe+1 < o.Open {
		probe++ // every tenth report is about SMS: its case is another category's
	}
	probeID := workflows.CaseWorkflowID(benchAccount(probe), abuse.Spam)
	qStart := time.Now()
	if v, err := d2.cases.Status(ctx, probeID); err != nil || v.Status != workflows.StatusAwaitingResponse {
		return fmt.Errorf("case %s after the restart: %v %v", probeID, v, err)
	}
	r.add("first status query after the restart", time.Since(qStart).Seconds(), "s")
	if err := searchCases(ctx, d2, o.Open, r); err != nil {
		return err
	}
	rss2, _ := d2.rss()
	r.add("RSS after the restart", float64(rss2)/(1<<20), "MiB")
	return nil
}

// parallel runs f for 0..n-1 on at most width goroutines; the first error wins.
func parallel(ctx context.Context, n, width int, f func(i int) error) error {
	var mu sync.Mutex
	var first error
	next := make(chan int)
	var wg sync.WaitGroup
	for range width {
		wg.Go(func() {
			for i := range next {
				if err := f(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		})
	}
	for i := range n {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}

// capacityMail is report i of the capacity scenario: an ARF report naming the account's address
// and a domain of its own, or every tenth one a free-text SMS complaint naming its address and
// a phone number of its own.
func capacityMail(i int, at time.Time) []byte {
	if i%10 != 0 {
		return benchMail(i, benchIP(i, 0), at, "Reported-Domain: "+capacityDomain(i)+"\r\n")
	}
	return fmt.Appendf(nil, "From: victim%d@mail.example\r\nTo: abuse@provider.example\r\nSubject: SMS spam from your customer\r\n"+
		"Message-ID: <bench-sms-%d@mail.example>\r\nDate: %s\r\n\r\n"+
		"I keep receiving spam SMS text messages from %s sent through your SMS gateway at %s.\r\nPlease stop them.\r\n",
		i, i, at.Format(time.RFC1123Z), capacityPhone(i), benchIP(i, 0))
}

func capacityDomain(i int) string { return fmt.Sprintf("shop-b%05d.example", i) }
func capacityPhone(i int) string  { return fmt.Sprintf("+44 7700 %06d", i) }

// searchCases times the cases API's search with every case open: by address, domain, phone
// number and account name, each the median of 5, each checked to find its case.
func searchCases(ctx context.Context, d *benchDesk, open int, r *Report) error {
	hc := &http.Client{Timeout: 30 * time.Second}
	mid := open / 2
	sms, arf := mid-mid%10, mid+1 // an SMS complaint's case, an ARF report's case
	if arf%10 == 0 {
		arf++
	}
	probes := []struct{ name, q, account string }{
		{"address", benchIP(mid, 0), benchAccount(mid)},
		{"domain", capacityDomain(arf), benchAccount(arf)},
		{"phone number", capacityPhone(sms), benchAccount(sms)},
		{"account name", fmt.Sprintf("Bench Customer %d", mid), benchAccount(mid)},
	}
	base := strings.TrimSuffix(d.ep.API.URL, "/reports") + "/cases?state=all&q="
	for _, p := range probes {
		var times []time.Duration
		var found bool
		for range 5 {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+url.QueryEscape(p.q), nil)
			if err != nil {
				return err
			}
			req.Header.Set("Authorization", "Bearer "+d.ep.API.Token)
			start := time.Now()
			resp, err := hc.Do(req)
			if err != nil {
				return fmt.Errorf("search by %s: %w", p.name, err)
			}
			var out struct {
				Cases []struct {
					Account string `json:"account"`
				} `json:"cases"`
			}
			err = json.NewDecoder(resp.Body).Decode(&out)
			_ = resp.Body.Close()
			times = append(times, time.Since(start))
			if err != nil || resp.StatusCode != http.StatusOK {
				return fmt.Errorf("search by %s (%s): HTTP %d %v", p.name, p.q, resp.StatusCode, err)
			}
			found = slices.ContainsFunc(out.Cases, func(c struct {
				Account string `json:"account"`
			}) bool {
				return c.Account == p.account
			})
		}
		if !found {
			return fmt.Errorf("search by %s (%s) did not find %s's case", p.name, p.q, p.account)
		}
		slices.Sort(times)
		r.atMost(fmt.Sprintf("cases API search by %s with every case open, median of 5", p.name), times[2].Seconds()*1000, "ms", 200)
	}
	return nil
}
