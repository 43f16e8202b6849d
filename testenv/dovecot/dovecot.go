// Package dovecot runs a throw-away Dovecot IMAP server (Debian's dovecot-imapd) for tests: one
// user, plain-text login on loopback, Maildir in a temporary folder, with the hierarchy
// delimiter asked for ("." is Dovecot's default Maildir++ layout, "/" its LAYOUT=fs). A test
// that cannot find dovecot skips, unless DESK_REQUIRE_DOVECOT=1 (CI), where it fails.
package dovecot

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Server is a running Dovecot.
type Server struct {
	Addr, Username, Password string
	// Log is its log file, for a failing test to show.
	Log string
}

// Start runs Dovecot with hierarchy delimiter delim ("." or "/") until the test ends.
func Start(t *testing.T, delim string) *Server {
	t.Helper()
	bin, err := exec.LookPath("dovecot")
	if err != nil {
		for _, p := range []string{"/usr/sbin/dovecot", "/usr/local/sbin/dovecot"} {
			if _, e := os.Stat(p); e == nil {
				bin, err = p, nil
			}
		}
	}
	if err != nil {
		if os.Getenv("DESK_REQUIRE_DOVECOT") == "1" {
			t.Fatal("dovecot is not installed (apt-get install dovecot-imapd), and DESK_REQUIRE_DOVECOT=1")
		}
		t.Skip("dovecot is not installed (apt-get install dovecot-imapd)")
	}
	dir, err := os.MkdirTemp("", "dovecot-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	mailUser, internal, login := mailUser(t)
	uid, gid := mailUser.Uid, mailUser.Gid
	for _, d := range []string{"run", "state", "mail"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if os.Geteuid() == 0 {
		u, _ := strconv.Atoi(uid)
		g, _ := strconv.Atoi(gid)
		_ = os.Chmod(dir, 0o755)
		if err := os.Chown(filepath.Join(dir, "mail"), u, g); err != nil {
			t.Fatal(err)
		}
	}
	port := freePort(t)
	s := &Server{Addr: "127.0.0.1:" + strconv.Itoa(port), Username: "abuse", Password: "dovecot-test-password", Log: filepath.Join(dir, "dovecot.log")}
	if err := os.WriteFile(filepath.Join(dir, "users"), []byte(s.Username+":{PLAIN}"+s.Password+"::::::\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	layout := ""
	switch delim {
	case ".":
	case "/":
		layout = ":LAYOUT=fs"
	default:
		t.Fatalf("dovecot: delimiter %q: want . or /", delim)
	}
	conf := fmt.Sprintf(`protocols = imap
listen = 127.0.0.1
base_dir = %[1]s/run
state_dir = %[1]s/state
log_path = %[1]s/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = %[2]s
default_login_user = %[3]s
first_valid_uid = 1
mail_location = maildir:%[1]s/mail/%%u/Maildir%[4]s
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%%u %[1]s/users
}
userdb {
  driver = static
  args = uid=%[5]s gid=%[6]s home=%[1]s/mail/%%u
}
service imap-login {
  chroot =
  inet_listener imap {
    address = 127.0.0.1
    port = %[7]d
  }
  inet_listener imaps {
    port = 0
  }
}
service anvil {
  chroot =
}
`, dir, internal, login, layout, uid, gid, port)
	confPath := filepath.Join(dir, "dovecot.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-F", "-c", confPath)
	out, err := os.Create(filepath.Join(dir, "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("dovecot: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		_ = out.Close()
	})
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if c, err := net.DialTimeout("tcp", s.Addr, time.Second); err == nil {
			_ = c.Close()
			return s
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(filepath.Join(dir, "stderr"))
			l, _ := os.ReadFile(s.Log)
			t.Fatalf("dovecot did not listen on %s:\n%s\n%s", s.Addr, b, l)
		}
	}
}

// mailUser is who owns the mail (Dovecot never gives mail to root): the dovecot user when the
// test runs as root, else the test's own user; and the internal and login users.
func mailUser(t *testing.T) (*user.User, string, string) {
	t.Helper()
	if os.Geteuid() != 0 {
		u, err := user.Current()
		if err != nil {
			t.Fatal(err)
		}
		return u, u.Username, u.Username
	}
	u, err := user.Lookup("dovecot")
	if err != nil {
		t.Fatalf("dovecot: no dovecot user (is dovecot-core installed?): %v", err)
	}
	login := "dovenull"
	if _, err := user.Lookup(login); err != nil {
		login = u.Username
	}
	return u, u.Username, login
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// String names the server for a test's messages.
func (s *Server) String() string {
	return "dovecot at " + s.Addr + " (log " + strings.TrimSpace(s.Log) + ")"
}
