// Package metrics holds abusedesk's Prometheus metrics and the registry `/metrics` serves.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics are the process's counters and histograms. One value is made per process and passed
// to the components that count.
type Metrics struct {
	Registry *prometheus.Registry

	HTTPRequests *prometheus.CounterVec

	IntakeMessages      *prometheus.CounterVec
	IntakeBatches       prometheus.Counter
	IntakeBatchFailures prometheus.Counter
	IntakeBatchSize     prometheus.Histogram
	IntakeQueued        prometheus.Gauge
	// IntakeAdmitRate is set by intake: reports/s let in while the worker is behind.
	IntakeAdmitRate prometheus.Gauge
	// ReporterMessages counts each reporter's messages by outcome (parsed, triaged,
	// unparseable): parser health per reporter.
	ReporterMessages *prometheus.CounterVec
	// CaseEvents counts the case events the ledger kept, by kind, category, track and result
	// (the decision, outcome, SLA or action the event carries); CaseStep observes how long
	// after its opening a case was noticed and acted on.
	CaseEvents *prometheus.CounterVec
	CaseStep   *prometheus.HistogramVec
	// QAReviews counts quality reviews by category, kind of decision, decider and verdict: the
	// agreement rate per category and decider is agree / (agree + disagree).
	QAReviews *prometheus.CounterVec
}

// WatchWorker publishes how long workflow tasks wait for this process's worker (wait is
// tclient.Pressure.Wait), read at each scrape.
func (m *Metrics) WatchWorker(wait func() float64) {
	m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "desk_worker_task_wait_seconds",
		Help: "Longest wait of the workflow tasks this process's worker picked up in the last second (0 when it picked none up).",
	}, wait))
}

// WatchBacklog exports how long the cases' workflow tasks wait to be picked up, as a process
// without a worker sees it (and holds back on it).
func (m *Metrics) WatchBacklog(age func() float64) {
	m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "desk_task_queue_backlog_seconds",
		Help: "How long the cases' workflow tasks wait to be picked up, as a process without a worker sees it: the longest of the workers' own waits (shared ledger), the task queue's statistics and the last cases delivered to (0 when unknown).",
	}, age))
}

// New registers the Go runtime and process collectors, a build-info gauge and abusedesk's own
// metrics in a fresh registry.
func New(version string) *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "desk_build_info",
		Help:        "Always 1; the version label says which build runs.",
		ConstLabels: prometheus.Labels{"version": version},
	})
	build.Set(1)
	m := &Metrics{
		Registry: reg,
		HTTPRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "desk_http_requests_total",
			Help: "HTTP requests served, by route and status code.",
		}, []string{"route", "code"}),
	}
	m.IntakeMessages = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "desk_intake_messages_total",
		Help: "Messages taken in, by what they were (report, reply, auto-reply, bounce, unparseable, triaged) and channel.",
	}, []string{"kind", "channel"})
	m.IntakeBatches = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "desk_intake_batches_total", Help: "Report batches delivered to cases (one SignalWithStart each).",
	})
	m.IntakeBatchFailures = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "desk_intake_batch_failures_total", Help: "Report batches Temporal did not accept (they are retried).",
	})
	m.IntakeBatchSize = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "desk_intake_batch_size", Help: "Reports per delivered batch.", Buckets: prometheus.ExponentialBuckets(1, 2, 11),
	})
	m.IntakeQueued = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "desk_intake_queued", Help: "Reports accepted (in the intake journal) and not yet delivered to their cases.",
	})
	m.IntakeAdmitRate = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "desk_intake_admit_rate", Help: "Reports a second intake lets in while the worker is behind (0: no limit).",
	})
	m.ReporterMessages = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "desk_reporter_messages_total",
		Help: "Reporters' messages by reporter (the domain of the sender) and outcome: parsed (read as reports), triaged (read, but nothing went to a case), unparseable.",
	}, []string{"reporter", "outcome"})
	m.CaseEvents = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "desk_case_events_total",
		Help: "Case events kept in the ledger (each once), by kind (opened, noticed, escalated, approval_decided, enforced, appealed, appeal_decided, sla_breached, closed, …), category, track and result: the decision, outcome, SLA or action the event carries.",
	}, []string{"kind", "category", "track", "result"})
	m.CaseStep = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "desk_case_step_seconds",
		Help:    "Time from a case's opening to a step: its notice (step=notice) and its enforcement (step=action), by category.",
		Buckets: []float64{60, 600, 3600, 4 * 3600, 12 * 3600, 24 * 3600, 48 * 3600, 72 * 3600, 7 * 24 * 3600, 14 * 24 * 3600, 30 * 24 * 3600},
	}, []string{"step", "category"})
	m.QAReviews = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "desk_qa_reviews_total",
		Help: "Quality reviews of sampled decisions, by category, subject (enforcement, appeal, agent), decider and verdict (agree, disagree).",
	}, []string{"category", "subject", "decider", "verdict"})
	reg.MustRegister(m.CaseEvents, m.CaseStep, m.QAReviews)
	reg.MustRegister(build, m.HTTPRequests, m.IntakeMessages, m.IntakeBatches, m.IntakeBatchFailures, m.IntakeBatchSize, m.IntakeQueued, m.IntakeAdmitRate, m.ReporterMessages)
	return m
}
