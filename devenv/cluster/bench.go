package cluster

import (
	"context"
	"database/sql"
	"log/slog"

	"abusedesk/devenv/bench"
	"abusedesk/platform/config"
)

// ForBench is bench.Options.StartCluster for desks run by the command desk (nil: this
// executable, as for Start) with deskEnv added to their environment and the logger log: the
// production topology with two workers, on the bench's stand-ins instead of the sandbox's,
// its Temporal server built once into binDir.
func ForBench(desk []string, deskEnv map[string]string, binDir string, log *slog.Logger) func(ctx context.Context, dir string, vars map[string]string, policyFile string) (bench.ProductionTopology, error) {
	return func(ctx context.Context, dir string, vars map[string]string, policyFile string) (bench.ProductionTopology, error) {
		c, err := Start(ctx, Options{Dir: dir, BinDir: binDir, Workers: 2, Desk: desk, DeskEnv: deskEnv, PolicyFile: policyFile, Outside: vars, Log: log})
		if err != nil {
			return nil, err
		}
		return benchCluster{c}, nil
	}
}

type benchCluster struct{ *Cluster }

func (b benchCluster) Endpoints() config.Endpoints {
	return config.Endpoints{HTTP: b.IngressURL, API: &config.APIEndpoint{URL: b.IngressURL + "/api/v1/reports", Token: b.APIToken},
		Temporal: &config.TemporalAddress{Address: b.Frontend, Namespace: Namespace}, MetricsToken: b.MetricsToken}
}

func (b benchCluster) LedgerURL() string { return b.Cluster.LedgerURL }

func (b benchCluster) Temporal() config.Temporal { return b.Cluster.Temporal("") }

// DatabaseBytes is the size of the Temporal server's two databases.
func (b benchCluster) DatabaseBytes(ctx context.Context) (int64, error) {
	db, err := sql.Open("pgx", b.PG.URL("postgres"))
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var n int64
	err = db.QueryRowContext(ctx, `SELECT pg_database_size('temporal') + pg_database_size('temporal_visibility')`).Scan(&n)
	return n, err
}
