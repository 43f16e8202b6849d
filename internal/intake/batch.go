package intake

import (
	"context"
	"sync"
	"time"

	"abusedesk/internal/metrics"
	"abusedesk/workflows"
)

// submitFunc delivers one batch to a case (cases.Client.Submit).
type submitFunc func(ctx context.Context, caseID string, in workflows.CaseInput, batch []workflows.ReportSummary) (string, error)

// batcher gathers reports per case and delivers each batch with one SignalWithStart: a batch
// goes out when its window ends or when it is full, with at most maxInFlight deliveries under
// way. Under load batches grow by themselves, so a storm against a few accounts costs a few
// workflow tasks; at rest a report waits at most one window.
type batcher struct {
	submit   submitFunc
	window   time.Duration
	max      int
	sem      chan struct{}
	metrics  *metrics.Metrics
	mu       sync.Mutex
	pending  map[string]*batch
	inflight sync.WaitGroup
}

type batch struct {
	caseID  string
	input   workflows.CaseInput
	items   []workflows.ReportSummary
	waiters []chan error
	timer   *time.Timer
}

func newBatcher(submit submitFunc, window time.Duration, max, inFlight int, m *metrics.Metrics) *batcher {
	return &batcher{submit: submit, window: window, max: max, sem: make(chan struct{}, inFlight), metrics: m, pending: map[string]*batch{}}
}

// add queues a report for a case; the channel gets the delivery's result.
func (b *batcher) add(caseID string, in workflows.CaseInput, item workflows.ReportSummary) <-chan error {
	done := make(chan error, 1)
	b.mu.Lock()
	bt := b.pending[caseID]
	if bt == nil {
		bt = &batch{caseID: caseID, input: in}
		b.pending[caseID] = bt
		if b.window > 0 && b.max > 1 {
			bt.timer = time.AfterFunc(b.window, func() { b.flush(bt) })
		}
	}
	bt.items = append(bt.items, item)
	bt.waiters = append(bt.waiters, done)
	full := len(bt.items) >= b.max || b.window == 0 || b.max == 1
	if full {
		delete(b.pending, caseID)
		if bt.timer != nil {
			bt.timer.Stop()
		}
		b.inflight.Add(1)
	}
	b.mu.Unlock()
	if full {
		go b.send(bt)
	}
	return done
}

// flush sends a batch whose window ended (unless it already went out full).
func (b *batcher) flush(bt *batch) {
	b.mu.Lock()
	if b.pending[bt.caseID] != bt {
		b.mu.Unlock()
		return
	}
	delete(b.pending, bt.caseID)
	b.inflight.Add(1)
	b.mu.Unlock()
	b.send(bt)
}

func (b *batcher) send(bt *batch) {
	defer b.inflight.Done()
	b.sem <- struct{}{}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	_, err := b.submit(ctx, bt.caseID, bt.input, bt.items)
	cancel()
	<-b.sem
	if b.metrics != nil {
		b.metrics.IntakeBatches.Inc()
		b.metrics.IntakeBatchSize.Observe(float64(len(bt.items)))
		if err != nil {
			b.metrics.IntakeBatchFailures.Inc()
		}
	}
	for _, w := range bt.waiters {
		w <- err
	}
}

// close sends every gathering batch now and waits for the deliveries (bounded by ctx).
func (b *batcher) close(ctx context.Context) {
	b.mu.Lock()
	var rest []*batch
	for id, bt := range b.pending {
		delete(b.pending, id)
		if bt.timer != nil {
			bt.timer.Stop()
		}
		b.inflight.Add(1)
		rest = append(rest, bt)
	}
	b.mu.Unlock()
	for _, bt := range rest {
		go b.send(bt)
	}
	done := make(chan struct{})
	go func() { b.inflight.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
}
