package durable

import (
	"slices"
	"sync"
	"testing"
	"time"
)

// TestGroupCoversEveryWriter: each waiter returns only after a flush that began after its
// write, and concurrent writers share flushes.
func TestGroupCoversEveryWriter(t *testing.T) {
	const writers = 64
	var mu sync.Mutex
	written := make([]bool, writers)
	var flushes [][]bool // what each flush saw written when it began
	g := NewGroup(func() error {
		mu.Lock()
		flushes = append(flushes, slices.Clone(written))
		mu.Unlock()
		time.Sleep(5 * time.Millisecond)
		return nil
	})
	var wg sync.WaitGroup
	covered := make([]bool, writers)
	for i := range writers {
		wg.Go(func() {
			mu.Lock()
			written[i] = true
			mu.Unlock()
			if err := g.Wait(); err != nil {
				t.Error(err)
			}
			mu.Lock()
			for _, f := range flushes {
				covered[i] = covered[i] || f[i]
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	for i, ok := range covered {
		if !ok {
			t.Errorf("writer %d returned before a flush that saw its write", i)
		}
	}
	if len(flushes) >= writers {
		t.Errorf("%d flushes for %d concurrent writers: nothing was grouped", len(flushes), writers)
	}
	t.Logf("%d writers, %d flushes", writers, len(flushes))
}
