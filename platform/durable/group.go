// Package durable has the group commit that makes concurrent writes durable together: the
// evidence store and the intake journal wait for one flush each instead of one fsync each.
package durable

import "sync"

// Group makes writes durable in groups: every writer that finished writing waits for one
// flush that started after it, and a flush covers everyone waiting when it starts. Under load
// one flush serves many writers instead of one fsync each.
type Group struct {
	flush func() error

	mu        sync.Mutex
	cond      *sync.Cond
	requested uint64 // requests so far
	done      uint64 // requests covered by a finished flush
	running   bool
	err       error // of the last flush
}

// NewGroup makes a group around flush (an fsync, a syncfs).
func NewGroup(flush func() error) *Group {
	g := &Group{flush: flush}
	g.cond = sync.NewCond(&g.mu)
	return g
}

// Wait returns once a flush that started after the call has finished, with its error.
func (g *Group) Wait() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.requested++
	mine := g.requested
	for g.done < mine {
		if g.running {
			g.cond.Wait()
			continue
		}
		g.running = true
		covers := g.requested
		g.mu.Unlock()
		err := g.flush()
		g.mu.Lock()
		g.running, g.done, g.err = false, covers, err
		g.cond.Broadcast()
	}
	return g.err
}
