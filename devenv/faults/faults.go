// Package faults queues the failures a stand-in serves instead of an answer: a status (with
// Retry-After when set) or a delay, for the next requests under a path prefix. The Zendesk and
// enforcement stand-ins share it, so tests drive both the same way.
package faults

import (
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Fault is one queued failure: Delay, when set, holds the request and lets it through;
// otherwise the request is answered Status.
type Fault struct {
	Prefix     string
	Status     int
	RetryAfter string
	Delay      time.Duration
}

// Queue holds faults in the order they were added. The zero value is empty and ready.
type Queue struct {
	mu   sync.Mutex
	list []Fault
}

// Add queues f for the next n requests under f.Prefix.
func (q *Queue) Add(f Fault, n int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for range n {
		q.list = append(q.list, f)
	}
}

// Take removes and returns the first fault for path.
func (q *Queue) Take(path string) (Fault, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for i, f := range q.list {
		if strings.HasPrefix(path, f.Prefix) {
			q.list = slices.Delete(q.list, i, i+1)
			return f, true
		}
	}
	return Fault{}, false
}

// Serve applies the first fault for r, if any: it waits out a delay (true: serve the request
// now, false: the client went away), or sets Retry-After and calls fail to answer the status
// in the fake's own error format (false: the request is answered).
func (q *Queue) Serve(w http.ResponseWriter, r *http.Request, fail func(w http.ResponseWriter, status int)) bool {
	f, ok := q.Take(r.URL.Path)
	switch {
	case !ok:
		return true
	case f.Delay > 0:
		select {
		case <-time.After(f.Delay):
			return true
		case <-r.Context().Done():
			return false
		}
	default:
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		fail(w, f.Status)
		return false
	}
}
