// Package pgtest gives tests a real PostgreSQL: a throw-away cluster in a temporary directory,
// started once per test binary from Debian's postgresql package (initdb and pg_ctl), with a
// fresh database for each caller. DESK_TEST_POSTGRES_URL points the tests at an existing
// server instead. Without PostgreSQL the tests skip, unless DESK_REQUIRE_POSTGRES=1 (CI sets
// it, having installed the package), which makes that a failure.
package pgtest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

var (
	once    sync.Once
	cluster *server
	err     error
	dbs     atomic.Int64
)

type server struct {
	dir, bin, base string // base is the admin URL without a database name
	asPostgres     bool
}

// Main runs the tests and then stops the cluster, if one was started: call it from TestMain.
func Main(m *testing.M) int {
	code := m.Run()
	if cluster != nil {
		cluster.stop()
	}
	return code
}

// URL returns the URL of a new, empty database.
func URL(t testing.TB) string {
	t.Helper()
	if u := os.Getenv("DESK_TEST_POSTGRES_URL"); u != "" {
		return u
	}
	once.Do(func() { cluster, err = start() })
	if err != nil {
		if os.Getenv("DESK_REQUIRE_POSTGRES") == "1" {
			t.Fatalf("PostgreSQL is required (DESK_REQUIRE_POSTGRES=1): %v", err)
		}
		t.Skipf("no PostgreSQL to test against (%v); install Debian's postgresql package or set DESK_TEST_POSTGRES_URL", err)
	}
	name := fmt.Sprintf("desk_test_%d_%d", os.Getpid(), dbs.Add(1))
	db, err := sql.Open("pgx", cluster.base+"/postgres?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	return cluster.base + "/" + name + "?sslmode=disable"
}

// bindir finds initdb: on the PATH, or in Debian's /usr/lib/postgresql/<version>/bin (the
// newest).
func bindir() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(found) == 0 {
		return "", errors.New("initdb not found on the PATH or in /usr/lib/postgresql/*/bin")
	}
	sort.Slice(found, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(found[i]))))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(found[j]))))
		return vi < vj
	})
	return filepath.Dir(found[len(found)-1]), nil
}

func start() (*server, error) {
	bin, err := bindir()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "desk-pg-")
	if err != nil {
		return nil, err
	}
	s := &server{dir: dir, bin: bin}
	// PostgreSQL refuses to run as root: as root, the cluster is the postgres user's.
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("running as root and there is no postgres user: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			return nil, err
		}
		s.asPostgres = true
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	data := filepath.Join(dir, "data")
	if out, err := s.run("initdb", "-D", data, "-U", "desk", "--auth=trust", "-E", "UTF8", "--no-sync"); err != nil {
		return nil, fmt.Errorf("initdb: %v: %s", err, out)
	}
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200", port, dir)
	if out, err := s.run("pg_ctl", "-D", data, "-o", opts, "-l", filepath.Join(dir, "log"), "-w", "-t", "60", "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "log"))
		return nil, fmt.Errorf("pg_ctl start: %v: %s %s", err, out, log)
	}
	s.base = fmt.Sprintf("postgres://desk@127.0.0.1:%d", port)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := sql.Open("pgx", s.base+"/postgres?sslmode=disable")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if err := db.PingContext(ctx); err != nil {
		s.stop()
		return nil, fmt.Errorf("the new cluster does not answer: %w", err)
	}
	return s, nil
}

func (s *server) run(name string, args ...string) ([]byte, error) {
	path := filepath.Join(s.bin, name)
	var cmd *exec.Cmd
	if s.asPostgres {
		cmd = exec.Command("runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	cmd.Dir = s.dir
	return cmd.CombinedOutput()
}

func (s *server) stop() {
	_, _ = s.run("pg_ctl", "-D", filepath.Join(s.dir, "data"), "-m", "immediate", "-w", "stop")
	_ = os.RemoveAll(s.dir)
}
