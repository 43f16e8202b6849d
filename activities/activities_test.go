package activities_test

import (
	"context"
	"strings"
	"testing"

	"go.temporal.io/sdk/testsuite"

	"abusedesk/activities"
	"abusedesk/internal/abuse"
	"abusedesk/internal/ticket"
	"abusedesk/templates"
	"abusedesk/testenv/memfake"
	"abusedesk/workflows"
)

// TestNotifyNeverPostsPubliclyOnALegalTicket: whatever a workflow asks, a legal matter's ticket
// gets no public comment (an email to its requester): the post is refused, and an ordinary
// case ticket still gets its notice.
func TestNotifyNeverPostsPubliclyOnALegalTicket(t *testing.T) {
	r, err := templates.New()
	if err != nil {
		t.Fatal(err)
	}
	tickets := memfake.NewTickets()
	acts := &activities.Activities{Tickets: tickets, Templates: r}
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	acts.Register(env)
	data := workflows.NoticeData{CaseID: "case/acct-1/legal-request", CaseNumber: "TS-7F3K2QXM4B", Category: abuse.LegalRequest,
		CategoryTitle: abuse.LegalRequest.Title(), Account: abuse.Account{ID: "acct-1", Name: "Shop", ContactEmail: "ops@shop.example"}}
	for _, tc := range []struct {
		tag    string
		public bool
	}{{ticket.TagLegal, false}, {ticket.TagCase, true}} {
		tk, err := tickets.CreateTicket(context.Background(), ticket.New{ExternalID: tc.tag, Subject: "s", RequesterEmail: "officer@police.example",
			Comment: ticket.Comment{Body: "note"}, Tags: []string{ticket.TagCase, tc.tag}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = env.ExecuteActivity(workflows.ActivityNotify, workflows.NotifyInput{
			Ticket: workflows.TicketRef{ID: tk.ID}, Step: "enforced-1", Public: workflows.NoticeEnforced, Note: workflows.NoteEnforcement, Data: data})
		got, _ := tickets.Get(tk.ID)
		public := 0
		for _, c := range got.Comments {
			if c.Public {
				public++
			}
		}
		if tc.public {
			if err != nil || public != 1 {
				t.Errorf("an ordinary case ticket: %v, %d public comments; want the notice", err, public)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), "never gets a public comment") || public != 0 {
			t.Errorf("a legal ticket: %v, %d public comments; want refused, none", err, public)
		}
	}
}
