//go:build linux

package main

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"abusedesk/platform/config"
)

// TestDevWaitsForDiskSpace: a desk dev started on a full disk does not exit: it says so, waits,
// and starts once space returns. (Mounting the small tmpfs needs root: skipped otherwise.)
func TestDevWaitsForDiskSpace(t *testing.T) {
	skipShort(t)
	mnt := t.TempDir()
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=96m,mode=0755"); err != nil {
		t.Skipf("a tmpfs could not be mounted (%v); it needs root", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(mnt, syscall.MNT_DETACH) })
	filler := filepath.Join(mnt, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 1<<20)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			break
		}
	}
	_ = f.Close()
	was := diskRetry
	diskRetry = 200 * time.Millisecond
	t.Cleanup(func() { diskRetry = was })

	dir := filepath.Join(mnt, "desk")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stderr := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"dev", "--data-dir", dir, "--http-port", "0", "--temporal-port", "0", "--ui-port", "-1"}, io.Discard, stderr, config.MapLookup(nil))
	}()
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(stderr.String(), "the disk is full"); time.Sleep(50 * time.Millisecond) {
		select {
		case err := <-done:
			t.Fatalf("desk dev on a full disk ended: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("desk dev on a full disk never said so:\n%s", stderr.String())
		}
	}
	time.Sleep(500 * time.Millisecond) // a few tries more
	select {
	case err := <-done:
		t.Fatalf("desk dev on a full disk ended: %v", err)
	default:
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	waitForEndpoints(t, dir, done)
	cancel()
	if err := <-done; err != nil {
		t.Errorf("desk dev stopped with %v", err)
	}
}
