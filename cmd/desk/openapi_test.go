package main

import (
	"bytes"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"go.yaml.in/yaml/v3"

	"abusedesk/app/process"
	"abusedesk/platform/ingress"
)

// TestOpenAPIMatchesRoutes: every /api/ route a desk serves is in openapi.yaml with its method,
// every operation the document lists is served, and the desk serves the document itself.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	skipShort(t)
	var mu sync.Mutex
	var servers []*ingress.Server
	process.HTTPHook = func(s *ingress.Server) { mu.Lock(); servers = append(servers, s); mu.Unlock() }
	t.Cleanup(func() { process.HTTPHook = nil })
	d := startDev(t, leadsPolicy(t))
	mu.Lock()
	if len(servers) != 1 {
		t.Fatalf("%d HTTP servers made, want the desk's one", len(servers))
	}
	srv := servers[0]
	mu.Unlock()

	var doc struct {
		Paths map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(process.OpenAPI, &doc); err != nil {
		t.Fatal(err)
	}
	param := regexp.MustCompile(`\{[^}]*\}`)
	norm := func(path string) string { return param.ReplaceAllString(path, "{}") }
	documented := map[string]bool{} // "GET /api/v1/cases/{}"
	for path, ops := range doc.Paths {
		for method := range ops {
			documented[strings.ToUpper(method)+" "+norm(path)] = true
		}
	}
	served := map[string]bool{}
	for _, p := range srv.Patterns() {
		method, path, ok := strings.Cut(p, " ")
		if !ok {
			method, path = "", p
		}
		if !strings.HasPrefix(path, "/api/") {
			continue
		}
		path = norm(path)
		if method == "" {
			// A pattern without a method takes them all: the document says which it answers.
			found := false
			for op := range documented {
				if strings.HasSuffix(op, " "+path) {
					served[op], found = true, true
				}
			}
			if !found {
				t.Errorf("the desk serves %s, which openapi.yaml does not describe", path)
			}
			continue
		}
		served[method+" "+path] = true
		if !documented[method+" "+path] {
			t.Errorf("the desk serves %s %s, which openapi.yaml does not describe", method, path)
		}
	}
	for op := range documented {
		if !served[op] {
			t.Errorf("openapi.yaml describes %s, which the desk does not serve", op)
		}
	}
	if len(served) < 7 {
		t.Errorf("only %d API operations served: %v", len(served), slices.Sorted(func(yield func(string) bool) {
			for k := range served {
				if !yield(k) {
					return
				}
			}
		}))
	}
	resp, err := http.Get(d.ep.HTTP + "/api/v1/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(b, process.OpenAPI) {
		t.Errorf("GET /api/v1/openapi.yaml: HTTP %d, %d bytes, want the document", resp.StatusCode, len(b))
	}
}
