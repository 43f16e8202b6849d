package ingress

import (
	"context"
	"fmt"
)

// DiskCheck is a readiness check on the file system that holds dir: not ready while it has
// less than min bytes free, or while recent reports a write that failed for lack of space —
// the desk would refuse every report, so a load balancer should send them elsewhere.
func DiskCheck(dir string, min uint64, recent func() error) ReadyCheck {
	return ReadyCheck{Name: "disk", Check: func(context.Context) error {
		if recent != nil {
			if err := recent(); err != nil {
				return err
			}
		}
		n, err := FreeBytes(dir)
		if err != nil {
			return fmt.Errorf("free space of %s: %w", dir, err)
		}
		if n < min {
			return fmt.Errorf("%s has %d MiB free, below the %d MiB the desk keeps for reports", dir, n>>20, min>>20)
		}
		return nil
	}}
}
