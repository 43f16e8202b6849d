//go:build linux

package evidence

import (
	"os"

	"golang.org/x/sys/unix"
)

// newFlusher flushes the whole file system the store is on with syncfs(2): one call makes
// every file written before it durable (the renames too), however many there are.
func newFlusher(dir string) (func() error, bool) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, false
	}
	// The descriptor lives as long as the process: stores are opened once.
	return func() error { return unix.Syncfs(int(f.Fd())) }, true
}
