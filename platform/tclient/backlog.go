package tclient

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
)

// Backlog follows how far behind the workers of a task queue are, as the Temporal server sees
// it: the age of the oldest workflow task waiting in the queue (task queue statistics,
// DescribeTaskQueue with stats). A process that runs no worker — the ingress of a split
// deployment — reads it to hold back report deliveries while the workers elsewhere catch up, the
// way Pressure does for a worker in the same process.
//
// The statistics cover the queue every worker polls, not the workers' sticky queues, where a
// workflow the worker has cached gets its next tasks: in a storm most tasks wait there, out of
// sight (on the cluster the queue's oldest task was under 0.2 s old while tasks waited over a
// second to be picked up). So Backlog also looks at the last workflows the process delivered to
// (Delivered): a workflow task scheduled and not yet started is waiting, sticky or not, and its
// age counts too.
type Backlog struct {
	c         client.Client
	taskQueue string
	interval  time.Duration
	log       *slog.Logger

	// also is another measure of the workers' wait (AlsoWait), nil for none.
	also func(context.Context) (time.Duration, error)

	mu     sync.Mutex
	recent []string // the last workflows delivered to, newest last
	age    time.Duration
	count  int64
	at     time.Time // when age was read
	failed time.Time // the last failure logged
	now    func() time.Time
}

// NewBacklog returns a Backlog of the task queue's workflow tasks, to be read every interval.
func NewBacklog(c client.Client, taskQueue string, interval time.Duration, log *slog.Logger) *Backlog {
	if interval <= 0 {
		interval = 500 * time.Millisecond
	}
	if log == nil {
		log = slog.Default()
	}
	return &Backlog{c: c, taskQueue: taskQueue, interval: interval, log: log, now: time.Now}
}

// sampled is how many of the latest workflows delivered to each Read looks at.
const sampled = 8

// Delivered notes a workflow this process just delivered to (a report batch's case): the next
// Reads look at whether its workflow task waits.
func (b *Backlog) Delivered(workflowID string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if i := slices.Index(b.recent, workflowID); i >= 0 {
		b.recent = slices.Delete(b.recent, i, i+1)
	}
	b.recent = append(b.recent, workflowID)
	if len(b.recent) > sampled {
		b.recent = slices.Delete(b.recent, 0, len(b.recent)-sampled)
	}
}

// AlsoWait adds a measure of the workers' wait read with the statistics (the workers' own,
// shared through the ledger); a failed read of it counts nothing.
func (b *Backlog) AlsoWait(f func(context.Context) (time.Duration, error)) { b.also = f }

// Read reads the statistics once (every interval, as the desk runs it): the oldest workflow
// task's age over every version of the queue, of a task waiting for one of the workflows
// delivered to last, or AlsoWait's, whichever is longest. A
// failed read of the statistics leaves the last value to go stale (Wait then says nothing).
func (b *Backlog) Read(ctx context.Context) {
	rctx, cancel := context.WithTimeout(ctx, 2*b.interval+time.Second)
	defer cancel()
	d, err := b.c.DescribeTaskQueueEnhanced(rctx, client.DescribeTaskQueueEnhancedOptions{
		TaskQueue: b.taskQueue, TaskQueueTypes: []client.TaskQueueType{client.TaskQueueTypeWorkflow}, ReportStats: true,
	})
	b.mu.Lock()
	recent := slices.Clone(b.recent)
	b.mu.Unlock()
	pending := b.pendingAge(rctx, recent)
	if b.also != nil {
		if w, err := b.also(rctx); err == nil {
			pending = max(pending, w)
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	if err != nil {
		if ctx.Err() == nil && now.Sub(b.failed) > time.Minute {
			b.failed = now
			b.log.Warn("task queue statistics unreadable; not holding back on them", "task_queue", b.taskQueue, "error", err)
		}
		return
	}
	var age time.Duration
	var count int64
	//lint:ignore SA1019 the SDK's typed backlog statistics are only here; VersioningInfo, its replacement, carries none
	for _, v := range d.VersionsInfo {
		for _, ti := range v.TypesInfo {
			if ti.Stats != nil {
				age = max(age, ti.Stats.ApproximateBacklogAge)
				count += ti.Stats.ApproximateBacklogCount
			}
		}
	}
	b.age, b.count, b.at = max(age, pending), count, now
}

// pendingAge is the age of the oldest workflow task scheduled and not yet started among the
// workflows, by the server's clock as the workflows' descriptions give it (a failed
// description counts nothing).
func (b *Backlog) pendingAge(ctx context.Context, ids []string) time.Duration {
	var oldest time.Duration
	for _, id := range ids {
		d, err := b.c.DescribeWorkflowExecution(ctx, id, "")
		if err != nil {
			continue
		}
		wt := d.GetPendingWorkflowTask()
		if wt == nil || wt.GetState() != enumspb.PENDING_WORKFLOW_TASK_STATE_SCHEDULED || wt.GetScheduledTime() == nil {
			continue
		}
		oldest = max(oldest, b.now().Sub(wt.GetScheduledTime().AsTime()))
	}
	return oldest
}

// Wait is the age of the oldest workflow task waiting in the queue, as last read; zero when
// nothing was read for three intervals (the server cannot say, so nothing is held back on it).
func (b *Backlog) Wait() time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.at.IsZero() || b.now().Sub(b.at) > 3*b.interval {
		return 0
	}
	return b.age
}

// Count is the approximate number of workflow tasks waiting, as last read.
func (b *Backlog) Count() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.count
}
