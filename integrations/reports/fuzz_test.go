package reports

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzParse feeds hostile input to the parser: it must not panic, must not hang, and must
// always say what the input is (a report with an ID, or a kind with a reason).
//
//	go test -fuzz FuzzParse -fuzztime 60s ./integrations/reports/
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.eml")
	samples, _ := filepath.Glob("testdata/samples/*.eml")
	seeds = append(seeds, samples...)
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

// FuzzAttachments feeds hostile bytes to the unpacking and table stages directly, as a zip, a
// gzip, a CSV, a JSON list and an XML document: no panic, no hang, memory within the bounds
// (an archive over a bound is an error naming it).
//
//	go test -fuzz FuzzAttachments -fuzztime 60s ./integrations/reports/
func FuzzAttachments(f *testing.F) {
	f.Add([]byte("PK\x03\x04"), "report.zip")
	f.Add([]byte("ip,port\n192.0.2.1,22\n"), "scan_ssh.csv")
	f.Add([]byte(`{"events":[{"source":{"ip":"192.0.2.1"},"type":"open_resolver"}]}`), "x.json")
	f.Add([]byte(`<feedback><record><row><source_ip>192.0.2.1</source_ip><policy_evaluated><dkim>fail</dkim><spf>fail</spf></policy_evaluated></row></record></feedback>`), "agg.xml")
	f.Add([]byte(`<IODEF-Document><Incident><EventData><Flow><System category="source"><Node><Address>192.0.2.1</Address></Node></System></Flow></EventData></Incident></IODEF-Document>`), "i.xml")
	for _, name := range []string{"ss-scan-ssh-zip.eml", "ss-sinkhole-gz.eml", "dmarc-aggregate-gz.eml"} {
		if raw, err := os.ReadFile(filepath.Join("testdata/samples", name)); err == nil {
			if m, err := New(Options{}).read(raw); err == nil {
				for _, pt := range m.parts {
					f.Add(pt.body, pt.filename)
				}
			}
		}
	}
	p := New(Options{MaxUnpacked: 8 << 20, MaxRows: 5000})
	f.Fuzz(func(t *testing.T, body []byte, name string) {
		start := time.Now()
		for _, mt := range []string{"application/zip", "application/gzip", "text/csv", "application/json", "application/xml"} {
			u := &unpacker{left: p.opts.MaxUnpacked, opts: p.opts}
			parts, err := u.unpack([]part{{mediaType: mt, filename: name, body: body, params: map[string]string{}}})
			if err != nil {
				if _, ok := err.(errLimit); !ok {
					t.Fatalf("%s: an error that names no bound: %v", mt, err)
				}
				continue
			}
			if total := p.opts.MaxUnpacked - u.left; total < 0 || total > p.opts.MaxUnpacked {
				t.Fatalf("%s: unpacked %d bytes, bound %d", mt, total, p.opts.MaxUnpacked)
			}
			m := &msg{parts: parts}
			res := &Result{Digest: Digest(body)}
			if rows := p.tables(m, res); len(rows) > p.opts.MaxRows {
				t.Fatalf("%d rows past the bound", len(rows))
			}
			p.xmlReports(m, res)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Fatalf("%d bytes took %v", len(body), d)
		}
	})
}

// FuzzSMIME: whatever an application/pkcs7-mime part holds, reading it never panics, and what
// it returns as content was inside it.
func FuzzSMIME(f *testing.F) {
	if der, err := signedDER([]byte("Content-Type: text/plain\r\n\r\nspam from 192.0.2.1\r\n")); err == nil {
		f.Add(der)
	}
	f.Add([]byte{0x30, 0x03, 0x06, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, der []byte) {
		if c, err := smimeContent(der); err == nil && !bytes.Contains(der, c) {
			t.Errorf("content %q is not in the input", c)
		}
	})
}

// FuzzHTMLText: any HTML gives text without panicking, and every address written plainly in
// a text node of simple markup is in it.
func FuzzHTMLText(f *testing.F) {
	f.Add("<table><tr><td>IP</td><td>192.0.2.1</td></tr></table>", "192.0.2.1")
	f.Add(`<a href="http://192.0.2.5/x">click here</a>`, "click")
	f.Add("<script>var x='198.51.100.1'</script><p>203.0.113.9", "203.0.113.9")
	f.Add("<<<p>&#x31;&amp;</p", "&")
	f.Fuzz(func(t *testing.T, doc, word string) {
		htmlText(doc) // any document: no panic, no hang
		if strings.ContainsAny(word, "<>&;\"'= \t\r\n\f\x00") || word == "" || !utf8.ValidString(word) {
			return
		}
		if plain := "<p>" + word + "</p>"; !strings.Contains(htmlText(plain), word) {
			t.Errorf("htmlText(%q) = %q, lost %q", plain, htmlText(plain), word)
		}
	})
}
