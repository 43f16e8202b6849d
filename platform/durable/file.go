package durable

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// WriteFile replaces path with b so that a crash leaves either the old file or the new one,
// never a part: b is written to a temporary file beside it, synced, renamed into place, and the
// directory synced.
func WriteFile(path string, b []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(b)
	if werr == nil {
		werr = tmp.Chmod(perm)
	}
	if werr == nil {
		werr = tmp.Sync()
	}
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), path)
	}
	if werr != nil {
		_ = os.Remove(tmp.Name())
		return werr
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// KeptFile returns the contents of path, a secret kept there (mode 0600): made with mint the
// first time (the directory too), synced before it is used. Two processes that both make it
// read the one that was written first.
func KeptFile(path string, mint func() (string, error)) (string, error) {
	if b, err := os.ReadFile(path); err == nil && len(b) > 0 {
		return string(b), nil
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	v, err := mint()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) { // another process made it first
		b, err := os.ReadFile(path)
		return string(b), err
	}
	if err != nil {
		return "", err
	}
	_, werr := f.WriteString(v)
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	return v, werr
}

// DiskFull says whether err comes of a full disk (or quota): the system's error, or SQLite's
// words for it.
func DiskFull(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return true
	}
	msg := strings.ToLower(err.Error())
	return strings.Contains(msg, "no space left on device") || strings.Contains(msg, "database or disk is full") || strings.Contains(msg, "disk quota exceeded")
}

// WhileDiskFull runs start again while it stops because the disk is full: a desk started on a
// full disk waits for space and then starts, instead of exiting and staying down. It says so on
// w at each try, every retry, until ctx ends.
func WhileDiskFull(ctx context.Context, retry time.Duration, w io.Writer, start func() error) error {
	for {
		err := start()
		if err == nil || !DiskFull(err) || ctx.Err() != nil {
			return err
		}
		fmt.Fprintf(w, "desk: the disk is full (%v); starting again once there is space (every %s; Ctrl-C stops)\n", err, retry)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(retry):
		}
	}
}
