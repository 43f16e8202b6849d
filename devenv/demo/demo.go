// Package demo holds what `desk dev --demo` feeds the sandbox: sample reports written for the
// sandbox's demo accounts (a mix of formats and categories, one about an address that is no
// customer's and one no parser can read), and a policy whose windows are minutes long, so a
// person watching the dashboard sees every stage of a case in one sitting.
package demo

import (
	"bytes"
	"embed"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

//go:embed samples/* policy.yaml
var files embed.FS

// Listed are the addresses the sandbox's DNS blocklist lists at the start: the spam sample's
// sender, so the demo's spam fix is checked against a listing that a person can take away
// (POST /sandbox/delist on the sandbox's hosting stand-in).
var Listed = []string{"192.0.2.25"}

// Sample is one report as it arrives: a raw message, or an X-ARF 4 JSON document.
type Sample struct {
	Name string
	Raw  []byte
}

// JSON reports whether the sample is an X-ARF 4 document (sent to the reports API, not mailed).
func (s Sample) JSON() bool { return bytes.HasPrefix(bytes.TrimSpace(s.Raw), []byte("{")) }

// sampleDay is the day the embedded samples were written on. Samples moves them to yesterday,
// so a demo's reports are never too old to act on (the policy's max_age) however long after
// that day it runs.
var sampleDay = time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)

// recent rewrites the sample day's dates, in the ways the samples write them, as yesterday's.
func recent(raw []byte, now time.Time) []byte {
	y := now.UTC().AddDate(0, 0, -1)
	r := strings.NewReplacer(
		sampleDay.Format("Mon, 2 Jan 2006"), y.Format("Mon, 2 Jan 2006"),
		sampleDay.Format("2 Jan 2006"), y.Format("2 Jan 2006"),
		sampleDay.Format("2006-01-02"), y.Format("2006-01-02"),
		sampleDay.Format("Jan 2"), y.Format("Jan 2"),
	)
	return []byte(r.Replace(string(raw)))
}

// Samples returns the embedded samples, in name order, dated yesterday.
func Samples() []Sample {
	entries, err := files.ReadDir("samples")
	if err != nil {
		panic(err) // embedded at build time
	}
	var out []Sample
	for _, e := range entries {
		b, err := files.ReadFile("samples/" + e.Name())
		if err != nil {
			panic(err)
		}
		out = append(out, Sample{Name: strings.TrimSuffix(strings.TrimSuffix(e.Name(), ".eml"), ".json"), Raw: recent(b, time.Now())})
	}
	return out
}

// LoadDir reads every .eml and .json file of a directory (e.g. the shared corpus) as samples.
func LoadDir(dir string) ([]Sample, error) {
	var names []string
	for _, pat := range []string{"*.eml", "*.json"} {
		m, err := filepath.Glob(filepath.Join(dir, pat))
		if err != nil {
			return nil, err
		}
		names = append(names, m...)
	}
	if len(names) == 0 {
		if _, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("demo samples: %w", err)
		}
		return nil, fmt.Errorf("demo samples: no .eml or .json files in %s", dir)
	}
	slices.Sort(names)
	var out []Sample
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			return nil, fmt.Errorf("demo samples: %w", err)
		}
		out = append(out, Sample{Name: filepath.Base(n), Raw: b})
	}
	return out, nil
}

// Policy is the demo policy: the default rules with windows of minutes, and the sandbox's
// leads (Slack group SLEADS) as approvers.
func Policy() []byte {
	b, err := files.ReadFile("policy.yaml")
	if err != nil {
		panic(err)
	}
	return b
}

// WritePolicy writes the demo policy into the data dir (where a person can read and
// change it) and returns its path.
func WritePolicy(dataDir string) (string, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return "", err
	}
	path := filepath.Join(dataDir, "demo-policy.yaml")
	if _, err := os.Stat(path); err == nil {
		return path, nil // kept: the person may have changed it
	}
	if err := os.WriteFile(path, Policy(), 0o600); err != nil {
		return "", fmt.Errorf("demo policy: %w", err)
	}
	return path, nil
}
