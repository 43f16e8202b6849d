// Package cluster runs the production topology on one machine, without Docker: a throw-away
// PostgreSQL (Debian's postgresql package), the official Temporal server built from the module
// graph (`go tool`'s go.temporal.io/server/cmd/server, its schema set up by the SQL tool of the
// same tree) on PostgreSQL with SQL visibility, the sandbox stand-ins for Zendesk, Slack, the
// enforcement API, the mailbox and the customers' servers, and the desk split as
// docker-compose.yml splits it: worker processes (`desk run --components=worker`) and an
// ingress (`desk run --components=http,imap`), sharing one data dir and one PostgreSQL ledger.
// `desk cluster` starts it; the cluster tests kill its parts.
package cluster

import (
	"cmp"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/types/known/durationpb"

	"abusedesk/devenv/imapsandbox"
	"abusedesk/devenv/sandbox"
	"abusedesk/platform/config"
	"abusedesk/platform/pglocal"
	"abusedesk/platform/tclient"
)

// Namespace is the cluster's Temporal namespace.
const Namespace = "default"

// Options say what to start.
type Options struct {
	// Dir holds everything: the database, the binaries, the logs, the desk's data.
	Dir string
	// BinDir, when set, is where the Temporal server and its SQL tool are built instead of
	// Dir/bin, once: binaries already there are used as they are (a bench starts several
	// clusters).
	BinDir string
	// Workers is how many worker processes run (default 2).
	Workers int
	// Desk is the command that runs the desk (default: this executable); DeskEnv is added to
	// its environment (a test binary that runs desk when DESK_TEST_AS_DESK=1).
	Desk    []string
	DeskEnv map[string]string
	// PolicyFile is the policy the desk runs ("": the embedded default).
	PolicyFile string
	// Outside, when set, is the configuration of outside services the caller serves itself
	// (Zendesk, Slack, the enforcement API; a bench's stand-ins, already provisioned): then the
	// cluster starts no sandbox and no mailbox, and the ingress runs the HTTP component only.
	// Its DESK_API_TOKEN, when given, is the reports API's token.
	Outside map[string]string
	Log     *slog.Logger
}

// Cluster is the running topology.
type Cluster struct {
	o  Options
	PG *pglocal.Server
	// Frontend is the Temporal frontend's host:port.
	Frontend string
	Sandbox  *sandbox.Sandbox
	Mailbox  *imapsandbox.Server
	// IngressURL is the desk's HTTP base URL; APIToken its reports API's token;
	// DashboardPassword guards its dashboard.
	IngressURL, APIToken, DashboardPassword string
	// MetricsToken is the bearer token the ingress's /metrics asks for.
	MetricsToken string
	// PayloadKeys encrypt what the desk processes write to Temporal (DESK_PAYLOAD_KEYS).
	PayloadKeys string
	LedgerURL   string
	// TLS are the certificates of the Temporal endpoint, which takes mTLS only.
	TLS TLSFiles

	temporal *proc
	workers  []*proc
	ingress  *proc
	env      map[string]string
	bin      string
}

// proc is a child process and how to start it again.
type proc struct {
	name string
	args []string
	env  map[string]string
	cmd  *exec.Cmd
	done chan struct{}
	log  string
}

// Start starts the cluster and waits until the ingress is ready.
func Start(ctx context.Context, o Options) (_ *Cluster, err error) {
	if o.Workers <= 0 {
		o.Workers = 2
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if len(o.Desk) == 0 {
		self, err := os.Executable()
		if err != nil {
			return nil, err
		}
		o.Desk = []string{self}
	}
	if err := os.MkdirAll(filepath.Join(o.Dir, "logs"), 0o755); err != nil {
		return nil, err
	}
	c := &Cluster{o: o, bin: cmp.Or(o.BinDir, filepath.Join(o.Dir, "bin"))}
	defer func() {
		if err != nil { // what did start is stopped again
			c.Stop()
		}
	}()
	o.Log.Info("cluster: building the Temporal server and its SQL tool (go tool, from the module graph)")
	if err := c.build(ctx); err != nil {
		return nil, err
	}
	if c.PG, err = pglocal.Start("", 300); err != nil { // the system temp dir: the postgres user must reach it
		return nil, fmt.Errorf("cluster: PostgreSQL: %w", err)
	}
	o.Log.Info("cluster: PostgreSQL up", "port", c.PG.Port)
	if err := c.schema(ctx); err != nil {
		return nil, err
	}
	if err := c.PG.CreateDatabase("abusedesk_ledger"); err != nil {
		return nil, err
	}
	c.LedgerURL = c.PG.URL("abusedesk_ledger")
	if c.TLS, err = makeTLS(filepath.Join(c.o.Dir, "tls")); err != nil {
		return nil, err
	}
	if err := c.startTemporal(ctx); err != nil {
		return nil, err
	}
	o.Log.Info("cluster: Temporal up", "frontend", c.Frontend)
	if err := c.registerNamespace(ctx); err != nil {
		return nil, err
	}
	if err := c.startDesk(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// build builds the Temporal server and the SQL tool from the module graph.
func (c *Cluster) build(ctx context.Context) error {
	for name, pkg := range map[string]string{"temporal-server": "go.temporal.io/server/cmd/server", "temporal-sql-tool": "go.temporal.io/server/cmd/tools/sql"} {
		if _, err := os.Stat(filepath.Join(c.bin, name)); err == nil && c.o.BinDir != "" {
			continue
		}
		out, err := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(c.bin, name), pkg).CombinedOutput()
		if err != nil {
			return fmt.Errorf("cluster: go build %s (run from the abusedesk module): %v: %s", pkg, err, out)
		}
	}
	return nil
}

// schema creates Temporal's two databases and brings them to the tree's schema.
func (c *Cluster) schema(ctx context.Context) error {
	out, err := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Dir}}", "go.temporal.io/server").Output()
	if err != nil {
		return fmt.Errorf("cluster: find the Temporal server's module: %w", err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "schema", "postgresql", "v12")
	tool := func(args ...string) error {
		base := []string{"--plugin", "postgres12", "--ep", "127.0.0.1", "-p", strconv.Itoa(c.PG.Port), "-u", "desk"}
		out, err := exec.CommandContext(ctx, filepath.Join(c.bin, "temporal-sql-tool"), append(base, args...)...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("cluster: temporal-sql-tool %s: %v: %s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	for db, versioned := range map[string]string{"temporal": "temporal", "temporal_visibility": "visibility"} {
		if err := tool("--db", db, "create-database"); err != nil {
			return err
		}
		if err := tool("--db", db, "setup-schema", "-v", "0.0"); err != nil {
			return err
		}
		if err := tool("--db", db, "update-schema", "-d", filepath.Join(dir, versioned, "versioned")); err != nil {
			return err
		}
	}
	return nil
}

// freePorts finds n free loopback ports below 32768: Temporal keeps its services' ports in a
// smallint column, and the kernel's own picks are above that.
func freePorts(n int) ([]int, error) {
	var ports []int
	var lns []net.Listener
	defer func() {
		for _, l := range lns {
			_ = l.Close()
		}
	}()
	next := 20000 + rand.IntN(12000)
	for tries := 0; len(ports) < n && tries < 2000; tries++ {
		port := 20000 + (next-20000+tries)%12000
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			continue
		}
		lns = append(lns, l)
		ports = append(ports, port)
	}
	if len(ports) < n {
		return nil, fmt.Errorf("cluster: found %d free ports of %d between 20000 and 32000", len(ports), n)
	}
	return ports, nil
}

// serverConfig is the Temporal server's configuration: PostgreSQL for persistence and SQL
// visibility, four history shards, every service on loopback with mTLS (its clients and its
// services between them present the cluster's certificate), the dynamic configuration from a
// file (DynamicConfig).
const serverConfig = `log:
  stdout: true
  level: warn
persistence:
  defaultStore: default
  visibilityStore: visibility
  numHistoryShards: 4
  datastores:
    default:
      sql: {pluginName: postgres12, databaseName: temporal, connectAddr: "127.0.0.1:%[1]d", connectProtocol: tcp, user: desk, maxConns: 20, maxIdleConns: 20, maxConnLifetime: 1h}
    visibility:
      sql: {pluginName: postgres12, databaseName: temporal_visibility, connectAddr: "127.0.0.1:%[1]d", connectProtocol: tcp, user: desk, maxConns: 10, maxIdleConns: 10, maxConnLifetime: 1h}
global:
  membership: {maxJoinDuration: 30s, broadcastAddress: "127.0.0.1"}
  tls:
    internode:
      server: {certFile: "%[12]s", keyFile: "%[13]s", requireClientAuth: true, clientCaFiles: ["%[14]s"]}
      client: {serverName: "127.0.0.1", rootCaFiles: ["%[14]s"]}
    frontend:
      server: {certFile: "%[12]s", keyFile: "%[13]s", requireClientAuth: true, clientCaFiles: ["%[14]s"]}
      client: {serverName: "127.0.0.1", rootCaFiles: ["%[14]s"]}
    systemWorker:
      certFile: "%[12]s"
      keyFile: "%[13]s"
      client: {serverName: "127.0.0.1", rootCaFiles: ["%[14]s"]}
services:
  frontend:
    rpc: {grpcPort: %[2]d, membershipPort: %[3]d, httpPort: %[4]d, bindOnLocalHost: true}
  history:
    rpc: {grpcPort: %[5]d, membershipPort: %[6]d, bindOnLocalHost: true}
  matching:
    rpc: {grpcPort: %[7]d, membershipPort: %[8]d, bindOnLocalHost: true}
  worker:
    rpc: {grpcPort: %[9]d, membershipPort: %[10]d, bindOnLocalHost: true}
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: active
  currentClusterName: active
  clusterInformation:
    active: {enabled: true, initialFailoverVersion: 1, rpcName: frontend, rpcAddress: "127.0.0.1:%[2]d"}
dcRedirectionPolicy:
  policy: noop
dynamicConfigClient:
  filepath: "%[11]s"
  pollInterval: 10s
`

// DynamicConfig is the Temporal server's dynamic configuration for the desk's namespace (the
// cluster's and docker-compose.yml's).
//
//go:embed temporal-dynamicconfig.yaml
var DynamicConfig []byte

func (c *Cluster) startTemporal(ctx context.Context) error {
	p, err := freePorts(9)
	if err != nil {
		return err
	}
	cfg, dyn := filepath.Join(c.o.Dir, "temporal.yaml"), filepath.Join(c.o.Dir, "temporal-dynamicconfig.yaml")
	if err := os.WriteFile(dyn, DynamicConfig, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(cfg, fmt.Appendf(nil, serverConfig, c.PG.Port, p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], dyn,
		c.TLS.Cert, c.TLS.Key, c.TLS.CA), 0o644); err != nil {
		return err
	}
	c.Frontend = "127.0.0.1:" + strconv.Itoa(p[0])
	c.temporal = &proc{name: "temporal", args: []string{filepath.Join(c.bin, "temporal-server"), "--config-file", cfg, "--allow-no-auth", "start"},
		log: filepath.Join(c.o.Dir, "logs", "temporal.log")}
	if err := c.temporal.start(); err != nil {
		return err
	}
	return c.waitFrontend(ctx, 2*time.Minute)
}

// waitFrontend waits until the frontend answers.
func (c *Cluster) waitFrontend(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		opts, err := c.clientOptions("temporal-system")
		if err != nil {
			return err
		}
		tc, err := client.Dial(opts)
		if err == nil {
			_, err = tc.CheckHealth(ctx, &client.CheckHealthRequest{})
			tc.Close()
			if err == nil {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cluster: the Temporal frontend %s did not answer within %s: %v (log: %s)", c.Frontend, limit, err, c.temporal.log)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func (c *Cluster) registerNamespace(ctx context.Context) error {
	opts, err := c.clientOptions("")
	if err != nil {
		return err
	}
	nc, err := client.NewNamespaceClient(opts)
	if err != nil {
		return err
	}
	defer nc.Close()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(500 * time.Millisecond) {
		err = nc.Register(ctx, &workflowservice.RegisterNamespaceRequest{Namespace: Namespace, WorkflowExecutionRetentionPeriod: durationpb.New(72 * time.Hour)})
		if err == nil || strings.Contains(err.Error(), "already") {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cluster: register namespace %s: %w", Namespace, err)
		}
	}
	// The namespace reaches every service's cache within seconds; a describe through the
	// frontend says it is there.
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(500 * time.Millisecond) {
		if _, err = nc.Describe(ctx, Namespace); err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cluster: namespace %s not visible: %w", Namespace, err)
		}
	}
}

// Temporal is how a client reaches the cluster's Temporal in namespace ("": the desk's): its
// frontend with the cluster's certificate (mTLS), and the desk's payload keys.
func (c *Cluster) Temporal(namespace string) config.Temporal {
	return config.Temporal{Address: c.Frontend, Namespace: cmp.Or(namespace, Namespace), TLSCert: c.TLS.Cert, TLSKey: c.TLS.Key, TLSCA: c.TLS.CA,
		PayloadKeys: c.PayloadKeys}
}

// clientOptions are a quiet client's options for namespace.
func (c *Cluster) clientOptions(namespace string) (client.Options, error) {
	opts, err := tclient.Options(c.Temporal(namespace))
	opts.Logger = tclient.SDKLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	return opts, err
}

// startDesk starts the stand-ins (unless the caller serves its own), provisions the sandbox
// Zendesk, then the workers and the ingress.
func (c *Cluster) startDesk(ctx context.Context) error {
	ports, err := freePorts(1)
	if err != nil {
		return err
	}
	c.IngressURL = "http://127.0.0.1:" + strconv.Itoa(ports[0])
	outside := c.o.Outside != nil
	if outside {
		c.env = maps.Clone(c.o.Outside)
		c.APIToken = cmp.Or(c.o.Outside["DESK_API_TOKEN"], sandbox.Secret())
	} else {
		if c.Sandbox, err = sandbox.Start(ctx, sandbox.Options{DeskURL: c.IngressURL, Zendesk: true, Slack: true, Enforcement: true, Hosting: true,
			StateFile: filepath.Join(c.o.Dir, "sandbox.json"), Log: c.o.Log}); err != nil {
			return fmt.Errorf("cluster: sandbox: %w", err)
		}
		c.env = maps.Clone(c.Sandbox.Env())
		c.APIToken = sandbox.Secret()
	}
	delete(c.env, "DESK_API_TOKEN") // the ingress's alone
	// desk run serves no open dashboard and no open /metrics: the cluster's are behind a
	// password and a token of its own (every process gets them, as docker-compose gives them).
	c.DashboardPassword = sandbox.Secret()
	c.MetricsToken = cmp.Or(c.env["DESK_METRICS_TOKEN"], sandbox.Secret())
	c.env["DESK_DASHBOARD_PASSWORD"], c.env["DESK_METRICS_TOKEN"] = c.DashboardPassword, c.MetricsToken
	data := filepath.Join(c.o.Dir, "desk-data")
	// Every desk process encrypts its payloads with the same key, which lives in the cluster's
	// data dir (payload-keys) like a desk dev's.
	if c.PayloadKeys, err = tclient.DevKeys(data); err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	c.env["DESK_PAYLOAD_KEYS"] = c.PayloadKeys
	maps.Copy(c.env, map[string]string{
		"TEMPORAL_ADDRESS": c.Frontend, "TEMPORAL_NAMESPACE": Namespace,
		"TEMPORAL_TLS_CERT": c.TLS.Cert, "TEMPORAL_TLS_KEY": c.TLS.Key, "TEMPORAL_TLS_CA": c.TLS.CA,
		"DESK_DATA_DIR": data, "DESK_LEDGER_URL": c.LedgerURL, "DESK_PUBLIC_URL": c.IngressURL,
		"DESK_SHUTDOWN_TIMEOUT": "2s", "DESK_LOG_LEVEL": cmp.Or(c.env["DESK_LOG_LEVEL"], "info"),
	})
	if c.o.PolicyFile != "" {
		c.env["DESK_POLICY_FILE"] = c.o.PolicyFile
	}
	maps.Copy(c.env, c.o.DeskEnv)
	if !outside {
		// Provision the sandbox Zendesk the way an operator provisions a real one.
		prov := &proc{name: "provision", args: append(append([]string{}, c.o.Desk...), "zendesk", "provision"), env: c.env, log: filepath.Join(c.o.Dir, "logs", "provision.log")}
		if err := prov.run(ctx); err != nil {
			return err
		}
	}
	for i := range c.o.Workers {
		w := &proc{name: fmt.Sprintf("worker-%d", i+1), args: append(append([]string{}, c.o.Desk...), "run", "--components=worker"), env: c.env,
			log: filepath.Join(c.o.Dir, "logs", fmt.Sprintf("worker-%d.log", i+1))}
		if err := w.start(); err != nil {
			return err
		}
		c.workers = append(c.workers, w)
	}
	ienv := maps.Clone(c.env)
	maps.Copy(ienv, map[string]string{"DESK_HTTP_ADDR": strings.TrimPrefix(c.IngressURL, "http://"), "DESK_API_TOKEN": c.APIToken})
	components := "http"
	if !outside {
		if c.Mailbox, err = imapsandbox.StartSpooled(filepath.Join(c.o.Dir, "mailbox"), "127.0.0.1:0", "abuse@provider.example", sandbox.Secret()); err != nil {
			return fmt.Errorf("cluster: mailbox: %w", err)
		}
		maps.Copy(ienv, map[string]string{"IMAP_ADDR": c.Mailbox.Addr, "IMAP_USERNAME": c.Mailbox.Username, "IMAP_PASSWORD": c.Mailbox.Password,
			"IMAP_SECURITY": "none", "IMAP_POLL": "1s"})
		components = "http,imap"
	}
	c.ingress = &proc{name: "ingress", args: append(append([]string{}, c.o.Desk...), "run", "--components="+components), env: ienv, log: filepath.Join(c.o.Dir, "logs", "ingress.log")}
	if err := c.ingress.start(); err != nil {
		return err
	}
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(200 * time.Millisecond) {
		if resp, err := http.Get(c.IngressURL + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cluster: the ingress did not get ready (log: %s)", c.ingress.log)
		}
	}
}

// Process is one desk process of the cluster: its name, what it runs and its environment.
type Process struct {
	Name       string
	Components string
	Env        map[string]string
}

// Processes are the desk processes the cluster runs, as docker-compose.yml's services are.
func (c *Cluster) Processes() []Process {
	var out []Process
	for _, p := range append(slices.Clone(c.workers), c.ingress) {
		comps := ""
		for _, a := range p.args {
			if v, ok := strings.CutPrefix(a, "--components="); ok {
				comps = v
			}
		}
		out = append(out, Process{Name: p.name, Components: comps, Env: maps.Clone(p.env)})
	}
	return out
}

// StandInOnly are the variables the cluster sets only because its services are stand-ins on
// loopback (a plain-text mailbox, Slack's API address, the sandbox's proxy and blocklist, the
// sandbox Zendesk's groups) or to keep a test short; a real deployment leaves them at their
// defaults.
var StandInOnly = []string{"SLACK_API_URL", "SLACK_LEGAL_CHANNEL", "SLACK_APPROVERS", "ZENDESK_GROUP_ID", "ZENDESK_INTAKE_GROUP_ID",
	"ZENDESK_LEGAL_GROUP_ID", "ZENDESK_LEGAL_ADDRESS", "ZENDESK_SUPPORT_GROUP_ID", "DESK_CHECK_PROXY", "DESK_CHECK_DNS", "IMAP_SECURITY", "IMAP_POLL",
	"DESK_SHUTDOWN_TIMEOUT", "DESK_LOG_LEVEL", "DESK_TEST_AS_DESK"}

// DeskPIDs are the process IDs of the desk processes running now (workers, then the ingress).
func (c *Cluster) DeskPIDs() []int {
	var pids []int
	for _, p := range append(slices.Clone(c.workers), c.ingress) {
		if p != nil && p.cmd != nil {
			pids = append(pids, p.cmd.Process.Pid)
		}
	}
	return pids
}

// ServerPIDs are the process IDs of the Temporal server and PostgreSQL's postmaster, when
// running.
func (c *Cluster) ServerPIDs() []int {
	var pids []int
	if c.temporal != nil && c.temporal.cmd != nil {
		pids = append(pids, c.temporal.cmd.Process.Pid)
	}
	if c.PG != nil {
		if pid := c.PG.PID(); pid > 0 {
			pids = append(pids, pid)
		}
	}
	return pids
}

// Logs is the directory of every process's log.
func (c *Cluster) Logs() string { return filepath.Join(c.o.Dir, "logs") }

// Workers is how many worker processes there are.
func (c *Cluster) Workers() int { return len(c.workers) }

// KillWorker kills worker i (from 0) with SIGKILL.
func (c *Cluster) KillWorker(i int) error { return c.workers[i].kill() }

// StartWorker starts worker i again.
func (c *Cluster) StartWorker(i int) error { return c.workers[i].start() }

// RestartTemporal kills the Temporal server with SIGKILL, starts it again and returns how long
// the frontend took to answer again.
func (c *Cluster) RestartTemporal(ctx context.Context) (time.Duration, error) {
	if err := c.temporal.kill(); err != nil {
		return 0, err
	}
	start := time.Now()
	if err := c.temporal.start(); err != nil {
		return 0, err
	}
	err := c.waitFrontend(ctx, 2*time.Minute)
	return time.Since(start), err
}

// Stop stops the desk processes, the stand-ins, Temporal and PostgreSQL.
func (c *Cluster) Stop() {
	if c.ingress != nil {
		c.ingress.stop()
	}
	for _, w := range c.workers {
		w.stop()
	}
	if c.Mailbox != nil {
		c.Mailbox.Close()
	}
	if c.Sandbox != nil {
		c.Sandbox.Close()
	}
	if c.temporal != nil {
		c.temporal.stop()
	}
	if c.PG != nil {
		c.PG.Stop()
	}
}

func (p *proc) command() (*exec.Cmd, error) {
	f, err := os.OpenFile(p.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(p.args[0], p.args[1:]...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Env = os.Environ()
	for k, v := range p.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	return cmd, nil
}

func (p *proc) start() error {
	cmd, err := p.command()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("cluster: start %s: %w", p.name, err)
	}
	p.cmd, p.done = cmd, make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	return nil
}

// run runs the process to its end.
func (p *proc) run(ctx context.Context) error {
	cmd, err := p.command()
	if err != nil {
		return err
	}
	if err := cmd.Run(); err != nil {
		b, _ := os.ReadFile(p.log)
		return fmt.Errorf("cluster: %s: %v: %s", p.name, err, b)
	}
	return ctx.Err()
}

func (p *proc) kill() error {
	if p.cmd == nil {
		return errors.New("cluster: " + p.name + " is not running")
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		return err
	}
	<-p.done
	p.cmd = nil
	return nil
}

// stop asks the process to stop (SIGTERM), then kills it after 10 s.
func (p *proc) stop() {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
	}
	p.cmd = nil
}
