// Package backpressure tells intake how far behind the workers are, so that report deliveries —
// which can wait in intake's journal — hold back while cases catch up: a case's next step, a
// deadline's escalation among them, must not queue behind a report storm.
//
// A process with a worker reads its own worker's task wait (tclient.Pressure, fed by the SDK's
// metrics). A process that runs intake without a worker reads the task queue's statistics from
// the server (tclient.Backlog) and, with a shared PostgreSQL ledger, the longest wait the
// workers wrote there (Shared).
package backpressure

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"go.temporal.io/sdk/client"

	"abusedesk/app/intake"
	"abusedesk/platform/tclient"
	"abusedesk/workflows"
)

// Every is how often a worker writes its task wait to the shared ledger and a process without a
// worker reads the longest (with the server's view); a wait older than Fresh counts nothing
// (its worker stopped).
const (
	Every = 500 * time.Millisecond
	Fresh = 3 * Every
)

// Shared is where the workers' own waits meet: the PostgreSQL ledger.
type Shared interface {
	ReportWorkerWait(ctx context.Context, id string, wait time.Duration, at time.Time) error
	WorkerWait(ctx context.Context, since time.Time) (time.Duration, error)
}

// Gauge is one process's view of how far behind the workers are. Stop ends what it runs.
type Gauge struct {
	// Own is this process's worker's wait; the SDK client feeds it (Own.MetricsHandler()).
	Own     *tclient.Pressure
	backlog *tclient.Backlog
	log     *slog.Logger

	mu    sync.Mutex
	stops []func()
}

// New returns a gauge that reads this process's own worker until WatchBacklog says otherwise.
func New(log *slog.Logger) *Gauge {
	return &Gauge{Own: tclient.NewPressure(), log: log}
}

// WatchBacklog reads the task queue's statistics from the server, for a process that runs
// intake without a worker: its own worker's wait says nothing there. With shared (nil: none)
// it also reads the workers' own waits, which the server's view can miss.
func (g *Gauge) WatchBacklog(ctx context.Context, c client.Client, shared Shared) {
	g.backlog = tclient.NewBacklog(c, workflows.TaskQueue, Every, g.log.With("component", "backlog"))
	if shared != nil {
		g.backlog.AlsoWait(func(ctx context.Context) (time.Duration, error) {
			return shared.WorkerWait(ctx, time.Now().Add(-Fresh))
		})
	}
	g.every(ctx, Every, g.backlog.Read)
}

// ReportOwnWait writes how long this process's worker's tasks wait (its sticky queue included)
// to the shared ledger, for the processes that run intake and no worker.
func (g *Gauge) ReportOwnWait(ctx context.Context, shared Shared) {
	host, _ := os.Hostname()
	id := fmt.Sprintf("%s/%d", host, os.Getpid())
	failed := time.Time{}
	g.every(ctx, Every, func(ctx context.Context) {
		if err := shared.ReportWorkerWait(ctx, id, g.Own.Wait(), time.Now()); err != nil && ctx.Err() == nil && time.Since(failed) > time.Minute {
			failed = time.Now()
			g.log.Warn("the worker's task wait not written to the ledger; ingress processes hold back on the server's view alone", "error", err)
		}
	})
}

// Behind is how long workflow tasks wait to be picked up: the backlog where it is watched (no
// worker runs here), this process's worker's wait otherwise.
func (g *Gauge) Behind() time.Duration {
	if g.backlog != nil {
		return g.backlog.Wait()
	}
	return g.Own.Wait()
}

// Cases is what intake delivers to: the cases, and, where the server's backlog is read, each
// case delivered to noted for it (its next workflow task may wait in a worker's sticky queue,
// which the queue's statistics do not show).
func (g *Gauge) Cases(c intake.Cases) intake.Cases {
	if g.backlog == nil {
		return c
	}
	return noteDeliveries{Cases: c, backlog: g.backlog}
}

// Stop ends the loops WatchBacklog and ReportOwnWait started, and waits for them.
func (g *Gauge) Stop() {
	g.mu.Lock()
	stops := g.stops
	g.stops = nil
	g.mu.Unlock()
	for _, stop := range stops {
		stop()
	}
}

// every runs f now and then every interval until ctx ends or Stop.
func (g *Gauge) every(ctx context.Context, interval time.Duration, f func(context.Context)) {
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			f(rctx)
			select {
			case <-rctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	g.mu.Lock()
	g.stops = append(g.stops, func() { cancel(); <-done })
	g.mu.Unlock()
}

// noteDeliveries tells the backlog which cases reports were delivered to.
type noteDeliveries struct {
	intake.Cases
	backlog *tclient.Backlog
}

func (n noteDeliveries) Submit(ctx context.Context, caseID string, in workflows.CaseInput, batch []workflows.ReportSummary) (string, error) {
	run, err := n.Cases.Submit(ctx, caseID, in, batch)
	if err == nil {
		n.backlog.Delivered(caseID)
	}
	return run, err
}
