package reports

import (
	"bytes"
	"cmp"
	"encoding/xml"
	"fmt"
	"strings"
	"time"

	"abusedesk/domain/abuse"
)

// dmarcSignals say what gives a DMARC aggregate record its confidence (one slice for every
// record: its capacity is its length, so an append copies).
var dmarcSignals = []string{"0.80 DMARC aggregate record (RFC 7489)"}

// XML reports: DMARC aggregate reports (RFC 7489, appendix C), usually gzipped or zipped, and
// IODEF incident documents (RFC 7970, RFC 5070) from CERTs.

const (
	FormatDMARCAggregate = "dmarc-aggregate"
	FormatIODEF          = "iodef"
)

// xmlPart returns the first XML part (attachment or body), or nil.
func xmlPart(m *msg) *part {
	for i := range m.parts {
		pt := &m.parts[i]
		b := bytes.TrimSpace(pt.body)
		if len(b) == 0 {
			continue
		}
		if pt.mediaType == "application/xml" || pt.mediaType == "text/xml" || strings.HasSuffix(strings.ToLower(pt.filename), ".xml") ||
			bytes.HasPrefix(b, []byte("<?xml")) {
			return pt
		}
	}
	return nil
}

// dmarcFeedback is the part of an aggregate report the desk reads.
type dmarcFeedback struct {
	XMLName  xml.Name `xml:"feedback"`
	Metadata struct {
		OrgName  string `xml:"org_name"`
		Email    string `xml:"email"`
		ReportID string `xml:"report_id"`
		Begin    int64  `xml:"date_range>begin"`
		End      int64  `xml:"date_range>end"`
	} `xml:"report_metadata"`
	Domain  string `xml:"policy_published>domain"`
	Records []struct {
		SourceIP    string `xml:"row>source_ip"`
		Count       int    `xml:"row>count"`
		Disposition string `xml:"row>policy_evaluated>disposition"`
		DKIM        string `xml:"row>policy_evaluated>dkim"`
		SPF         string `xml:"row>policy_evaluated>spf"`
		HeaderFrom  string `xml:"identifiers>header_from"`
	} `xml:"record"`
}

// dmarcAggregate reads an aggregate report: one report per source that failed both DKIM and
// SPF alignment (a sender using the domain without its authority), nothing for the sources
// that passed.
func dmarcAggregate(m *msg, res *Result, b []byte, maxRows int) ([]Report, bool) {
	var f dmarcFeedback
	if xml.Unmarshal(b, &f) != nil || f.XMLName.Local != "feedback" {
		return nil, false
	}
	reporter := cmp.Or(f.Metadata.Email, res.From, f.Metadata.OrgName)
	var out []Report
	for _, rec := range f.Records {
		if len(out) >= maxRows {
			break
		}
		if strings.EqualFold(rec.DKIM, "pass") || strings.EqualFold(rec.SPF, "pass") {
			continue
		}
		ip := firstIP(rec.SourceIP)
		if ip == "" {
			continue
		}
		r := Report{Format: FormatDMARCAggregate, Category: abuse.AuthFailure, Confidence: 0.8, Signals: dmarcSignals, Reporter: reporter, SourceIPs: []string{ip},
			Fields: map[string][]string{"domain": {cmp.Or(rec.HeaderFrom, f.Domain)}, "count": {fmt.Sprint(rec.Count)}, "disposition": {rec.Disposition},
				"dkim": {rec.DKIM}, "spf": {rec.SPF}, "org": {f.Metadata.OrgName}}}
		r.Domains = addDomain(r.Domains, cmp.Or(rec.HeaderFrom, f.Domain))
		if f.Metadata.Begin > 0 {
			r.EventTime = time.Unix(f.Metadata.Begin, 0).UTC()
		}
		if f.Metadata.End > 0 {
			r.ReceivedAt = time.Unix(f.Metadata.End, 0).UTC()
		}
		r.ID = fmt.Sprintf("dmarc:%s:%s#%d", cmp.Or(f.Metadata.OrgName, "unknown"), cmp.Or(f.Metadata.ReportID, res.Digest[:16]), len(out)+1)
		r.Summary = OneLine(fmt.Sprintf("DMARC aggregate from %s: %d message(s) from %s as %s failed DKIM and SPF", f.Metadata.OrgName, rec.Count, ip, cmp.Or(rec.HeaderFrom, f.Domain)), 200)
		out = append(out, r)
	}
	return out, true
}

// iodef reads an IODEF document: each incident's source addresses, its category from the
// impact, expectation or description, and its time.
func iodef(res *Result, b []byte) ([]Report, bool) {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = false
	var (
		out      []Report
		cur      *Report
		system   []string // categories of the enclosing System elements
		text     strings.Builder
		words    []string
		isIODEF  bool
		incident string
	)
	for {
		tok, err := d.Token()
		if err != nil {
			break
		}
		switch t := tok.(type) {
		case xml.StartElement:
			text.Reset()
			attr := func(name string) string {
				for _, a := range t.Attr {
					if strings.EqualFold(a.Name.Local, name) {
						return a.Value
					}
				}
				return ""
			}
			switch t.Name.Local {
			case "IODEF-Document":
				isIODEF = true
			case "Incident":
				cur = &Report{Format: FormatIODEF, Reporter: res.From}
				cur.sure(0.85, "0.85 IODEF incident (RFC 7970)")
				words = words[:0]
			case "System":
				system = append(system, strings.ToLower(attr("category")))
			case "Impact", "Expectation":
				if v := attr("type"); v != "" {
					words = append(words, v)
				}
				if v := attr("action"); v != "" && t.Name.Local == "Expectation" {
					words = append(words, v)
				}
			case "IncidentID":
				incident = attr("name")
			}
		case xml.CharData:
			text.Write(t)
		case xml.EndElement:
			v := strings.TrimSpace(text.String())
			text.Reset()
			if cur == nil {
				continue
			}
			switch t.Name.Local {
			case "IncidentID":
				cur.ID = "iodef:" + cmp.Or(incident, "unknown") + ":" + v
			case "Address", "NodeName", "URL":
				if len(system) > 0 && system[len(system)-1] == "source" {
					if ip := firstIP(v); ip != "" && t.Name.Local == "Address" {
						cur.SourceIPs = appendUnique(cur.SourceIPs, ip)
					} else if strings.Contains(v, "://") {
						cur.URLs = appendUnique(cur.URLs, v)
						cur.Domains = addDomain(cur.Domains, hostOf(v))
					} else {
						cur.Domains = addDomain(cur.Domains, v)
					}
				}
			case "System":
				if len(system) > 0 {
					system = system[:len(system)-1]
				}
			case "Description":
				words = append(words, v)
			case "StartTime", "DetectTime":
				if ts, _, ok := parseDate(v); ok && cur.EventTime.IsZero() {
					cur.EventTime = ts
				} else if ts, err := time.Parse(time.RFC3339, v); err == nil && cur.EventTime.IsZero() {
					cur.EventTime = ts
				}
			case "ReportTime":
				if ts, err := time.Parse(time.RFC3339, v); err == nil {
					cur.ReceivedAt = ts
				}
			case "Incident":
				cat, known := categoryOfType(words...)
				if !known {
					cat, known = categoryOfText(strings.Join(words, " "))
				}
				cur.Category = cat
				if !known {
					cur.sure(0.5, "0.50 IODEF incident whose impact names no category")
				}
				if len(cur.SourceIPs)+len(cur.URLs)+len(cur.Domains) > 0 {
					if cur.ID == "" {
						cur.ID = fmt.Sprintf("%s#%d", cmp.Or(res.MessageID, "sha256:"+res.Digest[:32]), len(out)+1)
					}
					out = append(out, *cur)
				}
				cur = nil
			}
		}
	}
	return out, isIODEF
}

// xmlReports reads the message's XML report, if it has one it knows.
func (p *Parser) xmlReports(m *msg, res *Result) ([]Report, string) {
	pt := xmlPart(m)
	if pt == nil {
		return nil, ""
	}
	if rows, ok := dmarcAggregate(m, res, pt.body, p.opts.MaxRows); ok {
		if len(rows) == 0 {
			return nil, "a DMARC aggregate report in which every source passed DKIM or SPF: nothing to act on"
		}
		return rows, ""
	}
	if rows, ok := iodef(res, pt.body); ok {
		if len(rows) == 0 {
			return nil, "an IODEF document that names no source"
		}
		return rows, ""
	}
	return nil, ""
}
