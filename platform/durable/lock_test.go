//go:build unix

package durable

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestLockDir: a held dir is refused to a second taker with an error naming the holder, and is
// free again once released.
func TestLockDir(t *testing.T) {
	dir := t.TempDir()
	release, err := LockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = LockDir(dir)
	var locked *LockedError
	if !errors.As(err, &locked) || !strings.Contains(err.Error(), "process "+strconv.Itoa(os.Getpid())) {
		t.Fatalf("second lock: %v, want a LockedError naming this process", err)
	}
	release()
	again, err := LockDir(dir)
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	again()
}
