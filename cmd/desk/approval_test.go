package main

import (
	"strings"
	"testing"
	"time"

	"abusedesk/domain/approval"
	"abusedesk/workflows"
)

const approverPolicy = "  users: []\n  groups: []"

// TestApprovalClickOverHTTPReachesTheCase: a strategic account's case waits for a lead; a
// lead clicks Approve in (sandbox) Slack, the signed interaction reaches /slack/interactions,
// the case enforces, and the message then shows the decision without buttons. A second click
// is answered, not applied.
func TestApprovalClickOverHTTPReachesTheCase(t *testing.T) {
	t.Parallel()
	p := fastPolicy(t, t.TempDir(), map[string]string{approverPolicy: "  users: []\n  groups: [SLEADS]"})
	d := startDev(t, p)
	caseID := d.submitReports("acct-bank", "spam", "r1", "r2")
	v := d.waitStatus(caseID, workflows.StatusPendingApproval, 20*time.Second)
	ch, msg := d.approvalMessage(v.CaseNumber)

	var stranger struct{ OK bool }
	d.slackSandbox("POST", "click", map[string]string{"channel": ch, "ts": msg.TS, "action_id": "abusedesk_approve", "user": "UAGENT1"}, &stranger)
	if st := d.waitStatus(caseID, workflows.StatusPendingApproval, 2*time.Second); st.Status != workflows.StatusPendingApproval {
		t.Fatal("a non-approver's click moved the case")
	}
	d.slackSandbox("POST", "click", map[string]string{"channel": ch, "ts": msg.TS, "action_id": "abusedesk_approve", "user": "ULEAD1"}, nil)
	enforced := d.waitStatus(caseID, workflows.StatusEnforced, 20*time.Second)
	if enforced.Enforcement == nil || enforced.Enforcement.ApprovedBy != "ULEAD1" || enforced.Enforcement.ApprovedByEmail != "lee.lead@desk.example" {
		t.Errorf("enforcement %+v, want approved by ULEAD1 (lee.lead@desk.example)", enforced.Enforcement)
	}
	// The message shows the decision, without buttons.
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, m := d.approvalMessage(v.CaseNumber)
		if !strings.Contains(string(m.Blocks), "abusedesk_approve") && strings.Contains(string(m.Blocks), "Approved by Lee Lead") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the approval message was not updated: %s", m.Blocks)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestApprovalDenyOverSocketMode: the same through Socket Mode (no public endpoint): Deny opens
// the reason dialog, the submitted reason reaches the case, which goes back to review.
func TestApprovalDenyOverSocketMode(t *testing.T) {
	t.Parallel()
	p := fastPolicy(t, t.TempDir(), map[string]string{approverPolicy: "  users: []\n  groups: [SLEADS]"})
	d := startDev(t, p, "--sandbox-slack", "socket")
	if d.sandbox["slack"]["socket_mode"] != true {
		t.Fatalf("sandbox Slack not in socket mode: %v", d.sandbox["slack"])
	}
	caseID := d.submitReports("acct-bank", "spam", "s1")
	v := d.waitStatus(caseID, workflows.StatusPendingApproval, 20*time.Second)
	ch, msg := d.approvalMessage(v.CaseNumber)
	d.slackSandbox("POST", "click", map[string]string{"channel": ch, "ts": msg.TS, "action_id": "abusedesk_deny", "user": "ULEAD2"}, nil)
	views := d.views()
	if len(views) != 1 || views[0].User != "ULEAD2" {
		t.Fatalf("deny dialog not opened over Socket Mode: %+v", views)
	}
	d.slackSandbox("POST", "submit", map[string]any{"view_id": views[0].ID, "values": map[string]map[string]string{"reason": {"reason_input": "customer is a partner, call them first"}}}, nil)
	review := d.waitStatus(caseID, workflows.StatusUnderReview, 20*time.Second)
	if review.Approval == nil || review.Approval.Decision != approval.Deny || review.Approval.Reason != "customer is a partner, call them first" || review.Approval.DecidedBy != "ULEAD2" {
		t.Errorf("approval %+v", review.Approval)
	}
	if review.Enforcement != nil {
		t.Error("enforced after a denial")
	}
}
