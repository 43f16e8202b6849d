package reports

import (
	"bytes"
	"cmp"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// Tabular notifications: one mail (or its zipped attachment) listing many sources, a row each —
// Shadowserver-style daily reports, CERT notifications as CSV or JSON, provider feeds. Each row
// becomes a report about its address; intake then groups them per account and case.

// ipColumns are the names (lower case, spaces and dashes as _) a table calls its address
// column, most specific first.
var ipColumns = []string{"ip", "src_ip", "source_ip", "ip_address", "srcip", "ipaddress", "source_address", "src_addr", "host_ip", "ipv4", "ipv6", "address", "source"}

// table is a list of rows read from one part.
type table struct {
	name string // the report name: the file name without its extension, or the subject
	// ipCol is the address column when every row has the same columns (CSV), else "".
	ipCol string
	rows  []map[string]string
	// more is set when the part has rows past the bound.
	more bool
}

// normKey writes a column name the way ipColumns and the field names are written.
// What gives a feed's row its confidence: one slice each for every row (capacity = length, so
// an append copies), so a 50,000-row report costs nothing more.
var (
	rowKnown   = []string{"0.90 a row of a feed whose report type names the category"}
	rowUnknown = []string{"0.60 a row of a feed of unknown report type"}
	rowTyped   = []string{"0.80 the row's own type column names the category"}
)

func normKey(k string) string {
	return strings.NewReplacer(" ", "_", "-", "_").Replace(strings.ToLower(strings.TrimSpace(strings.TrimPrefix(k, "\ufeff"))))
}

// ipColumn is the address column of a table that has the columns has says it has, or "".
func ipColumn(has func(column string) bool) string {
	for _, c := range ipColumns {
		if has(c) {
			return c
		}
	}
	return ""
}

// rowHas says which columns a row has.
func rowHas(row map[string]string) func(string) bool {
	return func(c string) bool { _, ok := row[c]; return ok }
}

// tables reads every CSV or JSON list in the message and turns its rows into reports.
func (p *Parser) tables(m *msg, res *Result) []Report {
	var out []Report
	for i := range m.parts {
		pt := &m.parts[i]
		var t *table
		switch {
		case pt.mediaType == "text/csv" || strings.HasSuffix(strings.ToLower(pt.filename), ".csv"):
			t = readCSV(pt, p.opts.MaxRows-len(out))
		case (pt.mediaType == "application/json" || strings.HasSuffix(strings.ToLower(pt.filename), ".json")) && !bytes.Contains(pt.body, []byte(`"xarf_version"`)):
			t = readJSONList(pt, p.opts.MaxRows-len(out))
		}
		if t == nil || len(t.rows) == 0 {
			continue
		}
		out = append(out, tableReports(m, res, t, len(out))...)
		if len(out) >= p.opts.MaxRows {
			break
		}
	}
	return out
}

// readCSV reads a CSV part with an address column (comma, semicolon or tab separated).
func readCSV(pt *part, maxRows int) *table {
	body := pt.body
	first, _, _ := bytes.Cut(body, []byte("\n"))
	rd := csv.NewReader(bytes.NewReader(body))
	switch {
	case bytes.Count(first, []byte("\t")) > bytes.Count(first, []byte(",")):
		rd.Comma = '\t'
	case bytes.Count(first, []byte(";")) > bytes.Count(first, []byte(",")):
		rd.Comma = ';'
	}
	rd.FieldsPerRecord = -1
	rd.LazyQuotes = true
	head, err := rd.Read()
	if err != nil {
		return nil
	}
	for i, h := range head {
		head[i] = normKey(h)
	}
	col := ipColumn(func(c string) bool { return slices.Contains(head, c) })
	if col == "" {
		return nil
	}
	t := &table{name: strings.TrimSuffix(strings.ToLower(pt.filename), ".csv"), ipCol: col}
	for {
		row, err := rd.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			continue
		}
		if len(t.rows) >= maxRows {
			t.more = true
			break
		}
		m := make(map[string]string, len(head))
		for i, v := range row {
			if i < len(head) {
				m[head[i]] = strings.TrimSpace(v)
			}
		}
		t.rows = append(t.rows, m)
	}
	return t
}

// listKeys are the names a JSON document gives its list of rows.
var listKeys = []string{"events", "data", "results", "items", "records", "incidents", "hosts", "entries", "rows", "reports"}

// readJSONList reads a JSON list of objects with an address field: a bare array, or an object
// holding one under a usual name.
func readJSONList(pt *part, maxRows int) *table {
	var raw json.RawMessage
	if json.Unmarshal(pt.body, &raw) != nil {
		return nil
	}
	var list []map[string]any
	if json.Unmarshal(raw, &list) != nil {
		var doc map[string]json.RawMessage
		if json.Unmarshal(raw, &doc) != nil {
			return nil
		}
	find:
		for _, want := range listKeys {
			for k, v := range doc {
				if strings.EqualFold(k, want) && json.Unmarshal(v, &list) == nil {
					break find
				}
			}
		}
	}
	t := &table{name: strings.TrimSuffix(strings.ToLower(pt.filename), ".json")}
	for _, obj := range list {
		if len(t.rows) >= maxRows {
			t.more = true
			break
		}
		row := map[string]string{}
		for k, v := range obj {
			switch v := v.(type) {
			case string:
				row[normKey(k)] = strings.TrimSpace(v)
			case float64:
				row[normKey(k)] = fmt.Sprint(v)
			case map[string]any: // {"source": {"ip": …}}
				for k2, v2 := range v {
					if s, ok := v2.(string); ok {
						row[normKey(k+"_"+k2)] = strings.TrimSpace(s)
						if _, taken := row[normKey(k2)]; !taken {
							row[normKey(k2)] = strings.TrimSpace(s)
						}
					}
				}
			}
		}
		if ipColumn(rowHas(row)) != "" {
			t.rows = append(t.rows, row)
		}
	}
	return t
}

// tableReports turns a table's rows into reports. The category comes from the report name
// (file name, else subject), or from a row's own type column.
func tableReports(m *msg, res *Result, t *table, before int) []Report {
	name := cmp.Or(t.name, strings.ToLower(res.Subject))
	cat, known := categoryOfType(name, res.Subject)
	received, _, _ := parseDate(m.header.Get("Date"))
	format := FormatTable
	if strings.Contains(strings.ToLower(res.From), "shadowserver") {
		format = FormatShadowserver
	}
	var out []Report
	for n, row := range t.rows {
		col := t.ipCol
		if col == "" {
			col = ipColumn(rowHas(row))
		}
		ip := firstIP(row[col])
		if ip == "" {
			continue
		}
		r := Report{Format: format, Category: cat, Reporter: res.From, ReceivedAt: received,
			SourceIPs: []string{ip}, Fields: map[string][]string{"report": {name}}}
		r.Confidence, r.Signals = 0.6, rowUnknown
		if known {
			r.Confidence, r.Signals = 0.9, rowKnown
		}
		if ts, _, ok := parseDate(cmp.Or(row["timestamp"], row["time"], row["date"], row["first_seen"], row["last_seen"])); ok {
			r.EventTime = ts
		} else if sec, ok := unixTime(row["timestamp"]); ok {
			r.EventTime = sec
		}
		r.Domains = addDomain(r.Domains, cmp.Or(row["hostname"], row["host"], row["domain"], row["fqdn"]))
		if u := cmp.Or(row["url"], row["uri"]); u != "" && strings.Contains(u, "://") {
			r.URLs = appendUnique(r.URLs, u)
		}
		for _, k := range []string{"port", "protocol", "tag", "infection", "asn", "type", "category", "malware", "vulnerability", "cve"} {
			if v := row[k]; v != "" {
				r.Fields[k] = []string{v}
			}
		}
		if !known {
			if c, ok := categoryOfType(cmp.Or(row["category"], row["type"], row["infection"], row["tag"], row["malware"])); ok {
				r.Category, r.Confidence, r.Signals = c, 0.8, rowTyped
			} else {
				r.Warnings = append(r.Warnings, "unknown report type "+name)
			}
		}
		r.ID = fmt.Sprintf("%s#%d", cmp.Or(res.MessageID, "sha256:"+res.Digest[:32]), before+n+1)
		r.Summary = OneLine(fmt.Sprintf("%s: %s", name, rowText(row, ip)), 200)
		out = append(out, r)
	}
	if t.more && len(out) > 0 {
		last := &out[len(out)-1]
		last.Warnings = append(last.Warnings, fmt.Sprintf("the list %q has more rows than the parser reads from one message; the rest are in the raw message", name))
	}
	return out
}

// rowText is a row for people: the address first, then the other columns in a fixed order.
func rowText(row map[string]string, ip string) string {
	keys := make([]string, 0, len(row))
	for k := range row {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	b.WriteString(ip)
	for _, k := range keys {
		if v := row[k]; v != "" && v != ip {
			b.WriteString(" " + k + "=" + v)
		}
	}
	return b.String()
}

// unixTime reads seconds since 1970 written as a number.
func unixTime(s string) (time.Time, bool) {
	var sec int64
	if _, err := fmt.Sscan(s, &sec); err != nil || sec < 1e9 || sec > 1e10 {
		return time.Time{}, false
	}
	return time.Unix(sec, 0).UTC(), true
}
