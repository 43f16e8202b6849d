// Package devserver runs a complete Temporal server inside the current process, on SQLite, for
// `desk dev`, the sandbox and the integration tests.
//
// The database is a file under a data directory (so workflows survive a restart) or, when no
// directory is given, an in-memory database that vanishes with the process. Everything listens on
// loopback. The server's own logging is quiet unless a level is asked for.
package devserver

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	uiserver "github.com/temporalio/ui-server/v2/server"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	uiserveroptions "github.com/temporalio/ui-server/v2/server/server_options"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/membership/static"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	"go.temporal.io/server/common/primitives"
	sqliteschema "go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/temporal"
	"google.golang.org/protobuf/types/known/durationpb"

	"abusedesk/platform/tclient"
)

// DatabaseFile is the name of the SQLite file inside the data directory.
const DatabaseFile = "temporal.db"

// VisibilityRPS is the visibility requests a second the frontend takes for the namespace
// (Temporal's default is 10): every new incident reads its account's previous one, and a storm
// opening many cases at once would wait on the limit. devenv/cluster's dynamic configuration
// (the production one) sets the same.
const VisibilityRPS = 200

// Options configures the embedded server. The zero value (plus a Namespace) is a usable
// in-memory server on free loopback ports without a UI.
type Options struct {
	// DataDir holds the SQLite database. Empty means an in-memory database.
	DataDir string
	// Namespace is registered at start; required.
	Namespace string
	// SearchAttributes are the custom search attributes the namespace must have. They are
	// written with the namespace when it is created, and added through the operator API when
	// an existing database lacks them.
	SearchAttributes map[string]enumspb.IndexedValueType
	// IP to listen on; default 127.0.0.1.
	IP string
	// InternalPorts, when set, pin the server's own ports (else free ones are picked): the
	// frontend's HTTP port, then the history, matching and worker services' gRPC ports, then
	// the four services' membership ports (frontend, history, matching, worker) — 8 in all.
	InternalPorts []int
	// FrontendPort is the gRPC port; 0 picks a free one.
	FrontendPort int
	// UIPort serves the Temporal Web UI; 0 picks a free one, -1 disables the UI.
	UIPort int
	// Retention of closed workflows; default 30 days, so closed cases stay visible.
	Retention time.Duration
	// HistoryCacheMaxSize caps the history service's host-level mutable-state cache (entries).
	// It is what sets the server's memory with many open workflows; default 2048.
	HistoryCacheMaxSize int
	// Logger receives the server's logs at LogLevel and above; default slog.Default().
	Logger *slog.Logger
	// LogLevel for the server's own logs; the zero value means Error (quiet). Use
	// slog.LevelInfo or lower to see them.
	LogLevel slog.Level
	// DynamicConfig overrides dynamic-config keys (e.g. "history.hostLevelCacheMaxSize").
	DynamicConfig map[string]any
}

// Server is a running embedded Temporal server.
type Server struct {
	server    temporal.Server
	ui        *uiserver.Server
	hostPort  string
	uiURL     string
	namespace string
	dbPath    string
}

// HostPort is the frontend's gRPC address.
func (s *Server) HostPort() string { return s.hostPort }

// Namespace is the namespace registered at start.
func (s *Server) Namespace() string { return s.namespace }

// UIURL is the Web UI's base URL, or "" when the UI is disabled.
func (s *Server) UIURL() string { return s.uiURL }

// DatabasePath is the SQLite file, or "" for an in-memory database.
func (s *Server) DatabasePath() string { return s.dbPath }

// Start runs the server and returns once its frontend answers and the namespace has every
// search attribute asked for.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.Namespace == "" {
		return nil, errors.New("devserver: Options.Namespace is empty")
	}
	if opts.IP == "" {
		opts.IP = "127.0.0.1"
	}
	if opts.Retention <= 0 {
		opts.Retention = 30 * 24 * time.Hour
	}
	if opts.HistoryCacheMaxSize <= 0 {
		opts.HistoryCacheMaxSize = 2048
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.LogLevel == 0 {
		opts.LogLevel = slog.LevelError
	}
	// A port that is taken makes the server's own start fail deep inside (with a panic in
	// some versions): refuse it first, saying which one.
	for _, p := range []struct {
		port    int
		service string
	}{{opts.FrontendPort, "frontend"}, {opts.UIPort, "ui"}} {
		if p.port > 0 {
			if err := portFree(opts.IP, p.port); err != nil {
				return nil, &PortInUseError{Service: p.service, Port: p.port, Err: err}
			}
		}
	}
	var ports []int
	if len(opts.InternalPorts) > 0 {
		if len(opts.InternalPorts) != 8 {
			return nil, fmt.Errorf("devserver: %d internal ports given, want 8", len(opts.InternalPorts))
		}
		for i, p := range opts.InternalPorts {
			if err := portFree(opts.IP, p); err != nil {
				return nil, &PortInUseError{Service: internalServices[i], Port: p, Err: err}
			}
		}
		ports = slices.Clone(opts.InternalPorts)
		if opts.FrontendPort == 0 {
			free, err := freePorts(opts.IP, 1)
			if err != nil {
				return nil, err
			}
			opts.FrontendPort = free[0]
		}
	} else {
		free, err := freePorts(opts.IP, 5)
		if err != nil {
			return nil, err
		}
		ports = append(free[:4:4], 0, 0, 0, 0)
		if opts.FrontendPort == 0 {
			opts.FrontendPort = free[4]
		}
	}
	s := &Server{
		hostPort:  net.JoinHostPort(opts.IP, strconv.Itoa(opts.FrontendPort)),
		namespace: opts.Namespace,
	}

	sqlConf, err := s.prepareDatabase(opts)
	if err != nil {
		return nil, err
	}
	conf := buildConfig(opts, sqlConf, ports)
	logger := newServerLogger(opts.Logger, opts.LogLevel)

	dyn := dynamicconfig.StaticClient{
		dynamicconfig.HistoryCacheHostLevelMaxSize.Key():                 opts.HistoryCacheMaxSize,
		dynamicconfig.FrontendMaxNamespaceVisibilityRPSPerInstance.Key(): VisibilityRPS,
	}
	for k, v := range opts.DynamicConfig {
		dyn[dynamicconfig.MakeKey(k)] = v
	}
	hosts := map[primitives.ServiceName]static.Hosts{}
	for name, svc := range conf.Services {
		hosts[primitives.ServiceName(name)] = static.SingleLocalHost(net.JoinHostPort(opts.IP, strconv.Itoa(svc.RPC.GRPCPort)))
	}
	srv, err := temporal.NewServer(
		temporal.WithConfig(conf),
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithStaticHosts(hosts),
		temporal.WithLogger(logger),
		temporal.WithDynamicConfigClient(dyn),
	)
	if err != nil {
		return nil, fmt.Errorf("devserver: build server: %w", err)
	}
	if err := srv.Start(); err != nil {
		return nil, fmt.Errorf("devserver: start server: %w", err)
	}
	s.server = srv

	if err := s.ensureSearchAttributes(ctx, opts.SearchAttributes); err != nil {
		s.Stop()
		return nil, err
	}

	if opts.UIPort >= 0 {
		if err := s.startUI(opts); err != nil {
			s.Stop()
			return nil, err
		}
	}
	return s, nil
}

// Stop stops the UI and the server, then folds the write-ahead log back into the database
// file, so a stopped data dir is one self-contained SQLite file.
func (s *Server) Stop() {
	if s.ui != nil {
		s.ui.Stop()
		s.ui = nil
	}
	if s.server != nil {
		_ = s.server.Stop()
		s.server = nil
		s.checkpoint()
	}
}

// checkpoint runs a truncating WAL checkpoint. The server's SQLite plugin keeps its connection
// open for the life of the process, so without this the WAL file stays until the next start
// (which is safe — SQLite replays it — but leaves the data dir in two files).
func (s *Server) checkpoint() {
	if s.dbPath == "" {
		return
	}
	db, err := sql.Open("sqlite", "file:"+s.dbPath+"?_pragma=busy_timeout%3D2000")
	if err != nil {
		return
	}
	defer func() { _ = db.Close() }()
	_, _ = db.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
}

// prepareDatabase builds the SQL config, creating the schema in a new file and registering the
// namespace (with its search attributes) when it does not exist yet.
func (s *Server) prepareDatabase(opts Options) (*config.SQL, error) {
	conf := &config.SQL{
		PluginName: sqliteplugin.PluginName,
		// One connection: SQLite has a single writer and more connections only add
		// SQLITE_BUSY retries.
		MaxConns:     1,
		MaxIdleConns: 1,
	}
	if opts.DataDir == "" {
		conf.ConnectAttributes = map[string]string{"mode": "memory", "cache": "shared"}
		conf.DatabaseName = "desk-" + strconv.FormatUint(rand.Uint64(), 36)
	} else {
		if err := os.MkdirAll(opts.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("devserver: create data dir: %w", err)
		}
		s.dbPath = filepath.Join(opts.DataDir, DatabaseFile)
		// The database holds every case (reports, customers, decisions): only its owner reads
		// it. SQLite gives its -wal and -shm files the database file's mode.
		if err := ownerOnly(s.dbPath); err != nil {
			return nil, fmt.Errorf("devserver: %w", err)
		}
		conf.DatabaseName = s.dbPath
		conf.ConnectAttributes = map[string]string{
			"mode": "rwc",
			// WAL with synchronous=normal is about 3x the default rollback journal and
			// still never corrupts the file on a crash (it may lose the last commits
			// on power loss, not on a process kill).
			"journal_mode": "wal",
			"synchronous":  "normal",
			"busy_timeout": "10000",
		}
		if _, err := os.Stat(s.dbPath); errors.Is(err, os.ErrNotExist) {
			// Created empty and owner-only first: SQLite keeps the mode of the file it finds.
			f, err := os.OpenFile(s.dbPath, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
			if err != nil {
				return nil, fmt.Errorf("devserver: create %s: %w", s.dbPath, err)
			}
			_ = f.Close()
			if err := sqliteschema.SetupSchema(conf); err != nil {
				_ = os.Remove(s.dbPath)
				return nil, fmt.Errorf("devserver: create schema in %s: %w", s.dbPath, err)
			}
		} else if err != nil {
			return nil, fmt.Errorf("devserver: database %s: %w", s.dbPath, err)
		}
	}
	ns, err := sqliteschema.NewNamespaceConfig("active", opts.Namespace, false, opts.SearchAttributes)
	if err != nil {
		return nil, fmt.Errorf("devserver: namespace %q: %w", opts.Namespace, err)
	}
	ns.Detail.Config.Retention = durationpb.New(opts.Retention)
	if err := sqliteschema.CreateNamespaces(conf, ns); err != nil {
		return nil, fmt.Errorf("devserver: register namespace %q in %s: %w", opts.Namespace, conf.DatabaseName, err)
	}
	return conf, nil
}

func buildConfig(opts Options, sqlConf *config.SQL, ports []int) *config.Config {
	var conf config.Config
	conf.Global.Membership.MaxJoinDuration = 30 * time.Second
	conf.Global.Membership.BroadcastAddress = opts.IP
	conf.Persistence.DefaultStore = "sqlite"
	conf.Persistence.VisibilityStore = "sqlite"
	conf.Persistence.NumHistoryShards = 1
	conf.Persistence.DataStores = map[string]config.DataStore{"sqlite": {SQL: sqlConf}}
	frontendHTTP := ports[0]
	conf.ClusterMetadata = &cluster.Config{
		EnableGlobalNamespace:    false,
		FailoverVersionIncrement: 10,
		MasterClusterName:        "active",
		CurrentClusterName:       "active",
		ClusterInformation: map[string]cluster.ClusterInformation{
			"active": {
				Enabled:                true,
				InitialFailoverVersion: 1,
				RPCAddress:             net.JoinHostPort(opts.IP, strconv.Itoa(opts.FrontendPort)),
				HTTPAddress:            net.JoinHostPort(opts.IP, strconv.Itoa(frontendHTTP)),
				ClusterID:              "abusedesk-dev",
			},
		},
	}
	conf.DCRedirectionPolicy.Policy = "noop"
	svc := func(grpcPort, httpPort, membershipPort int) config.Service {
		var s config.Service
		s.RPC.BindOnIP = opts.IP
		s.RPC.GRPCPort = grpcPort
		s.RPC.HTTPPort = httpPort
		s.RPC.MembershipPort = membershipPort
		return s
	}
	conf.Services = map[string]config.Service{
		"frontend": svc(opts.FrontendPort, frontendHTTP, ports[4]),
		"history":  svc(ports[1], 0, ports[5]),
		"matching": svc(ports[2], 0, ports[6]),
		"worker":   svc(ports[3], 0, ports[7]),
	}
	conf.Archival.History.State = "disabled"
	conf.Archival.Visibility.State = "disabled"
	conf.NamespaceDefaults.Archival.History.State = "disabled"
	conf.NamespaceDefaults.Archival.Visibility.State = "disabled"
	conf.PublicClient.HostPort = net.JoinHostPort(opts.IP, strconv.Itoa(opts.FrontendPort))
	return &conf
}

// ensureSearchAttributes waits for the frontend and adds any search attribute the namespace
// lacks (a data dir created before an attribute existed does not have it).
func (s *Server) ensureSearchAttributes(ctx context.Context, want map[string]enumspb.IndexedValueType) error {
	c, err := client.DialContext(ctx, client.Options{
		HostPort:  s.hostPort,
		Namespace: s.namespace,
		Logger:    quietSDKLogger{},
	})
	if err != nil {
		return fmt.Errorf("devserver: connect to %s: %w", s.hostPort, err)
	}
	defer c.Close()
	return tclient.EnsureSearchAttributes(ctx, c.OperatorService(), s.namespace, want)
}

func (s *Server) startUI(opts Options) error {
	port := opts.UIPort
	if port == 0 {
		p, err := freePorts(opts.IP, 1)
		if err != nil {
			return err
		}
		port = p[0]
	}
	s.ui = uiserver.NewServer(uiserveroptions.WithConfigProvider(&uiconfig.Config{
		Host:                opts.IP,
		Port:                port,
		TemporalGRPCAddress: s.hostPort,
		EnableUI:            true,
		DefaultNamespace:    opts.Namespace,
		CORS:                uiconfig.CORS{CookieInsecure: true},
		HideLogs:            true,
		DisableNewsFetch:    true,
	}))
	errc := make(chan error, 1)
	go func() { errc <- s.ui.Start() }()
	addr := net.JoinHostPort(opts.IP, strconv.Itoa(port))
	deadline := time.Now().Add(10 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			_ = conn.Close()
			break
		}
		select {
		case err := <-errc:
			s.ui = nil
			return fmt.Errorf("devserver: web UI on %s: %w", addr, err)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("devserver: web UI on %s did not start within 10s", addr)
		}
	}
	s.uiURL = "http://" + addr
	return nil
}

// internalServices name the InternalPorts, for errors.
var internalServices = []string{"frontend-http", "history", "matching", "worker", "frontend-membership", "history-membership", "matching-membership", "worker-membership"}

// freePorts returns n distinct loopback ports that were free a moment ago. Each is put in
// TIME_WAIT by a short self-connection so the kernel does not hand it out again at once.
// PortInUseError says a port the server was asked to listen on is taken.
type PortInUseError struct {
	// Service is "frontend" (Temporal's gRPC port) or "ui" (the Web UI).
	Service string
	Port    int
	Err     error
}

func (e *PortInUseError) Error() string {
	return fmt.Sprintf("the %s port %d is taken: %v", e.Service, e.Port, e.Err)
}

func (e *PortInUseError) Unwrap() error { return e.Err }

// portFree reports an error when nothing can listen on ip:port now.
func portFree(ip string, port int) error {
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(port)))
	if err != nil {
		return err
	}
	return ln.Close()
}

func freePorts(ip string, n int) ([]int, error) {
	ports := make([]int, 0, n)
	for len(ports) < n {
		p, err := FreePort(ip)
		if err != nil {
			return nil, err
		}
		dup := false
		for _, q := range ports {
			dup = dup || q == p
		}
		if !dup {
			ports = append(ports, p)
		}
	}
	return ports, nil
}

// FreePort returns a TCP port on ip that is free now and will not be handed out by the kernel
// for a while.
func FreePort(ip string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		return 0, fmt.Errorf("find a free port on %s: %w", ip, err)
	}
	defer func() { _ = l.Close() }()
	port := l.Addr().(*net.TCPAddr).Port
	// Connect to it and close from the server side: the port sits in TIME_WAIT, where bind(0)
	// skips it but an explicit bind with SO_REUSEADDR (as Go does) still succeeds.
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		return 0, fmt.Errorf("find a free port on %s: %w", ip, err)
	}
	sc, err := l.Accept()
	if err == nil {
		_ = sc.Close()
	}
	_ = c.Close()
	return port, nil
}

// ownerOnly makes the database file and its WAL files readable by their owner alone.
func ownerOnly(db string) error {
	for _, p := range []string{db, db + "-wal", db + "-shm"} {
		if err := os.Chmod(p, 0o600); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}
