package abusedesk_test

import (
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The module's path, and what the layers may import (HOUSE-RULES, "Structure").
const module = "abusedesk/"

// layers names the folders from the bottom up, and what each may import besides itself. A
// package in no layer is a violation too: a new folder says where it stands.
var layers = []struct {
	name, dir string
	may       []string
}{
	// The domain's vocabulary: categories, tickets, approvals, error classes, the calendar, the
	// policy. It knows nothing of Temporal, HTTP or storage.
	{"domain", "domain", nil},
	// Message templates: text the domain fills in.
	{"templates", "templates", nil},
	// The platform: configuration, HTTP, durable queues, evidence storage, metrics, Temporal's client.
	{"platform", "platform", []string{"domain"}},
	// Adapters to the outside systems: vocabulary and httpx only (see integrationsMay).
	{"integrations", "integrations", []string{"domain", "platform"}},
	// The case workflows: deterministic, domain only.
	{"workflows", "workflows", []string{"domain"}},
	// What the workflows do outside: domain, workflows' names, templates, the platform.
	{"activities", "activities", []string{"domain", "templates", "platform", "workflows"}},
	// The application: intake, inbound channels, cases, ledger, dashboard.
	{"app", "app", []string{"domain", "templates", "platform", "integrations", "workflows", "activities"}},
	// What `desk dev` ships, and the commands that wire everything.
	{"devenv", "devenv", []string{"domain", "templates", "platform", "integrations", "workflows", "activities", "app"}},
	{"cmd", "cmd", []string{"domain", "templates", "platform", "integrations", "workflows", "activities", "app", "devenv"}},
	// Test helpers: any layer but devenv (what desk dev ships), and only tests import them.
	{"testenv", "testenv", []string{"domain", "templates", "platform", "integrations", "workflows", "activities", "app"}},
	// The module's root holds only this test.
	{"root", "", nil},
}

// layerOf names the layer of a package given relative to the module ("" for the root).
func layerOf(rel string) (string, []string, bool) {
	for _, l := range layers {
		if (l.dir == "" && rel == "") || (l.dir != "" && under(rel, l.dir)) {
			return l.name, l.may, true
		}
	}
	return "", nil, false
}

// vocabulary are the leaf packages every layer may share; each imports at most what is listed.
var vocabulary = map[string][]string{
	"domain/abuse":    nil,
	"domain/ticket":   nil,
	"domain/fault":    nil,
	"domain/approval": {"domain/abuse"},
}

// ticketingAdapter is the ticketing system's adapter; wiring are the application packages that
// may name it (they start it and hand it the ports). The rest of the application knows tickets
// only by ticket.Ref, ticket.Desk and the activities' Tickets.
const ticketingAdapter = "integrations/zendesk"

var wiring = []string{"app/process"}

// integrationsMay are the project packages an integration may import besides other
// vocabulary: the platform's HTTP helpers.
var integrationsMay = []string{"platform/httpx"}

// pkg is a package as `go list -json` describes it: its non-test imports.
type pkg struct {
	ImportPath string
	Imports    []string
}

// violations lists every import that breaks the layers.
func violations(pkgs []pkg) []string {
	var out []string
	for _, p := range pkgs {
		rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, strings.TrimSuffix(module, "/")), "/")
		layer, may, known := layerOf(rel)
		if !known {
			out = append(out, rel+" is in no layer: put it under one of the layers' folders")
			continue
		}
		for _, imp := range p.Imports {
			t, ok := strings.CutPrefix(imp, module)
			if !ok {
				continue
			}
			bad := func(why string) { out = append(out, rel+" imports "+t+": "+why) }
			target, _, _ := layerOf(t)
			switch {
			case target == "testenv" && layer != "testenv":
				bad("testenv is for tests only")
			case target == "devenv" && layer != "devenv" && rel != "cmd/desk":
				bad("devenv is what `desk dev` ships; only cmd/desk may import it")
			case under(t, ticketingAdapter) && layer == "app" && !slices.Contains(wiring, rel):
				bad("the ticketing system is reached through its ports (ticket.Desk in, activities.Tickets out); only the wiring names its adapter")
			case target != layer && !slices.Contains(may, target):
				bad("the " + layer + " layer may not import the " + target + " layer")
			}
			if allowed, leaf := vocabulary[rel]; leaf && !slices.Contains(allowed, t) {
				bad("a vocabulary package is a leaf")
			}
			if layer == "integrations" && !sameIntegration(rel, t) {
				if _, isVocabulary := vocabulary[t]; !isVocabulary && !slices.Contains(integrationsMay, t) {
					bad("integrations import only vocabulary (abuse, ticket, approval, fault) and httpx")
				}
			}
		}
	}
	return out
}

// sameIntegration: a and b are packages of one integration (integrations/NAME and its
// subpackages, such as the enforcement API's generated wire types).
func sameIntegration(a, b string) bool {
	pa, pb := strings.Split(a, "/"), strings.Split(b, "/")
	return len(pa) >= 2 && len(pb) >= 2 && pa[0] == "integrations" && pb[0] == "integrations" && pa[1] == pb[1]
}

func under(rel, dir string) bool { return rel == dir || strings.HasPrefix(rel, dir+"/") }

// TestLayers reads the import graph and fails on any import that breaks the layers.
func TestLayers(t *testing.T) {
	// go test caches a passing result by the files the test itself opened; go list reads the
	// sources in another process, so open them here too: a changed import runs the test again.
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
			return err
		}
		f, err := os.Open(path)
		if err == nil {
			err = f.Close()
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "list", "-json=ImportPath,Imports", "./...")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(stdout)
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("read go list: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("go list: %v", err)
	}
	if len(pkgs) < 20 {
		t.Fatalf("go list found only %d packages", len(pkgs))
	}
	for _, v := range violations(pkgs) {
		t.Error(v)
	}
}

// TestLayerRules: each rule catches what it is for.
func TestLayerRules(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    pkg
		bad  bool
	}{
		{"production imports testenv", pkg{"abusedesk/app/intake", []string{"abusedesk/testenv/memfake"}}, true},
		{"the application imports devenv", pkg{"abusedesk/app/dashboard", []string{"abusedesk/devenv/demo"}}, true},
		{"cmd/desk imports devenv", pkg{"abusedesk/cmd/desk", []string{"abusedesk/devenv/sandbox"}}, false},
		{"devenv imports devenv", pkg{"abusedesk/devenv/sandbox", []string{"abusedesk/devenv/faults"}}, false},
		{"integration imports workflows", pkg{"abusedesk/integrations/slack", []string{"abusedesk/workflows"}}, true},
		{"integration imports activities", pkg{"abusedesk/integrations/zendesk", []string{"abusedesk/activities"}}, true},
		{"integration imports templates", pkg{"abusedesk/integrations/zendesk", []string{"abusedesk/templates"}}, true},
		{"integration imports policy", pkg{"abusedesk/integrations/slack", []string{"abusedesk/domain/policy"}}, true},
		{"integration imports vocabulary", pkg{"abusedesk/integrations/slack", []string{"abusedesk/domain/approval", "abusedesk/platform/httpx", "github.com/slack-go/slack"}}, false},
		{"vocabulary imports upward", pkg{"abusedesk/domain/ticket", []string{"abusedesk/workflows"}}, true},
		{"approval imports abuse", pkg{"abusedesk/domain/approval", []string{"abusedesk/domain/abuse"}}, false},
		{"domain imports the platform", pkg{"abusedesk/domain/policy", []string{"abusedesk/platform/config"}}, true},
		{"platform imports the application", pkg{"abusedesk/platform/metrics", []string{"abusedesk/app/ledger"}}, true},
		{"platform imports the domain", pkg{"abusedesk/platform/evidence", []string{"abusedesk/domain/fault"}}, false},
		{"workflows import activities", pkg{"abusedesk/workflows", []string{"abusedesk/activities"}}, true},
		{"workflows import the platform", pkg{"abusedesk/workflows", []string{"abusedesk/platform/tclient"}}, true},
		{"activities import the application", pkg{"abusedesk/activities", []string{"abusedesk/app/cases"}}, true},
		{"the application imports workflows", pkg{"abusedesk/app/cases", []string{"abusedesk/workflows", "abusedesk/domain/policy"}}, false},
		{"the application imports cmd", pkg{"abusedesk/app/cases", []string{"abusedesk/cmd/desk"}}, true},
		{"testenv imports devenv", pkg{"abusedesk/testenv/pgtest", []string{"abusedesk/devenv/sandbox"}}, true},
		{"testenv imports the platform", pkg{"abusedesk/testenv/pgtest", []string{"abusedesk/platform/pglocal"}}, false},
		{"a folder in no layer", pkg{"abusedesk/internal/misc", nil}, true},
		{"the application names the ticketing adapter", pkg{"abusedesk/app/inbound", []string{"abusedesk/integrations/zendesk"}}, true},
		{"the wiring names the ticketing adapter", pkg{"abusedesk/app/process", []string{"abusedesk/integrations/zendesk"}}, false},
		{"the dev environment names the ticketing adapter", pkg{"abusedesk/devenv/playground", []string{"abusedesk/integrations/zendesk"}}, false},
		{"an integration imports its own subpackage", pkg{"abusedesk/integrations/enforcement", []string{"abusedesk/integrations/enforcement/wire"}}, false},
		{"an integration imports another", pkg{"abusedesk/integrations/enforcement", []string{"abusedesk/integrations/slack"}}, true},
		{"the root", pkg{"abusedesk", nil}, false},
	} {
		if got := len(violations([]pkg{tc.p})) > 0; got != tc.bad {
			t.Errorf("%s: violation %v, want %v", tc.name, got, tc.bad)
		}
	}
}
