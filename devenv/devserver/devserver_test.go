package devserver_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"abusedesk/devenv/devserver"
	"abusedesk/platform/tclient"
	"abusedesk/workflows"
)

const taskQueue = "devserver-test"

// TimerInput is the input of timerWorkflow.
type TimerInput struct{ Wait time.Duration }

// TimerResult is the result of timerWorkflow.
type TimerResult struct{ FiredAt time.Time }

// timerWorkflow sleeps on a durable timer: it only completes if the server keeps the timer.
func timerWorkflow(ctx workflow.Context, in TimerInput) (*TimerResult, error) {
	if err := workflow.Sleep(ctx, in.Wait); err != nil {
		return nil, err
	}
	return &TimerResult{FiredAt: workflow.Now(ctx)}, nil
}

func start(t *testing.T, dataDir string) (*devserver.Server, client.Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv, err := devserver.Start(ctx, devserver.Options{
		DataDir:          dataDir,
		Namespace:        "abusedesk",
		SearchAttributes: workflows.SearchAttributes(),
		UIPort:           -1,
		Logger:           slog.New(slog.NewTextHandler(testWriter{t}, nil)),
	})
	if err != nil {
		t.Fatalf("start embedded server: %v", err)
	}
	c, err := client.Dial(client.Options{
		HostPort:  srv.HostPort(),
		Namespace: srv.Namespace(),
		Logger:    log.NewStructuredLogger(slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))),
	})
	if err != nil {
		srv.Stop()
		t.Fatalf("dial %s: %v", srv.HostPort(), err)
	}
	return srv, c
}

func runWorker(t *testing.T, c client.Client) worker.Worker {
	t.Helper()
	w := worker.New(c, taskQueue, worker.Options{})
	w.RegisterWorkflow(timerWorkflow)
	if err := w.Start(); err != nil {
		t.Fatalf("start worker: %v", err)
	}
	return w
}

// TestTimerWorkflowInMemory runs a workflow with a timer through the real SDK client on an
// in-memory server, and checks the namespace carries abusedesk's search attributes.
func TestTimerWorkflowInMemory(t *testing.T) {
	srv, c := start(t, "")
	defer srv.Stop()
	defer c.Close()
	w := runWorker(t, c)
	defer w.Stop()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	begin := time.Now()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "timer-1", TaskQueue: taskQueue}, timerWorkflow, TimerInput{Wait: time.Second})
	if err != nil {
		t.Fatalf("start workflow: %v", err)
	}
	var res TimerResult
	if err := run.Get(ctx, &res); err != nil {
		t.Fatalf("workflow failed: %v", err)
	}
	if got := res.FiredAt.Sub(begin); got < time.Second {
		t.Errorf("timer fired after %v, want at least 1s", got)
	}

	attrs, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: srv.Namespace()})
	if err != nil {
		t.Fatalf("list search attributes: %v", err)
	}
	for name, typ := range workflows.SearchAttributes() {
		if got := attrs.GetCustomAttributes()[name]; got != typ {
			t.Errorf("search attribute %s: got %v, want %v", name, got, typ)
		}
	}
}

// TestRestartContinuesOpenWorkflows starts a workflow with a timer on a file database, stops
// the server while the timer is pending, starts a new server on the same data dir and sees the
// workflow complete there.
func TestRestartContinuesOpenWorkflows(t *testing.T) {
	dir := t.TempDir()
	srv, c := start(t, dir)
	w := runWorker(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "timer-restart", TaskQueue: taskQueue}, timerWorkflow, TimerInput{Wait: 3 * time.Second})
	if err != nil {
		t.Fatalf("start workflow: %v", err)
	}
	// Wait until the timer is recorded so the stop really interrupts an open workflow.
	waitForEvent(ctx, t, c, run.GetID(), enumspb.EVENT_TYPE_TIMER_STARTED)
	w.Stop()
	c.Close()
	srv.Stop()

	fi, err := os.Stat(filepath.Join(dir, devserver.DatabaseFile))
	if err != nil {
		t.Fatalf("database file after stop: %v", err)
	}
	// Every case is in it: only its owner may read it.
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Errorf("database file mode %o, want 600", mode)
	}
	// One made readable by others (by hand, or by an older desk) is closed again at the start.
	if err := os.Chmod(filepath.Join(dir, devserver.DatabaseFile), 0o644); err != nil {
		t.Fatal(err)
	}

	srv2, c2 := start(t, dir)
	defer srv2.Stop()
	defer c2.Close()
	if fi, err := os.Stat(filepath.Join(dir, devserver.DatabaseFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("database file after a restart: %v %v, want mode 600", fi.Mode().Perm(), err)
	}
	desc, err := c2.DescribeWorkflowExecution(ctx, run.GetID(), "")
	if err != nil {
		t.Fatalf("describe after restart: %v", err)
	}
	if st := desc.GetWorkflowExecutionInfo().GetStatus(); st != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		t.Fatalf("after restart the workflow is %v, want running", st)
	}
	w2 := runWorker(t, c2)
	defer w2.Stop()
	var res TimerResult
	if err := c2.GetWorkflow(ctx, run.GetID(), "").Get(ctx, &res); err != nil {
		t.Fatalf("workflow after restart: %v", err)
	}
	if res.FiredAt.IsZero() {
		t.Fatal("workflow completed without firing its timer")
	}
}

// TestStartFailsOnBrokenDatabase checks a data dir whose database is not SQLite gives an error
// naming the file instead of a half-started server.
func TestStartFailsOnBrokenDatabase(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, devserver.DatabaseFile), []byte("this is not a database, just text that is long enough to have a header"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv, err := devserver.Start(ctx, devserver.Options{DataDir: dir, Namespace: "abusedesk", UIPort: -1})
	if err == nil {
		srv.Stop()
		t.Fatal("start on a broken database succeeded")
	}
	if want := filepath.Join(dir, devserver.DatabaseFile); !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not name the database file %s", err, want)
	}
}

func waitForEvent(ctx context.Context, t *testing.T, c client.Client, id string, typ enumspb.EventType) {
	t.Helper()
	for {
		it := c.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for it.HasNext() {
			ev, err := it.Next()
			if err != nil {
				t.Fatalf("history of %s: %v", id, err)
			}
			if ev.GetEventType() == typ {
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no %v event in %s: %v", typ, id, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// testWriter sends log lines to t.Log so they show only for failing tests.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

// TestBacklogFromTaskQueueStatistics: the server's task queue statistics show a workflow task
// nobody picks up ageing in the queue (what an ingress without a worker holds back on), and
// the backlog gone once a worker polls.
func TestBacklogFromTaskQueueStatistics(t *testing.T) {
	srv, c := start(t, "")
	defer srv.Stop()
	defer c.Close()
	ctx := context.Background()
	b := tclient.NewBacklog(c, taskQueue, 200*time.Millisecond, nil)
	b.Read(ctx)
	if w := b.Wait(); w != 0 {
		t.Fatalf("an empty queue has a backlog of %v", w)
	}
	if _, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "backlog-1", TaskQueue: taskQueue}, timerWorkflow, TimerInput{Wait: time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	var aged time.Duration
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline) && aged < time.Second; time.Sleep(200 * time.Millisecond) {
		b.Read(ctx)
		aged = b.Wait()
	}
	if aged < time.Second || b.Count() < 1 {
		t.Fatalf("with no worker the task waits %v (count %d), want over a second", aged, b.Count())
	}
	w := runWorker(t, c)
	defer w.Stop()
	drained := false
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline) && !drained; time.Sleep(200 * time.Millisecond) {
		b.Read(ctx)
		drained = b.Wait() == 0 && b.Count() == 0
	}
	if !drained {
		t.Errorf("after a worker polled: backlog %v, %d tasks", b.Wait(), b.Count())
	}
}

// TestBacklogFromDeliveredWorkflows: a workflow task waiting where the statistics of the queue
// Backlog reads do not see it (here: another queue, as a worker's sticky queue is) still holds
// intake back once its workflow was delivered to; and it stops counting once picked up.
func TestBacklogFromDeliveredWorkflows(t *testing.T) {
	srv, c := start(t, "")
	defer srv.Stop()
	defer c.Close()
	ctx := context.Background()
	b := tclient.NewBacklog(c, "some-other-queue", 200*time.Millisecond, nil)
	if _, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "sticky-1", TaskQueue: taskQueue}, timerWorkflow, TimerInput{Wait: time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1200 * time.Millisecond)
	b.Read(ctx)
	if w := b.Wait(); w != 0 {
		t.Fatalf("before the workflow was delivered to, the backlog is %v: the other queue's statistics should show nothing", w)
	}
	b.Delivered("sticky-1")
	b.Read(ctx)
	if w := b.Wait(); w < time.Second {
		t.Fatalf("a delivered workflow's task waited over a second; the backlog says %v", w)
	}
	// The workers' own measure (AlsoWait) counts when it is the longest; when it cannot be read,
	// the server's view alone.
	reported := 5 * time.Second
	b.AlsoWait(func(context.Context) (time.Duration, error) { return reported, nil })
	b.Read(ctx)
	if w := b.Wait(); w != reported {
		t.Fatalf("the workers report %v; the backlog says %v", reported, w)
	}
	b.AlsoWait(func(context.Context) (time.Duration, error) { return time.Hour, errors.New("ledger down") })
	b.Read(ctx)
	if w := b.Wait(); w >= reported || w < time.Second {
		t.Fatalf("with the workers' measure unreadable the backlog says %v, want the delivered task's wait", w)
	}
	b.AlsoWait(nil)
	w := runWorker(t, c)
	defer w.Stop()
	drained := false
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline) && !drained; time.Sleep(200 * time.Millisecond) {
		b.Read(ctx)
		drained = b.Wait() == 0
	}
	if !drained {
		t.Errorf("after a worker picked the task up the backlog is still %v", b.Wait())
	}
}

// TestAwaitSearchAttributes: an attribute just added becomes usable in queries (the wait ends),
// and one never added is named in the error once the wait gives up.
func TestAwaitSearchAttributes(t *testing.T) {
	srv, c := start(t, "")
	defer srv.Stop()
	defer c.Close()
	ctx := context.Background()
	added := map[string]enumspb.IndexedValueType{"DeskProbeKeyword": enumspb.INDEXED_VALUE_TYPE_KEYWORD, "DeskProbeInt": enumspb.INDEXED_VALUE_TYPE_INT}
	if err := tclient.EnsureSearchAttributes(ctx, c.OperatorService(), srv.Namespace(), added); err != nil {
		t.Fatal(err)
	}
	if err := tclient.AwaitSearchAttributes(ctx, c, added, time.Minute); err != nil {
		t.Fatalf("added attributes not usable: %v", err)
	}
	err := tclient.AwaitSearchAttributes(ctx, c, map[string]enumspb.IndexedValueType{"DeskNeverAdded": enumspb.INDEXED_VALUE_TYPE_KEYWORD}, 2*time.Second)
	if err == nil || !strings.Contains(err.Error(), "DeskNeverAdded") {
		t.Errorf("an attribute never added: %v", err)
	}
}
