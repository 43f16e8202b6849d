package ledger

import (
	"context"
	"errors"
	"fmt"

	"abusedesk/platform/config"
)

// OpenConfigured opens the ledger the configuration names (DESK_LEDGER_URL, or the ledger.db of
// dataDir, default DESK_DATA_DIR), for the commands that read it (desk ledger, report, policy simulate); it returns the
// configuration and its lookup with them.
func OpenConfigured(ctx context.Context, lookup config.Lookup, dataDir string) (*Store, config.Desk, config.Lookup, error) {
	if dataDir != "" {
		lookup = config.Overlay(lookup, map[string]string{"DESK_DATA_DIR": dataDir})
	}
	cfg, err := config.LoadDesk(lookup)
	if err != nil {
		return nil, cfg, nil, fmt.Errorf("configuration:\n%w", err)
	}
	if cfg.LedgerOff() {
		return nil, cfg, nil, errors.New("DESK_LEDGER_URL=off: this desk keeps no ledger")
	}
	store, err := Open(ctx, cfg.Ledger())
	if err != nil {
		return nil, cfg, nil, fmt.Errorf("%w (DESK_LEDGER_URL)", err)
	}
	return store, cfg, lookup, nil
}
