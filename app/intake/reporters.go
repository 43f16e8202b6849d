package intake

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"abusedesk/integrations/reports"
	"abusedesk/platform/durable"
	"abusedesk/platform/metrics"
)

// Parser health: how each reporter's mail fares — read as reports, handed to a person, or not
// readable at all — and the moment a reporter whose reports used to parse starts failing
// (format drift), which is told to the leads once.

// Drift: a reporter with at least driftAfterParsed readable messages whose last
// driftFailStreak messages could not be read.
const (
	driftAfterParsed = 3
	driftFailStreak  = 3
	// maxReporters bounds what is kept (and labelled in metrics); the least recently seen go.
	maxReporters = 2000
)

// ReporterHealth is one reporter's record.
type ReporterHealth struct {
	// Reporter is the domain of the reporter's address ("shadowserver.org").
	Reporter    string    `json:"reporter"`
	Parsed      int       `json:"parsed"`
	Triaged     int       `json:"triaged"`
	Unparseable int       `json:"unparseable"`
	FailStreak  int       `json:"fail_streak"`
	Drifting    bool      `json:"drifting"`
	LastSeen    time.Time `json:"last_seen"`
	LastParsed  time.Time `json:"last_parsed,omitzero"`
	LastFailed  time.Time `json:"last_failed,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
	LastFormat  string    `json:"last_format,omitempty"`
	// Legal is set once a message of the reporter read as a legal matter (a police request, a
	// hotline's notice): the reporter is then shown only to the legal team, counted on
	// /metrics under "legal" and never named in the leads' channel.
	Legal bool `json:"legal,omitempty"`
}

// legalMessage says whether a message reads as a legal matter.
func legalMessage(res *reports.Result) bool {
	return slices.ContainsFunc(res.Reports, func(r reports.Report) bool { return r.Category.Confidential() })
}

// DriftAlert tells the leads that a reporter's format drifted (text from templates/).
type DriftAlert func(ctx context.Context, h ReporterHealth) error

// Reporters keeps the records, in memory and in a JSON file (written at most every few
// seconds and at Close).
type Reporters struct {
	mu      sync.Mutex
	path    string
	byName  map[string]*ReporterHealth
	dirty   bool
	alert   DriftAlert
	metrics *metrics.Metrics
	log     *slog.Logger
	stop    chan struct{}
	done    chan struct{}
}

// OpenReporters reads the records kept at path (none yet is fine) and starts saving them.
func OpenReporters(path string, alert DriftAlert, m *metrics.Metrics, log *slog.Logger) (*Reporters, error) {
	r := &Reporters{path: path, byName: map[string]*ReporterHealth{}, alert: alert, metrics: m, log: cmp.Or(log, slog.Default()),
		stop: make(chan struct{}), done: make(chan struct{})}
	if b, err := os.ReadFile(path); err == nil {
		var list []ReporterHealth
		if err := json.Unmarshal(b, &list); err != nil {
			return nil, fmt.Errorf("reporter records %s: %w", path, err)
		}
		for i := range list {
			h := list[i]
			r.byName[h.Reporter] = &h
		}
	} else if !os.IsNotExist(err) {
		return nil, fmt.Errorf("reporter records: %w", err)
	}
	go r.saveLoop()
	return r, nil
}

// reporterOf is the domain of a reporter's address (or the name an X-ARF document gives),
// "unknown" without one.
func reporterOf(from string) string {
	if d := reports.DomainOf(from); d != "" {
		return d
	}
	return cmp.Or(reports.OneLine(strings.ToLower(from), 80), "unknown")
}

// outcomes of a reporter's message.
const (
	outcomeParsed      = "parsed"
	outcomeTriaged     = "triaged"
	outcomeUnparseable = "unparseable"
)

// record counts one message of a reporter and tells the leads when its format drifted.
func (r *Reporters) record(ctx context.Context, res *reports.Result, outcome string, at time.Time) {
	if r == nil || (res.Kind != reports.KindReport && res.Kind != reports.KindUnparseable) {
		return // customers' replies are not reporters' mail
	}
	from := res.From
	if from == "" && len(res.Reports) > 0 {
		from = res.Reports[0].Reporter // a bare X-ARF 4 document names its reporter
	}
	name := reporterOf(from)
	r.mu.Lock()
	h := r.byName[name]
	if h == nil {
		if len(r.byName) >= maxReporters {
			r.forgetOldest()
		}
		h = &ReporterHealth{Reporter: name}
		r.byName[name] = h
	}
	h.LastSeen = at
	legal := legalMessage(res)
	h.Legal = h.Legal || legal
	var drifted bool
	switch outcome {
	case outcomeUnparseable:
		h.Unparseable++
		h.FailStreak++
		h.LastFailed, h.LastError = at, reports.OneLine(res.Error, 300)
		if !h.Drifting && h.Parsed >= driftAfterParsed && h.FailStreak >= driftFailStreak {
			h.Drifting, drifted = true, true
		}
	default:
		if outcome == outcomeTriaged {
			h.Triaged++
		} else {
			h.Parsed++
		}
		h.FailStreak, h.Drifting, h.LastParsed = 0, false, at
		if len(res.Reports) > 0 {
			h.LastFormat = res.Reports[0].Format
		}
	}
	r.dirty = true
	snapshot := *h
	r.mu.Unlock()
	if r.metrics != nil {
		label := name
		if snapshot.Legal {
			label = "legal"
		}
		r.metrics.ReporterMessages.WithLabelValues(label, outcome).Inc()
	}
	if drifted && snapshot.Legal {
		r.log.Warn("a legal reporter's messages stopped parsing; the leads are not told (legal matters stay with the legal team)", "fail_streak", snapshot.FailStreak)
		drifted = false
	}
	if drifted {
		r.log.Warn("a reporter's reports stopped parsing", "reporter", name, "fail_streak", snapshot.FailStreak, "parsed_before", snapshot.Parsed)
		if r.alert != nil {
			if err := r.alert(ctx, snapshot); err != nil {
				r.log.Error("drift alert not sent", "reporter", name, "error", err)
			}
		}
	}
}

func (r *Reporters) forgetOldest() {
	oldest := ""
	for name, h := range r.byName {
		if oldest == "" || h.LastSeen.Before(r.byName[oldest].LastSeen) {
			oldest = name
		}
	}
	delete(r.byName, oldest)
}

// Snapshot lists the records, drifting ones first, then by the most recently seen.
func (r *Reporters) Snapshot() []ReporterHealth {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	out := make([]ReporterHealth, 0, len(r.byName))
	for _, h := range r.byName {
		out = append(out, *h)
	}
	r.mu.Unlock()
	slices.SortFunc(out, func(a, b ReporterHealth) int {
		if a.Drifting != b.Drifting {
			if a.Drifting {
				return -1
			}
			return 1
		}
		return cmp.Or(b.LastSeen.Compare(a.LastSeen), strings.Compare(a.Reporter, b.Reporter))
	})
	return out
}

func (r *Reporters) saveLoop() {
	defer close(r.done)
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			r.save()
		case <-r.stop:
			r.save()
			return
		}
	}
}

// save writes the records when they changed (atomically: a temporary file renamed).
func (r *Reporters) save() {
	r.mu.Lock()
	if !r.dirty {
		r.mu.Unlock()
		return
	}
	r.dirty = false
	r.mu.Unlock()
	b, err := json.MarshalIndent(r.Snapshot(), "", " ")
	if err == nil {
		if err = os.MkdirAll(filepath.Dir(r.path), 0o750); err == nil {
			err = durable.WriteFile(r.path, b, 0o600)
		}
	}
	if err != nil {
		r.log.Warn("reporter records not saved", "path", r.path, "error", err)
		r.mu.Lock()
		r.dirty = true
		r.mu.Unlock()
	}
}

// Close saves the records and stops.
func (r *Reporters) Close() {
	if r == nil {
		return
	}
	close(r.stop)
	<-r.done
}
