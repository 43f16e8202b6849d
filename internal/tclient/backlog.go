package tclient

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"go.temporal.io/sdk/client"
)

// Backlog follows how far behind the workers of a task queue are, as the Temporal server sees
// it: the age of the oldest workflow task waiting in the queue (task queue statistics,
// DescribeTaskQueue with stats). A process that runs no worker — the ingress of a split
// deployment — reads it to hold back report deliveries while the workers elsewhere catch up, the
// way Pressure does for a worker in the same process.
type Backlog struct {
	c         client.Client
	taskQueue string
	interval  time.Duration
	log       *slog.Logger

	mu     sync.Mutex
	age    time.Duration
	count  int64
	at     time.Time // when age was read
	failed time.Time // the last failure logged
	now    func() time.Time
}

// NewBacklog returns a Backlog of the task queue's workflow tasks, read every interval once
// Run runs.
func NewBacklog(c client.Client, taskQueue string, interval time.Duration, log *slog.Logger) *Backlog {
	if interval <= 0 {
		interval = 500 * time.Millisecond
	}
	if log == nil {
		log = slog.Default()
	}
	return &Backlog{c: c, taskQueue: taskQueue, interval: interval, log: log, now: time.Now}
}

// Run reads the statistics every interval until ctx ends.
func (b *Backlog) Run(ctx context.Context) {
	t := time.NewTicker(b.interval)
	defer t.Stop()
	for {
		b.Read(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Read reads the statistics once: the oldest workflow task's age over every version of the
// queue. A failed read leaves the last value to go stale (Wait then says nothing).
func (b *Backlog) Read(ctx context.Context) {
	rctx, cancel := context.WithTimeout(ctx, 2*b.interval+time.Second)
	defer cancel()
	d, err := b.c.DescribeTaskQueueEnhanced(rctx, client.DescribeTaskQueueEnhancedOptions{
		TaskQueue: b.taskQueue, TaskQueueTypes: []client.TaskQueueType{client.TaskQueueTypeWorkflow}, ReportStats: true,
	})
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
	for _, v := range d.VersionsInfo {
		for _, ti := range v.TypesInfo {
			if ti.Stats != nil {
				age = max(age, ti.Stats.ApproximateBacklogAge)
				count += ti.Stats.ApproximateBacklogCount
			}
		}
	}
	b.age, b.count, b.at = age, count, now
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
