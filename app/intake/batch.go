package intake

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"go.temporal.io/api/serviceerror"

	"abusedesk/domain/abuse"
	"abusedesk/platform/metrics"
	"abusedesk/workflows"
)

// submitFunc delivers one batch to a case (cases.Client.Submit).
type submitFunc func(ctx context.Context, caseID string, in workflows.CaseInput, batch []workflows.ReportSummary) (string, error)

// ErrBusy means intake holds as many undelivered reports as it may: offer the message again
// later (the API answers 503, the mailbox leaves the message where it is).
var ErrBusy = errors.New("intake is full: too many reports wait for their cases")

// ErrSlowDown means intake lets reports in more slowly while the worker is behind, so the
// cases' deadlines are kept: offer the message again in a second (API 503).
var ErrSlowDown = errors.New("intake is letting reports in slowly while the cases catch up")

// batcher delivers accepted reports to their cases, in the background, one SignalWithStart
// per batch. A case's reports gather for a window from the first of them; a batch goes out
// when its window ends or it is full, once a delivery slot is free and the case has no other
// delivery under way. So the slower Temporal answers, the bigger the batches: a storm costs a
// few workflow tasks per case, and at rest a report waits one window. A failed delivery is
// retried with backoff; what Temporal refuses for good is split, and a single report it
// refuses goes to the refused callback (triage). Reports are in the journal until delivered.
type batcher struct {
	submit  submitFunc
	input   func(account string, c abuse.Category) workflows.CaseInput
	journal *journal
	refused func(q *queued, err error)
	window  time.Duration
	max     int
	limit   int
	metrics *metrics.Metrics
	log     *slog.Logger
	// yield holds deliveries back while cases are behind (see yielding).
	yield Yield

	mu    sync.Mutex
	adm   admission
	cases map[string]*caseQueue
	ready []string
	slots int
	// maxSlots is MaxInFlight: slots when nothing is under way.
	maxSlots int
	queued   int
	closing  bool
	idle     chan struct{} // closed and remade when queued drops to 0
	sends    sync.WaitGroup
}

// caseQueue is one case's undelivered reports.
type caseQueue struct {
	account  string
	category abuse.Category
	items    []*queued
	due      bool // its window (or backoff) is over
	inReady  bool
	sending  bool
	timer    *time.Timer
	failures int
	// take limits the next batch while Temporal refuses bigger ones.
	take int
}

func newBatcher(submit submitFunc, input func(string, abuse.Category) workflows.CaseInput, j *journal, refused func(*queued, error),
	window time.Duration, max, inFlight, limit int, m *metrics.Metrics, log *slog.Logger) *batcher {
	return &batcher{submit: submit, input: input, journal: j, refused: refused, window: window, max: max, slots: inFlight, maxSlots: inFlight, limit: limit,
		metrics: m, log: log, cases: map[string]*caseQueue{}, idle: make(chan struct{})}
}

// accept journals reports and queues them for delivery; it returns once they are on disk.
// full reports whether the queue has no room left.
func (b *batcher) full() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.queued >= b.limit
}

func (b *batcher) accept(items []*queued) error {
	if len(items) == 0 {
		return nil
	}
	b.mu.Lock()
	if b.queued+len(items) > b.limit {
		b.mu.Unlock()
		return ErrBusy
	}
	b.queued += len(items) // reserved
	b.mu.Unlock()
	if err := b.journal.add(items); err != nil {
		b.mu.Lock()
		b.queued -= len(items)
		b.mu.Unlock()
		return err
	}
	b.enqueue(items, false)
	return nil
}

// enqueue queues reports already in the journal; recovered ones (read back at the start) are
// not yet counted in b.queued, accepted ones were reserved by accept.
func (b *batcher) enqueue(items []*queued, recovered bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if recovered {
		b.queued += len(items)
	}
	for _, q := range items {
		id := q.caseID()
		cq := b.cases[id]
		if cq == nil {
			cq = &caseQueue{account: q.Account, category: q.Category}
			b.cases[id] = cq
		}
		cq.items = append(cq.items, q)
		switch {
		case len(cq.items) >= b.max || b.window <= 0 || b.closing:
			b.makeDue(id, cq)
		case len(cq.items) == 1 && !cq.due && cq.timer == nil:
			cq.timer = time.AfterFunc(b.window, func() { b.windowOver(id, cq) })
		}
	}
	b.setGauge()
	b.dispatch()
}

func (b *batcher) windowOver(id string, cq *caseQueue) {
	b.mu.Lock()
	defer b.mu.Unlock()
	cq.timer = nil
	if b.cases[id] != cq {
		return
	}
	b.makeDue(id, cq)
	b.dispatch()
}

// makeDue marks a case's reports ready to go (b.mu held).
func (b *batcher) makeDue(id string, cq *caseQueue) {
	cq.due = true
	if cq.timer != nil {
		cq.timer.Stop()
		cq.timer = nil
	}
	if !cq.inReady && !cq.sending && len(cq.items) > 0 {
		cq.inReady = true
		b.ready = append(b.ready, id)
	}
}

// Yield holds report deliveries back while the worker is behind. Wait says how long workflow
// tasks wait for the worker now (tclient.Pressure); above At, intake keeps one delivery under
// way instead of MaxInFlight, so the cases' own steps — deadlines first among them — are not
// queued behind a storm's signals. The held reports wait in the journal and go out in bigger
// batches. A zero Yield never holds back.
type Yield struct {
	Wait func() time.Duration
	At   time.Duration
}

// admission limits how fast reports are let in while the worker is behind: the rate starts
// at three quarters of the pace just before, loses a quarter each second the worker stays
// behind, rises by a twentieth each quarter second it keeps up, and the limit goes after five
// calm seconds. Letting a storm in faster than its cases can take it only takes the worker's
// time from the deadlines. (Halving each second was measured too: the storm fell from 1,126 to
// 935 reports/s accepted and the deadlines were no better kept.)
type admission struct {
	rate      float64 // reports a second; 0: no limit
	tokens    float64
	refilled  time.Time
	adjusted  time.Time
	decreased time.Time
	behindAt  time.Time // when the worker was last seen behind
	seen      int       // let in since adjusted
	now       func() time.Time
}

// minAdmit is the least rate admission falls to, so a storm never stops altogether.
const minAdmit = 20

// admit lets one report-bearing message in, or says to offer it again (ErrSlowDown).
func (b *batcher) admit() error {
	if b.yield.Wait == nil || b.yield.At <= 0 {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	a := &b.adm
	if a.now == nil {
		a.now = time.Now
	}
	now := a.now()
	if el := now.Sub(a.adjusted); el >= 250*time.Millisecond {
		behind := b.yield.Wait() > b.yield.At
		switch {
		case behind && a.rate == 0:
			a.rate = max(minAdmit, 0.75*float64(a.seen)/el.Seconds())
			a.decreased, a.refilled, a.tokens = now, now, 0
			b.log.Warn("the worker is behind: letting reports in more slowly so deadlines are kept", "reports_per_second", int(a.rate))
		case behind && now.Sub(a.decreased) >= time.Second:
			a.rate, a.decreased = max(minAdmit, 0.75*a.rate), now
		case !behind && a.rate > 0 && now.Sub(a.behindAt) >= 5*time.Second:
			a.rate = 0
			b.log.Info("the worker keeps up again: reports are let in as fast as they come")
		case !behind && a.rate > 0:
			a.rate *= 1.05
		}
		if behind {
			a.behindAt = now
		}
		a.adjusted, a.seen = now, 0
		if b.metrics != nil {
			b.metrics.IntakeAdmitRate.Set(a.rate)
		}
	}
	if a.rate > 0 {
		a.tokens = min(a.rate, a.tokens+now.Sub(a.refilled).Seconds()*a.rate)
		a.refilled = now
		if a.tokens < 1 {
			return ErrSlowDown
		}
		a.tokens--
	}
	a.seen++
	return nil
}

// yielding says whether deliveries are held back to one under way (b.mu held). The one under
// way calls dispatch again when it ends.
func (b *batcher) yielding() bool {
	if b.slots < b.maxSlots && b.yield.Wait != nil && b.yield.At > 0 && !b.closing {
		return b.yield.Wait() > b.yield.At
	}
	return false
}

// dispatch starts deliveries while slots are free (b.mu held).
func (b *batcher) dispatch() {
	for b.slots > 0 && len(b.ready) > 0 {
		if b.yielding() {
			return
		}
		id := b.ready[0]
		b.ready = b.ready[1:]
		cq := b.cases[id]
		if cq == nil {
			continue
		}
		cq.inReady = false
		if cq.sending || len(cq.items) == 0 {
			continue
		}
		n := min(len(cq.items), b.max)
		if cq.take > 0 {
			n = min(n, cq.take)
		}
		batch := make([]*queued, n)
		copy(batch, cq.items)
		cq.items = append(cq.items[:0:0], cq.items[n:]...)
		cq.sending = true
		cq.due = len(cq.items) > 0 // what is left has waited long enough
		b.slots--
		b.sends.Add(1)
		go b.send(id, cq, batch)
	}
}

func (b *batcher) send(id string, cq *caseQueue, batch []*queued) {
	defer b.sends.Done()
	sums := make([]workflows.ReportSummary, len(batch))
	for i, q := range batch {
		sums[i] = q.Report
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	_, err := b.submit(ctx, id, b.input(cq.account, cq.category), sums)
	cancel()
	if b.metrics != nil {
		b.metrics.IntakeBatches.Inc()
		b.metrics.IntakeBatchSize.Observe(float64(len(batch)))
		if err != nil {
			b.metrics.IntakeBatchFailures.Inc()
		}
	}
	var invalid *serviceerror.InvalidArgument
	refused := errors.As(err, &invalid)
	if err == nil || (refused && len(batch) == 1) {
		if err != nil {
			b.log.Error("Temporal refused a report for good; it goes to triage", "case_id", id, "report_id", batch[0].Report.ID, "error", err)
			b.refused(batch[0], err)
		}
		seqs := make([]uint64, len(batch))
		for i, q := range batch {
			seqs[i] = q.Seq
		}
		if jerr := b.journal.done(seqs); jerr != nil {
			b.log.Warn("intake journal: delivery not recorded (the reports will be delivered again after a restart)", "error", jerr)
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.slots++
	cq.sending = false
	switch {
	case err == nil || (refused && len(batch) == 1):
		b.queued -= len(batch)
		cq.failures = 0
		if err == nil {
			cq.take = 0
		}
	default:
		// Back to the front of the queue; a batch Temporal refuses is tried in halves.
		cq.items = append(batch, cq.items...)
		if refused {
			cq.take = max(1, len(batch)/2)
			b.makeDue(id, cq)
			break
		}
		cq.failures++
		wait := min(30*time.Second, 100*time.Millisecond<<min(cq.failures, 9))
		b.log.Warn("report delivery failed; retrying", "case_id", id, "reports", len(batch), "retry_in", wait, "error", err)
		cq.due = false
		if cq.timer != nil {
			cq.timer.Stop()
		}
		cq.timer = time.AfterFunc(wait, func() { b.windowOver(id, cq) })
	}
	if len(cq.items) == 0 {
		if cq.timer != nil {
			cq.timer.Stop()
		}
		delete(b.cases, id)
	} else if cq.due || b.closing {
		b.makeDue(id, cq)
	}
	b.setGauge()
	if b.queued == 0 {
		close(b.idle)
		b.idle = make(chan struct{})
	}
	b.dispatch()
}

func (b *batcher) setGauge() {
	if b.metrics != nil {
		b.metrics.IntakeQueued.Set(float64(b.queued))
	}
}

// close delivers what waits now (no more windows) and returns when everything is delivered
// or ctx ends; what is left stays in the journal for the next start.
func (b *batcher) close(ctx context.Context) {
	b.mu.Lock()
	b.closing = true
	for id, cq := range b.cases {
		b.makeDue(id, cq)
	}
	b.dispatch()
	idle, empty := b.idle, b.queued == 0
	b.mu.Unlock()
	if !empty {
		select {
		case <-idle:
		case <-ctx.Done():
			b.mu.Lock()
			left := b.queued
			b.mu.Unlock()
			b.log.Warn("stopping with reports not yet in their cases; they are delivered at the next start", "reports", left)
		}
	}
	// Deliveries under way finish (each is bounded by its own timeout).
	done := make(chan struct{})
	go func() { b.sends.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
}
