package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"abusedesk/workflows"
)

// TestAfterAnOutageOneMessage (issue 28, item 10): the desk is down from just after a notice
// until past its deadline. When it comes back, the reminders whose time came while it was
// down are not sent — their deadline has passed — and the customer gets one message, the
// enforcement notice; the timeline says why each reminder was not sent.
func TestAfterAnOutageOneMessage(t *testing.T) {
	t.Parallel()
	p := fastPolicy(t, t.TempDir(), map[string]string{"response_window: 72h": "response_window: 12s", "reminders: [24h, 48h]": "reminders: [4s, 8s]"})
	dir := t.TempDir()
	d := startDevIn(t, dir, p, nil)
	d.mail(fmt.Appendf(nil, "From: fbl@isp.example\r\nTo: abuse@provider.example\r\nSubject: Complaint\r\nMessage-ID: <outage-1@isp.example>\r\n"+
		"Date: %s\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=feedback-report; boundary=b\r\n\r\n"+
		"--b\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\nSource-IP: 192.0.2.10\r\n\r\n"+
		"--b\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <reported-outage-1@shop.example>\r\nSubject: offer\r\n\r\n--b--\r\n", mailDate))
	caseID := workflows.CaseWorkflowID("acct-shop", "spam")
	v := d.waitStatus(caseID, workflows.StatusAwaitingResponse, 60*time.Second)
	deadline := v.Deadline
	d.stop() // the outage
	if wait := time.Until(deadline.Add(4 * time.Second)); wait > 0 {
		time.Sleep(wait)
	}
	d2 := startDevIn(t, dir, p, nil)
	after := d2.waitStatus(caseID, workflows.StatusEnforced, 90*time.Second)

	// The enforcement notice goes out after the status changes: wait for it (a busy machine
	// runs the tests side by side), then count every message.
	var notices, reminders, enforced int
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		notices, reminders, enforced = 0, 0, 0
		for _, m := range d2.publicTo("ops@shop.example", nil) {
			switch {
			case strings.Contains(m, "we have applied the following"):
				enforced++
			case strings.Contains(m, "this is reminder"):
				reminders++
			default:
				notices++
			}
		}
		if enforced > 0 || time.Now().After(deadline) {
			break
		}
	}
	if notices != 1 || reminders != 0 || enforced != 1 {
		t.Errorf("the customer got %d notice(s), %d reminder(s), %d enforcement notice(s); want the notice before the outage and one message after it:\n%s",
			notices, reminders, enforced, strings.Join(d2.publicTo("ops@shop.example", nil), "\n"))
	}
	skipped := 0
	for _, e := range after.Timeline {
		if strings.Contains(e.Text, "not sent: its deadline") {
			skipped++
		}
	}
	if skipped != 2 {
		t.Errorf("%d reminders recorded as not sent, want 2", skipped)
	}
}
