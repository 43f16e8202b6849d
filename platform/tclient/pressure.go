package tclient

import (
	"sync"
	"time"

	"go.temporal.io/sdk/client"
)

// Pressure follows how long workflow tasks wait in their task queue before this process's
// worker picks them up (the SDK's workflow_task_schedule_to_start_latency). A long wait means
// the worker is behind: every case's next step — a deadline's escalation among them — queues
// behind what is already there. Intake reads it to hold back report deliveries, which can
// wait in its journal, while cases catch up.
type Pressure struct {
	mu       sync.Mutex
	now      func() time.Time
	last     time.Time     // the latest observation
	winStart time.Time     // the current half-second window
	cur      time.Duration // the longest wait in the current window
	prev     time.Duration // the longest wait in the window before
}

// NewPressure returns a Pressure with nothing observed.
func NewPressure() *Pressure { return &Pressure{now: time.Now} }

// pressureWindow is how long one observation counts; a worker picking up tasks reports many
// a second, so a window this short follows the queue closely.
const pressureWindow = 500 * time.Millisecond

// Observe records one task's wait.
func (p *Pressure) Observe(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	p.rotate(now)
	p.cur = max(p.cur, d)
	p.last = now
}

func (p *Pressure) rotate(now time.Time) {
	switch el := now.Sub(p.winStart); {
	case el >= 2*pressureWindow:
		p.prev, p.cur, p.winStart = 0, 0, now
	case el >= pressureWindow:
		p.prev, p.cur, p.winStart = p.cur, 0, now
	}
}

// Wait is the longest wait of the tasks picked up in the last half second to second; zero
// when none was picked up for a second (the queue is empty, or nothing runs here).
func (p *Pressure) Wait() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if now.Sub(p.last) > 2*pressureWindow {
		return 0
	}
	p.rotate(now)
	return max(p.cur, p.prev)
}

// MetricsHandler is an SDK metrics handler that feeds p and records nothing else.
func (p *Pressure) MetricsHandler() client.MetricsHandler { return pressureHandler{p} }

// workflowTaskWait is the SDK's name of the metric (internal/common/metrics).
const workflowTaskWait = "temporal_workflow_task_schedule_to_start_latency"

type pressureHandler struct{ p *Pressure }

func (h pressureHandler) WithTags(map[string]string) client.MetricsHandler { return h }
func (h pressureHandler) Counter(string) client.MetricsCounter {
	return client.MetricsNopHandler.Counter("")
}
func (h pressureHandler) Gauge(string) client.MetricsGauge { return client.MetricsNopHandler.Gauge("") }
func (h pressureHandler) Timer(name string) client.MetricsTimer {
	if name == workflowTaskWait {
		return pressureTimer(h)
	}
	return client.MetricsNopHandler.Timer("")
}

type pressureTimer struct{ p *Pressure }

func (t pressureTimer) Record(d time.Duration) { t.p.Observe(d) }
