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

// vocabulary are the leaf packages every layer may share; each imports at most what is listed.
var vocabulary = map[string][]string{
	"internal/abuse":    nil,
	"internal/ticket":   nil,
	"internal/fault":    nil,
	"internal/approval": {"internal/abuse"},
}

// integrationsMay are the project packages an integration may import besides other
// vocabulary: the platform's HTTP helpers.
var integrationsMay = []string{"internal/httpx"}

// pkg is a package as `go list -json` describes it: its non-test imports.
type pkg struct {
	ImportPath string
	Imports    []string
}

// violations lists every import that breaks the layers.
func violations(pkgs []pkg) []string {
	var out []string
	for _, p := range pkgs {
		rel := strings.TrimPrefix(p.ImportPath, module)
		for _, imp := range p.Imports {
			t, ok := strings.CutPrefix(imp, module)
			if !ok {
				continue
			}
			bad := func(why string) { out = append(out, rel+" imports "+t+": "+why) }
			switch {
			case under(t, "testenv"):
				bad("testenv is for tests only")
			case under(t, "devenv") && !under(rel, "devenv") && rel != "cmd/desk":
				bad("devenv is what `desk dev` ships; only cmd/desk may import it")
			}
			if allowed, leaf := vocabulary[rel]; leaf && !slices.Contains(allowed, t) {
				bad("a vocabulary package is a leaf")
			}
			if under(rel, "integrations") {
				if _, isVocabulary := vocabulary[t]; !isVocabulary && !slices.Contains(integrationsMay, t) {
					bad("integrations import only vocabulary (abuse, ticket, approval, fault) and httpx")
				}
			}
		}
	}
	return out
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
		{"production imports testenv", pkg{"abusedesk/internal/intake", []string{"abusedesk/testenv/memfake"}}, true},
		{"internal imports devenv", pkg{"abusedesk/internal/dashboard", []string{"abusedesk/devenv/demo"}}, true},
		{"cmd/desk imports devenv", pkg{"abusedesk/cmd/desk", []string{"abusedesk/devenv/sandbox"}}, false},
		{"devenv imports devenv", pkg{"abusedesk/devenv/sandbox", []string{"abusedesk/devenv/faults"}}, false},
		{"integration imports workflows", pkg{"abusedesk/integrations/slack", []string{"abusedesk/workflows"}}, true},
		{"integration imports activities", pkg{"abusedesk/integrations/zendesk", []string{"abusedesk/activities"}}, true},
		{"integration imports templates", pkg{"abusedesk/integrations/zendesk", []string{"abusedesk/templates"}}, true},
		{"integration imports policy", pkg{"abusedesk/integrations/slack", []string{"abusedesk/internal/policy"}}, true},
		{"integration imports vocabulary", pkg{"abusedesk/integrations/slack", []string{"abusedesk/internal/approval", "abusedesk/internal/httpx", "github.com/slack-go/slack"}}, false},
		{"vocabulary imports upward", pkg{"abusedesk/internal/ticket", []string{"abusedesk/workflows"}}, true},
		{"approval imports abuse", pkg{"abusedesk/internal/approval", []string{"abusedesk/internal/abuse"}}, false},
	} {
		if got := len(violations([]pkg{tc.p})) > 0; got != tc.bad {
			t.Errorf("%s: violation %v, want %v", tc.name, got, tc.bad)
		}
	}
}
