package reports

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzParse feeds hostile input to the parser: it must not panic, must not hang, and must
// always say what the input is (a report with an ID, or a kind with a reason).
//
//	go test -fuzz FuzzParse -fuzztime 60s ./integrations/reports/
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.eml")
	corpus, _ := filepath.Glob(filepath.Join(corpusDir, "*.e*"))
	jsons, _ := filepath.Glob(filepath.Join(corpusDir, "*.json"))
	for _, s := range append(append(seeds, corpus...), jsons...) {
		if raw, err := os.ReadFile(s); err == nil {
			f.Add(raw)
		}
	}
	f.Add([]byte("Content-Type: multipart/mixed; boundary=a\n\n--a\nContent-Type: multipart/mixed; boundary=a\n\n--a--"))
	f.Add([]byte("Content-Type: message/feedback-report\n\nSource-IP: ::ffff:1.2.3.4\n"))
	f.Add([]byte(`{"xarf_version":"4","category":"c","type":"t","source_identifier":"999.1.1.1"}`))
	p := New(Options{FindCaseNumber: findCase, MaxBytes: 1 << 20})
	f.Fuzz(func(t *testing.T, raw []byte) {
		start := time.Now()
		res := p.parse(raw)
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("parsing %d bytes took %v", len(raw), d)
		}
		if res == nil || res.Digest != Digest(raw) {
			t.Fatal("no result or wrong digest")
		}
		switch res.Kind {
		case KindReport:
			if len(res.Reports) == 0 {
				t.Fatal("a report result without reports")
			}
			for _, r := range res.Reports {
				if r.ID == "" || r.Category == "" || r.Format == "" {
					t.Fatalf("incomplete report %+v", r)
				}
			}
		case KindReply, KindAutoReply, KindBounce:
			if res.Reply == nil {
				t.Fatal("a reply result without the reply")
			}
		case KindUnparseable:
			if res.Error == "" {
				t.Fatal("unparseable without a reason")
			}
		default:
			t.Fatalf("unknown kind %q", res.Kind)
		}
	})
}
