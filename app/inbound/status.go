package inbound

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"abusedesk/app/ledger"
	"abusedesk/domain/abuse"
	"abusedesk/platform/httpx"
)

// ReportStatus is the answer of GET /api/v1/reports/{id}.
type ReportStatus struct {
	ReportID   string    `json:"report_id"`
	ReceivedAt time.Time `json:"received_at"`
	// Status is received (taken, on its way to its case, or confidential), with_a_person (a
	// person reads it before any case), open (its case is being handled) or closed.
	Status string       `json:"status"`
	Cases  []ReportCase `json:"cases,omitempty"`
}

// ReportCase is the incident of a case that took the report.
type ReportCase struct {
	CaseNumber string    `json:"case_number"`
	Open       bool      `json:"open"`
	OpenedAt   time.Time `json:"opened_at"`
	ClosedAt   time.Time `json:"closed_at,omitzero"`
	// Outcome and Action are said when the policy tells reporters the outcome of the
	// category's cases (acknowledge_reporters).
	Outcome string `json:"outcome,omitempty"`
	Action  string `json:"action,omitempty"`
}

// Report statuses.
const (
	StatusReceived    = "received"
	StatusWithAPerson = "with_a_person"
	StatusOpen        = "open"
	StatusClosed      = "closed"
)

// ReportStatusAPI serves GET /api/v1/reports/{id}: what became of a report the reports API
// accepted (its ID from the POST's answer; a message handed to a person as a whole by its
// digest). A legal-track report is only ever "received": nothing of a confidential matter is
// said, not even its case number. tellOutcome says whether the policy tells reporters the
// outcome of a category's cases.
func ReportStatusAPI(records Records, token string, tellOutcome func(abuse.Category) bool, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !httpx.HasBearer(r, token) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="abusedesk"`)
			httpx.Problem(w, http.StatusUnauthorized, "missing or wrong bearer token (DESK_API_TOKEN)")
			return
		}
		id := r.PathValue("id")
		if id == "" || len(id) > 512 {
			httpx.Problem(w, http.StatusBadRequest, "a report ID is 1 to 512 characters, as the POST's answer gave it")
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
		defer cancel()
		st, err := records.ReportStatus(ctx, id)
		switch {
		case errors.Is(err, ledger.ErrNoSuchReport):
			httpx.Problem(w, http.StatusNotFound, "no report "+id+" was submitted through this API (report statuses are kept from the POST's answer on)")
			return
		case errors.Is(err, errNoLedger):
			httpx.Problem(w, http.StatusNotImplemented, err.Error())
			return
		case err != nil:
			log.Error("report status", "report", id, "error", err)
			w.Header().Set("Retry-After", "5")
			httpx.Problem(w, http.StatusServiceUnavailable, "the report's status could not be read now: ask again")
			return
		}
		httpx.WriteJSON(w, http.StatusOK, statusOf(st, tellOutcome))
	})
}

// statusOf is what a reporter is told of a report.
func statusOf(st *ledger.ReportStatus, tellOutcome func(abuse.Category) bool) ReportStatus {
	out := ReportStatus{ReportID: st.ReportID, ReceivedAt: st.ReceivedAt, Status: StatusReceived}
	if st.Legal {
		return out
	}
	open := false
	for _, inc := range st.Incidents {
		c := ReportCase{CaseNumber: inc.Number, Open: inc.ClosedAt.IsZero(), OpenedAt: inc.OpenedAt, ClosedAt: inc.ClosedAt}
		if !c.Open && tellOutcome != nil && tellOutcome(st.Category) {
			c.Outcome, c.Action = inc.Outcome, inc.Action
		}
		open = open || c.Open
		out.Cases = append(out.Cases, c)
	}
	switch {
	case open:
		out.Status = StatusOpen
	case len(out.Cases) > 0 && st.Pending == 0:
		out.Status = StatusClosed
	case len(out.Cases) > 0:
		out.Status = StatusOpen // a case it is on its way to is still to open
	case !st.Ticket.IsZero():
		out.Status = StatusWithAPerson
	}
	return out
}

// errNoLedger is a report status asked of a desk that keeps no ledger.
var errNoLedger = errors.New("report statuses need the case ledger, which this desk does not keep (DESK_LEDGER_URL=off)")

// memoryKeys keep Idempotency-Keys in this process's memory, for a desk without a ledger.
type memoryKeys struct {
	mu   sync.Mutex
	keys map[string]*memoryKey
}

type memoryKey struct {
	digest string
	stored ledger.Stored
}

func newMemoryKeys() *memoryKeys { return &memoryKeys{keys: map[string]*memoryKey{}} }

// NoLedger are the records of a desk without a ledger: Idempotency-Keys in this process's
// memory, and no report statuses (ReportStatusAPI answers 501).
func NoLedger() Records { return newMemoryKeys() }

func (m *memoryKeys) ClaimKey(_ context.Context, key, digest string, now time.Time, r ledger.KeyRules) (*ledger.Stored, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, v := range m.keys {
		if v.stored.At.Before(now.Add(-r.Keep)) {
			delete(m.keys, k)
		}
	}
	k, ok := m.keys[key]
	switch {
	case !ok:
		m.keys[key] = &memoryKey{digest: digest, stored: ledger.Stored{At: now}}
		return nil, nil
	case k.digest != digest:
		return nil, ledger.ErrKeyReused
	case k.stored.Status != 0:
		s := k.stored
		return &s, nil
	}
	return nil, ledger.ErrKeyInFlight
}

func (m *memoryKeys) CompleteKey(_ context.Context, key string, status int, response []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if k, ok := m.keys[key]; ok {
		k.stored.Status, k.stored.Response = status, append([]byte(nil), response...)
	}
	return nil
}

func (m *memoryKeys) ReleaseKey(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if k, ok := m.keys[key]; ok && k.stored.Status == 0 {
		delete(m.keys, key)
	}
	return nil
}

func (m *memoryKeys) RecordSubmitted(context.Context, []ledger.Submitted) error { return nil }

func (m *memoryKeys) ReportStatus(context.Context, string) (*ledger.ReportStatus, error) {
	return nil, errNoLedger
}
