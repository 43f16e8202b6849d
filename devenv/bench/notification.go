package bench

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"abusedesk/platform/httpx"
	"abusedesk/workflows"
)

// benchNotification posts one zipped CSV notification of o.Rows rows about o.RowAccounts
// accounts (a honeypot brute-force feed, so every row is abuse) to the reports API: how long
// until it is accepted — parsed, every row resolved to its account, on disk — and then until
// every account's case counts its rows, one case (so one notice) per account.
func benchNotification(ctx context.Context, o *Options, r *Report) error {
	r.Params["rows"], r.Params["accounts"] = o.Rows, o.RowAccounts
	dir := filepath.Join(o.DataDir, "notification")
	env, err := newBenchEnv(ctx, o, dir, o.RowAccounts, nil)
	if err != nil {
		return err
	}
	defer env.close()
	d, err := env.startDesk(ctx, filepath.Join(dir, "desk"), nil)
	if err != nil {
		return err
	}
	defer func() { _, _ = d.stop() }()
	msg, zipped, err := notificationMail(o.Rows, o.RowAccounts, time.Now().UTC())
	if err != nil {
		return err
	}
	r.add("notification size (zipped CSV, base64 in the mail)", float64(len(msg))/1000, "KB")
	r.note("the zip holds a %d-byte CSV", zipped)
	hc := &http.Client{Timeout: 5 * time.Minute}
	fmt.Fprintf(o.Log, "posting one notification of %d rows about %d accounts\n", o.Rows, o.RowAccounts)
	start := time.Now()
	status, answer, retries, err := httpx.PostUntilAccepted(ctx, hc, d.ep.API.URL, d.ep.API.Token, "message/rfc822", msg, time.Now().Add(5*time.Minute))
	took := time.Since(start)
	if err != nil || status != http.StatusOK {
		return fmt.Errorf("the notification was answered %d (%v): %.300s", status, err, answer)
	}
	var resp struct {
		Reports []struct {
			ReportID string `json:"report_id"`
		} `json:"reports"`
	}
	if err := json.Unmarshal(answer, &resp); err != nil {
		return fmt.Errorf("the answer is not the API's JSON: %w", err)
	}
	// Which accounts the rows reached is counted below, from their cases (the answer names none).
	if len(resp.Reports) != o.Rows {
		return fmt.Errorf("%d rows accepted, want %d", len(resp.Reports), o.Rows)
	}
	r.atMost("notification accepted (parsed, every row resolved, on disk)", took.Seconds(), "s", 10)
	r.add("rows accepted per second", float64(o.Rows)/took.Seconds(), "rows/s")
	r.add("retries (503) before it was accepted", float64(retries), "")
	_, peak := d.rss()
	r.add("peak RSS of the desk so far", float64(peak)/(1<<20), "MiB")

	fmt.Fprintf(o.Log, "waiting for %d cases to count their rows\n", o.RowAccounts)
	want := int64(o.Rows / o.RowAccounts)
	var counts map[string]int64
	err = waitFor(ctx, time.Hour, 2*time.Second, func() (bool, error) {
		c, err := d.caseCounts(ctx, "ExecutionStatus = 'Running'")
		counts = c
		return err == nil && int64(len(c)) >= int64(o.RowAccounts) && sum(c) >= int64(o.Rows), err
	})
	if err != nil {
		return fmt.Errorf("%d cases counting %d rows: %w", len(counts), sum(counts), err)
	}
	wrong := 0
	for _, n := range counts {
		if n != want && o.Rows%o.RowAccounts == 0 {
			wrong++
		}
	}
	r.add("until every case counts its rows", time.Since(start).Seconds(), "s")
	r.add("cases (one per account)", float64(len(counts)), "cases")
	r.atMost("cases whose count differs from their rows", float64(wrong), "cases", 0)
	// A case awaits the customer once its one notice went out.
	awaiting := statusQuery(workflows.StatusAwaitingResponse)
	var noticed int64
	err = waitFor(ctx, time.Hour, 2*time.Second, func() (bool, error) {
		n, err := d.cases.Count(ctx, awaiting)
		noticed = n
		return n >= int64(o.RowAccounts), err
	})
	if err != nil {
		return fmt.Errorf("%d of %d cases noticed: %w", noticed, o.RowAccounts, err)
	}
	r.add("until every case sent its notice", time.Since(start).Seconds(), "s")
	_, peak = d.rss()
	r.add("peak RSS of the desk", float64(peak)/(1<<20), "MiB")
	return nil
}

// notificationMail is a feed's daily mail: a zipped CSV of rows about accounts, row i about
// host i/accounts of account i%accounts. It returns the mail and the CSV's size.
func notificationMail(rows, accounts int, at time.Time) ([]byte, int, error) {
	var csv bytes.Buffer
	csv.WriteString("timestamp,src_ip,src_port,dst_port,protocol,application,login_attempts\n")
	for i := range rows {
		fmt.Fprintf(&csv, "%s,%s,%d,22,tcp,ssh,%d\n", at.Add(-time.Duration(i%3600)*time.Second).Format("2006-01-02 15:04:05"),
			benchIP(i%accounts, i/accounts), 40000+i%20000, 10+i%90)
	}
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	name := at.Format("2006-01-02") + "-event4_honeypot_brute_force-bench.csv"
	f, err := zw.Create(name)
	if err != nil {
		return nil, 0, err
	}
	if _, err := f.Write(csv.Bytes()); err != nil {
		return nil, 0, err
	}
	if err := zw.Close(); err != nil {
		return nil, 0, err
	}
	enc := base64.StdEncoding.EncodeToString(zb.Bytes())
	var lines []string
	for len(enc) > 76 {
		lines, enc = append(lines, enc[:76]), enc[76:]
	}
	lines = append(lines, enc)
	mail := fmt.Sprintf("From: Honeypot Feed <feed@honeypots.example>\r\nTo: abuse@provider.example\r\nSubject: Daily honeypot brute force report\r\n"+
		"Message-ID: <bench-notification-%d@honeypots.example>\r\nDate: %s\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=nb\r\n\r\n"+
		"--nb\r\nContent-Type: text/plain\r\n\r\nThe daily report for your network is attached.\r\n"+
		"--nb\r\nContent-Type: application/zip; name=\"%s.zip\"\r\nContent-Disposition: attachment; filename=\"%s.zip\"\r\nContent-Transfer-Encoding: base64\r\n\r\n%s\r\n--nb--\r\n",
		at.UnixNano(), at.Format(time.RFC1123Z), name, name, strings.Join(lines, "\r\n"))
	return []byte(mail), csv.Len(), nil
}
