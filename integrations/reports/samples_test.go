package reports

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestSamples reads testdata/samples: reports written for this project from the public format
// documents (RFC 5965, 6591, 7489, 7970, 9477, X-ARF 0.2 and 4, Shadowserver-style report
// names, CERT CSV and JSON lists) and from what real complaints look like, each with its
// expectations in MANIFEST.tsv: kind, format, track, category, the number of reports, and the
// first report's source addresses, ranges, phones and sender IDs (exactly), feedback ID, the
// reply's case number, or a piece of the error.
func TestSamples(t *testing.T) {
	b, err := os.ReadFile("testdata/samples/MANIFEST.tsv")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	head := strings.Split(lines[0], "\t")
	files, _ := filepath.Glob("testdata/samples/*")
	if len(files)-1 != len(lines)-1 {
		t.Errorf("%d sample files, %d manifest rows: every sample needs a row", len(files)-1, len(lines)-1)
	}
	p := parser()
	for _, line := range lines[1:] {
		cells := strings.Split(line, "\t")
		want := map[string]string{}
		for i, h := range head {
			if i < len(cells) {
				want[h] = cells[i]
			}
		}
		t.Run(want["file"], func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata/samples", want["file"]))
			if err != nil {
				t.Fatal(err)
			}
			res := p.Parse(raw)
			if string(res.Kind) != want["kind"] {
				t.Fatalf("kind %s (error %q), want %s", res.Kind, res.Error, want["kind"])
			}
			if e := want["error"]; e != "" && !strings.Contains(res.Error, e) {
				t.Errorf("error %q, want it to say %q", res.Error, e)
			}
			if c := want["case"]; c != "" && (res.Reply == nil || res.Reply.CaseNumber != c) {
				t.Errorf("reply %+v, want case %s", res.Reply, c)
			}
			if res.Kind != KindReport {
				return
			}
			if n := want["reports"]; n != "" {
				if got := strconv.Itoa(len(res.Reports)); got != n {
					t.Errorf("%s reports, want %s", got, n)
				}
			}
			r := res.Reports[0]
			if r.Format != want["format"] || string(r.Track) != want["track"] || string(r.Category) != want["category"] {
				t.Errorf("format/track/category %s/%s/%s, want %s/%s/%s", r.Format, r.Track, r.Category, want["format"], want["track"], want["category"])
			}
			for _, f := range []struct {
				name string
				got  []string
			}{{"ips", r.SourceIPs}, {"ranges", r.Ranges}, {"phones", r.Phones}, {"sender_ids", r.SenderIDs}} {
				if w := strings.Fields(want[f.name]); !slices.Equal(f.got, w) && (len(f.got) != 0 || len(w) != 0) {
					t.Errorf("%s %v, want %v (warnings %v)", f.name, f.got, w, r.Warnings)
				}
			}
			if id := want["feedback_id"]; id != "" && r.FeedbackID != id {
				t.Errorf("feedback ID %q, want %q", r.FeedbackID, id)
			}
		})
	}
}
