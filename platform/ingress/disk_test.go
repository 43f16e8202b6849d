package ingress

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestDiskCheck(t *testing.T) {
	dir := t.TempDir()
	if err := DiskCheck(dir, 0, nil).Check(context.Background()); err != nil {
		t.Errorf("with no minimum: %v", err)
	}
	if err := DiskCheck(dir, 1<<62, nil).Check(context.Background()); err == nil || !strings.Contains(err.Error(), "MiB free") {
		t.Errorf("with more asked than any disk has: %v, want not ready naming the free space", err)
	}
	full := errors.New("no space left on device")
	if err := DiskCheck(dir, 0, func() error { return full }).Check(context.Background()); !errors.Is(err, full) {
		t.Errorf("after a failed write: %v, want it", err)
	}
}
