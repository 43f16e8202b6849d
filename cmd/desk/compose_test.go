package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"abusedesk/app/process"
	"abusedesk/devenv/cluster"
	"abusedesk/devenv/devserver"
	"abusedesk/platform/config"
)

// TestComposeIsHonest keeps docker-compose.yml true to the code: its desk services run `desk
// run` with known components; every variable they set is one the desk reads; with the required
// variables given, their environment passes the desk's own configuration checks for what each
// runs; and the processes share one PostgreSQL ledger (a SQLite file per process would split it).
func TestComposeIsHonest(t *testing.T) {
	t.Parallel()
	doc := readCompose(t)
	known := map[string]bool{}
	for _, v := range config.Vars {
		known[v.Name] = true
	}
	// ${NAME:-default} is the default, ${NAME:?why} a value the operator must give (a stand-in
	// here), ${NAME} the operator's.
	ref := regexp.MustCompile(`\$\{([A-Z0-9_]+)(?::([-?])([^}]*))?\}`)
	expand := func(v string) string {
		return ref.ReplaceAllStringFunc(v, func(m string) string {
			p := ref.FindStringSubmatch(m)
			switch {
			case p[2] == "-":
				return p[3]
			case p[2] == "?" || p[2] == "":
				return standIn(p[1])
			}
			return ""
		})
	}
	tlsDir := t.TempDir()
	for _, f := range []string{"ca.pem", "cert.pem", "key.pem"} {
		if err := os.WriteFile(filepath.Join(tlsDir, f), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	desks := 0
	for name, svc := range doc.Services {
		if len(svc.Command) == 0 || svc.Command[0] != "run" {
			continue
		}
		desks++
		comps := ""
		for _, arg := range svc.Command[1:] {
			if c, ok := strings.CutPrefix(arg, "--components="); ok {
				comps = c
			} else {
				t.Errorf("%s: `desk run` has no flag %q here", name, arg)
			}
		}
		which, err := parseComponents(comps)
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
		env := map[string]string{}
		for k, v := range svc.Environment {
			if !known[k] {
				t.Errorf("%s sets %s, which the desk does not read (see `desk help env`)", name, k)
			}
			if v = expand(v); v != "" {
				env[k] = v
			}
		}
		// Paths inside the container (the mounted certificates) are checked on a stand-in.
		for k, v := range env {
			if rest, ok := strings.CutPrefix(v, "/tls/"); ok {
				env[k] = filepath.Join(tlsDir, rest)
			}
		}
		lookup := config.MapLookup(env)
		if cfg, err := config.LoadDesk(lookup); err != nil {
			t.Errorf("%s: %v", name, err)
		} else if err := process.ClosedByDefault(which, cfg, false); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if _, err := config.LoadTemporal(lookup); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		ic, err := config.LoadIntegrations(lookup)
		if err != nil {
			t.Errorf("%s: %v", name, err)
		} else if missing := ic.Missing(); len(missing) > 0 {
			t.Errorf("%s: `desk run` needs every service; not configured: %v", name, missing)
		}
		if _, imap, err := config.LoadIntake(lookup); err != nil {
			t.Errorf("%s: %v", name, err)
		} else if which.IMAP && imap == nil && env["IMAP_ADDR"] == "" {
			t.Errorf("%s runs the imap component without IMAP_ADDR", name)
		}
		if url := env["DESK_LEDGER_URL"]; !strings.HasPrefix(url, "postgres://") {
			t.Errorf("%s: DESK_LEDGER_URL %q is not the shared PostgreSQL ledger", name, url)
		}
	}
	if desks < 2 {
		t.Errorf("%d desk services, want the workers and the ingress", desks)
	}

	// The Temporal service runs with the desk's dynamic configuration: the file `desk cluster`
	// runs with, mounted where DYNAMIC_CONFIG_FILE_PATH points, with the embedded server's
	// visibility limit.
	tsvc := doc.Services["temporal"]
	path := tsvc.Environment["DYNAMIC_CONFIG_FILE_PATH"]
	mounted := false
	for _, v := range tsvc.Volumes {
		src, dst, _ := strings.Cut(v, ":")
		dst, _, _ = strings.Cut(dst, ":")
		if src == "./devenv/cluster/temporal-dynamicconfig.yaml" && path != "" && strings.HasSuffix(dst, "/"+path) {
			mounted = true
		}
	}
	if !mounted {
		t.Errorf("the temporal service does not mount ./devenv/cluster/temporal-dynamicconfig.yaml where DYNAMIC_CONFIG_FILE_PATH (%q) points: %v", path, tsvc.Volumes)
	}
	var dyn map[string][]struct {
		Value any `yaml:"value"`
	}
	if err := yaml.Unmarshal(cluster.DynamicConfig, &dyn); err != nil {
		t.Fatal(err)
	}
	if got := dyn["frontend.namespaceRPS.visibility"]; len(got) != 1 || got[0].Value != devserver.VisibilityRPS {
		t.Errorf("the dynamic configuration's frontend.namespaceRPS.visibility is %v; the embedded server runs with %d", got, devserver.VisibilityRPS)
	}
}

// composeFile is docker-compose.yml as far as the desk's services go.
type composeFile struct {
	Services map[string]composeService `yaml:"services"`
}

type composeService struct {
	Command     []string          `yaml:"command"`
	Environment map[string]string `yaml:"environment"`
	Volumes     []string          `yaml:"volumes"`
}

// components is what a desk service runs (its --components), "" for another service.
func (s composeService) components() string {
	if len(s.Command) == 0 || s.Command[0] != "run" {
		return ""
	}
	for _, arg := range s.Command[1:] {
		if c, ok := strings.CutPrefix(arg, "--components="); ok {
			return c
		}
	}
	return "worker,http,imap"
}

func readCompose(t *testing.T) composeFile {
	t.Helper()
	b, err := os.ReadFile("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var doc composeFile
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// standIn is a value for a variable the operator must give: the form the desk checks for.
func standIn(name string) string {
	switch {
	case strings.HasSuffix(name, "_URL") || name == "DESK_PUBLIC_URL":
		return "https://" + strings.ToLower(strings.TrimSuffix(name, "_URL")) + ".example"
	case name == "IMAP_ADDR":
		return "imap.example:993"
	case slices.Contains([]string{"SLACK_CHANNEL"}, name):
		return "#abuse-leads"
	case strings.HasSuffix(name, "_EMAIL"):
		return "bot@desk.example"
	}
	return "stand-in-" + strings.ToLower(name)
}
