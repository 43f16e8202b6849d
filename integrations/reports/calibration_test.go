package reports

import (
	"bytes"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"abusedesk/domain/abuse"
	"abusedesk/domain/policy"
)

var updateCalibration = flag.Bool("update-calibration", false, "rewrite the calibration table in docs/report-types.md from the labelled corpus")

// calibrationDoc is where the table is published, between its two markers.
const (
	calibrationDoc   = "../../docs/report-types.md"
	calibrationBegin = "<!-- calibration:begin (go test ./integrations/reports -run TestCalibration -update-calibration) -->"
	calibrationEnd   = "<!-- calibration:end -->"
	// minPrecision is what passing the gate without a person must be worth on the corpus.
	minPrecision = 0.99
)

// outcome is one labelled message as the parser read it.
type outcome struct {
	name     string
	want     label
	kind     Kind
	category abuse.Category
	conf     float64
	wrong    string // "" when read right: why not
}

// passes says whether the report goes past the triage gate at threshold t without a person:
// a report, of a known category, at least that sure (the workflow's reportDoubt).
func (o outcome) passes(t float64) bool {
	return o.kind == KindReport && o.category != abuse.Other && o.conf >= t
}

// labelled gathers every labelled message: the corpus families, testdata/samples and the
// class families.
func labelled(t *testing.T) []sample {
	all := corpus()
	b, err := os.ReadFile("testdata/samples/MANIFEST.tsv")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	head := strings.Split(lines[0], "\t")
	for _, line := range lines[1:] {
		row := map[string]string{}
		for i, c := range strings.Split(line, "\t") {
			if i < len(head) {
				row[head[i]] = c
			}
		}
		raw, err := os.ReadFile(filepath.Join("testdata/samples", row["file"]))
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, sample{name: "samples/" + row["file"], raw: raw, want: label{kind: Kind(row["kind"]), category: abuse.Category(row["category"]),
			ips: strings.Fields(row["ips"]), phones: strings.Fields(row["phones"])}})
	}
	for _, name := range slices.Sorted(maps.Keys(classFamilies)) {
		f := classFamilies[name]
		all = append(all, sample{name: "families/" + name, raw: f.raw, want: label{kind: f.want.kind, category: f.want.category, ips: f.want.ips, hosts: f.want.domains, phones: f.want.phones}})
	}
	return all
}

// read parses each sample and says whether it was read right: its kind, and for a report the
// first report's category, exactly the source addresses meant, and the hosts and numbers
// named.
func read(samples []sample) []outcome {
	p := parser()
	out := make([]outcome, 0, len(samples))
	for _, s := range samples {
		res := p.Parse(s.raw)
		o := outcome{name: s.name, want: s.want, kind: res.Kind}
		var why []string
		if res.Kind != s.want.kind {
			why = append(why, fmt.Sprintf("kind %s, want %s", res.Kind, s.want.kind))
		}
		if res.Kind == KindReport && len(res.Reports) > 0 {
			r := res.Reports[0]
			o.category, o.conf = r.Category, r.Confidence
			if s.want.kind == KindReport {
				if r.Category != s.want.category {
					why = append(why, fmt.Sprintf("category %s, want %s", r.Category, s.want.category))
				}
				if got, want := sorted(r.SourceIPs), sorted(s.want.ips); !slices.Equal(got, want) {
					why = append(why, fmt.Sprintf("sources %v, want %v", got, want))
				}
				for _, h := range s.want.hosts {
					if !slices.Contains(r.Domains, h) {
						why = append(why, "host "+h+" missing")
					}
				}
				for _, ph := range s.want.phones {
					if !slices.Contains(r.Phones, ph) {
						why = append(why, "number "+ph+" missing")
					}
				}
			}
		}
		o.wrong = strings.Join(why, "; ")
		out = append(out, o)
	}
	return out
}

func sorted(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

// tally is how one group fares at a threshold.
type tally struct{ labelled, right, passed, passedRight int }

func (t tally) precision() float64 {
	if t.passed == 0 {
		return 1
	}
	return float64(t.passedRight) / float64(t.passed)
}

func (t tally) recall() float64 {
	if t.labelled == 0 {
		return 0
	}
	return float64(t.passedRight) / float64(t.labelled)
}

// tallies counts per key at threshold th: labelled by the label's key, passed by the read's.
func tallies(outs []outcome, th float64, key func(abuse.Category) string) map[string]*tally {
	m := map[string]*tally{}
	get := func(k string) *tally {
		if m[k] == nil {
			m[k] = &tally{}
		}
		return m[k]
	}
	for _, o := range outs {
		if o.want.kind == KindReport {
			g := get(key(o.want.category))
			g.labelled++
			if o.wrong == "" {
				g.right++
			}
		}
		if o.passes(th) {
			g := get(key(o.category))
			g.passed++
			if o.wrong == "" {
				g.passedRight++
			}
		}
	}
	return m
}

func overall(outs []outcome, th float64) tally {
	return *tallies(outs, th, func(abuse.Category) string { return "" })[""]
}

var thresholds = []float64{0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95}

// calibrationTable writes the published table: per category and per track at the desk's
// threshold, then the whole corpus at each threshold.
func calibrationTable(outs []outcome, th float64) string {
	var b bytes.Buffer
	reports, others := 0, 0
	for _, o := range outs {
		if o.want.kind == KindReport {
			reports++
		} else {
			others++
		}
	}
	fmt.Fprintf(&b, "%d labelled messages: %d reports and %d that are not (status mail, automatic replies, replies to our cases, bounces, newsletters, bombs). ", len(outs), reports, others)
	fmt.Fprintf(&b, "At the default `triage.confidence` of %.2f:\n\n", th)
	b.WriteString("| category | track | labelled | read right | pass the gate | of those right | precision | recall |\n|---|---|---:|---:|---:|---:|---:|---:|\n")
	per := tallies(outs, th, func(c abuse.Category) string { return string(c) })
	for _, c := range slices.Sorted(maps.Keys(per)) {
		g := per[c]
		fmt.Fprintf(&b, "| %s | %s | %d | %d | %d | %d | %s | %s |\n", c, abuse.Category(c).Track(), g.labelled, g.right, g.passed, g.passedRight, pct(g.precision(), g.passed), pct(g.recall(), g.labelled))
	}
	b.WriteString("\n| track | labelled | pass the gate | precision | recall |\n|---|---:|---:|---:|---:|\n")
	tr := tallies(outs, th, func(c abuse.Category) string { return string(c.Track()) })
	for _, k := range slices.Sorted(maps.Keys(tr)) {
		g := tr[k]
		fmt.Fprintf(&b, "| %s | %d | %d | %s | %s |\n", k, g.labelled, g.passed, pct(g.precision(), g.passed), pct(g.recall(), g.labelled))
	}
	b.WriteString("\nThe whole corpus at each threshold (precision: of the reports that pass the gate, how many were read right; recall: of the labelled reports, how many pass read right):\n\n")
	b.WriteString("| threshold | pass the gate | precision | recall |\n|---:|---:|---:|---:|\n")
	for _, t := range thresholds {
		g := overall(outs, t)
		mark := ""
		if t == th {
			mark = " ← default"
		}
		fmt.Fprintf(&b, "| %.2f%s | %d | %s | %s |\n", t, mark, g.passed, pct(g.precision(), g.passed), pct(g.recall(), g.labelled))
	}
	return b.String()
}

func pct(f float64, n int) string {
	if n == 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f %%", 100*f)
}

// TestCalibration recomputes the calibration table on the labelled corpus. It fails when what
// passes the triage gate at the default policy's threshold is right less than 99 % of the
// time, or when the published table is not what the corpus gives now.
func TestCalibration(t *testing.T) {
	samples := labelled(t)
	if len(samples) < 300 {
		t.Errorf("the labelled corpus has %d messages, want at least 300", len(samples))
	}
	outs := read(samples)
	th := policy.Default().Triage.Confidence
	if g := overall(outs, th); g.precision() < minPrecision {
		t.Errorf("precision at the default threshold %.2f is %.1f %% (%d of %d), want at least %.0f %%", th, 100*g.precision(), g.passedRight, g.passed, 100*minPrecision)
	}
	for _, o := range outs {
		switch {
		case o.wrong != "" && o.passes(th):
			t.Logf("passes the gate read wrong: %s (%s, %.2f): %s", o.name, o.category, o.conf, o.wrong)
		case o.wrong != "" && testing.Verbose():
			t.Logf("read wrong, held for a person: %s (%.2f): %s", o.name, o.conf, o.wrong)
		}
	}
	table := calibrationTable(outs, th)
	doc, err := os.ReadFile(calibrationDoc)
	if err != nil {
		t.Fatal(err)
	}
	i, j := bytes.Index(doc, []byte(calibrationBegin)), bytes.Index(doc, []byte(calibrationEnd))
	if i < 0 || j < i {
		t.Fatalf("%s has no calibration markers", calibrationDoc)
	}
	published := string(doc[i+len(calibrationBegin) : j])
	want := "\n" + table + "\n"
	if published == want {
		return
	}
	if *updateCalibration {
		doc = slices.Concat(doc[:i+len(calibrationBegin)], []byte(want), doc[j:])
		if err := os.WriteFile(calibrationDoc, doc, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("the calibration table in %s is not what the corpus gives; run go test ./integrations/reports -run TestCalibration -update-calibration\n%s", calibrationDoc, table)
}
