package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"abusedesk/internal/bench"
	"abusedesk/internal/config"
)

// TestBenchScenariosRun runs every `desk bench` scenario in miniature, in this process: the
// harness must keep working (a scenario fails when a report is lost, a count is wrong or a case
// is not enforced), and each writes its figures. The figures themselves are not judged here —
// timings belong to the benchmark, not to a test.
func TestBenchScenariosRun(t *testing.T) {
	skipShort(t)
	out := t.TempDir()
	args := []string{"bench", "all", "--in-process", "--out", out, "--data-dir", t.TempDir(),
		"--reports", "600", "--accounts", "30", "--naive", "60", "--clients", "16",
		"--cases", "12", "--open", "40", "--idle", "1s", "--precision-cases", "8", "--deadline", "8s",
		"--rows", "300", "--row-accounts", "30"}
	if err := run(context.Background(), args, io.Discard, io.Discard, config.MapLookup(nil)); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"storm":        "cases whose count differs from the reports sent",
		"lifecycle":    "overhead: time per case, abusedesk ÷ bare",
		"precision":    "escalation lateness p99",
		"capacity":     "restart time (start → ready) with every case open",
		"parse":        "messages parsed per second (one core), median of 5",
		"notification": "cases whose count differs from their rows",
		"admission":    "greedy / obedient useful throughput",
	}
	for scenario, figure := range want {
		b, err := os.ReadFile(filepath.Join(out, "bench-"+scenario+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var r bench.Report
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatal(err)
		}
		if r.Error != "" {
			t.Errorf("%s: %s", scenario, r.Error)
		}
		found := false
		for _, f := range r.Figures {
			if f.Name == figure {
				found = true
				if (scenario == "storm" || scenario == "notification") && f.Value != 0 {
					t.Errorf("%s: %v cases hold a wrong count", scenario, f.Value)
				}
			}
		}
		if !found {
			t.Errorf("%s: no figure %q in %s", scenario, figure, b)
		}
	}
}
