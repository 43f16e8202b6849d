package activities_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"go.temporal.io/sdk/testsuite"

	"abusedesk/activities"
	"abusedesk/domain/abuse"
	"abusedesk/domain/fault"
	"abusedesk/domain/ticket"
	"abusedesk/templates"
	"abusedesk/testenv/memfake"
	"abusedesk/workflows"
)

// activityEnv registers acts (with the embedded templates) in a test activity environment.
func activityEnv(t *testing.T, acts *activities.Activities) *testsuite.TestActivityEnvironment {
	t.Helper()
	r, err := templates.New()
	if err != nil {
		t.Fatal(err)
	}
	acts.Templates = r
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	acts.Register(env)
	return env
}

// TestNotifyNeverPostsPubliclyOnALegalTicket: whatever a workflow asks, a legal matter's ticket
// gets no public comment (an email to its requester): the post is refused, and an ordinary
// case ticket still gets its notice.
func TestNotifyNeverPostsPubliclyOnALegalTicket(t *testing.T) {
	tickets := memfake.NewTickets()
	env := activityEnv(t, &activities.Activities{Tickets: tickets})
	data := workflows.NoticeData{CaseID: "case/acct-1/legal-request", CaseNumber: "TS-7F3K2QXM4B", Category: abuse.LegalRequest,
		CategoryTitle: abuse.LegalRequest.Title(), Account: abuse.Account{ID: "acct-1", Name: "Shop", ContactEmail: "ops@shop.example"},
		Action:  workflows.ActionView{Type: abuse.ActionSuspendAccount, Description: abuse.ActionSuspendAccount.Describe(0), ID: "act-1"},
		Reasons: workflows.StatementReasons{Ground: "our terms, section 2", OutOfCourt: "the settlement board", Judicial: "the courts", Detected: true}}
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
			Ticket: tk.Ref, Step: "enforced-1", Public: workflows.NoticeEnforced, Note: workflows.NoteEnforcement, Data: data})
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

// TestAuthorityNoticesOnlyToTheAuthority: the one public message a legal ticket takes is the
// authority's receipt or answer, addressed to an authority that is not the customer (not its
// contact, not its domain), in the request's language; a customer notice is refused however it
// is addressed.
func TestAuthorityNoticesOnlyToTheAuthority(t *testing.T) {
	tickets := memfake.NewTickets()
	env := activityEnv(t, &activities.Activities{Tickets: tickets})
	for i, tc := range []struct {
		kind, authority, locale string
		ok                      bool
		says                    string
	}{
		{workflows.NoticeLegalReceipt, "jane.roe@police.example", "fr", true, "accusons réception"},
		{workflows.NoticeLegalAnswer, "jane.roe@police.example", "", true, "Our answer to your request"},
		{workflows.NoticeLegalReceipt, "ops@shop.example", "", false, ""},
		{workflows.NoticeLegalReceipt, "someone@shop.example", "", false, ""},
		{workflows.NoticeLegalReceipt, "", "", false, ""},
		{workflows.NoticeEnforced, "jane.roe@police.example", "", false, ""},
	} {
		tk, err := tickets.CreateTicket(context.Background(), ticket.New{ExternalID: fmt.Sprint("legal-", i), Subject: "s", RequesterEmail: tc.authority,
			Comment: ticket.Comment{Body: "note"}, Tags: []string{ticket.TagCase, ticket.TagLegal}})
		if err != nil {
			t.Fatal(err)
		}
		data := workflows.NoticeData{CaseNumber: "TS-7F3K2QXM4B", Category: abuse.LegalRequest, Account: abuse.Account{ID: "acct-1", ContactEmail: "ops@shop.example", Locale: "de"},
			Authority: tc.authority, AuthorityLocale: tc.locale, Legal: &workflows.LegalState{Requests: 1}}
		_, err = env.ExecuteActivity(workflows.ActivityNotify, workflows.NotifyInput{Ticket: tk.Ref, Step: "x", Public: tc.kind, Data: data})
		got, _ := tickets.Get(tk.ID)
		var public []string
		for _, c := range got.Comments {
			if c.Public {
				public = append(public, c.Body)
			}
		}
		if tc.ok != (err == nil) || tc.ok != (len(public) == 1) || tc.ok && !strings.Contains(public[0], tc.says) {
			t.Errorf("%s to %q: %v, public %q; want posted %v saying %q", tc.kind, tc.authority, err, public, tc.ok, tc.says)
		}
	}
}

// TestResolveDeskTeam: the desk team is the agents of the desk's group and of the legal group,
// each named by their address; a read serves other cases for a while, and a fresh read asks
// the ticketing system again (someone may have joined).
func TestResolveDeskTeam(t *testing.T) {
	tickets := memfake.NewTickets()
	tickets.AddAgent(0, 1, "agent@desk.example")
	tickets.AddAgent(0, 2, "lead@desk.example")
	tickets.AddAgent(77, 2, "lead@desk.example")
	tickets.AddAgent(77, 3, "legal@desk.example")
	env := activityEnv(t, &activities.Activities{Tickets: tickets, LegalGroupID: 77})
	resolve := func(fresh bool) map[string]string {
		t.Helper()
		v, err := env.ExecuteActivity(workflows.ActivityResolveDeskTeam, workflows.ResolveDeskTeamInput{Fresh: fresh})
		if err != nil {
			t.Fatal(err)
		}
		var res workflows.ResolveDeskTeamResult
		if err := v.Get(&res); err != nil {
			t.Fatal(err)
		}
		return res.Agents
	}
	if got := resolve(false); len(got) != 3 || got["1"] != "agent@desk.example" || got["2"] != "lead@desk.example" || got["3"] != "legal@desk.example" {
		t.Errorf("team %v, want agents 1, 2 and 3 with their addresses", got)
	}
	reads := tickets.Calls("members")
	tickets.AddAgent(0, 4, "new@desk.example")
	if got := resolve(false); len(got) != 3 || tickets.Calls("members") != reads {
		t.Errorf("a second read within the cache's life: %v, %d group reads; want the cached team, no read", got, tickets.Calls("members")-reads)
	}
	if got := resolve(true); got["4"] != "new@desk.example" {
		t.Errorf("a fresh read: %v, want the agent who joined", got)
	}
	tickets.Fail("members", 1, &fault.Error{Kind: fault.Invalid, Service: "zendesk", Op: "list the members of group 0", Message: "no group is configured"})
	if _, err := env.ExecuteActivity(workflows.ActivityResolveDeskTeam, workflows.ResolveDeskTeamInput{Fresh: true}); err == nil || !strings.Contains(err.Error(), "no group is configured") {
		t.Errorf("an unreadable group: %v, want the reason", err)
	}
}

// TestNotifyRefusesAStatementOfReasonsWithAPartLeftOut: an enforcement notice whose statement
// of reasons would leave out a part (here the redress routes) is not posted; the case hears why.
func TestNotifyRefusesAStatementOfReasonsWithAPartLeftOut(t *testing.T) {
	tickets := memfake.NewTickets()
	env := activityEnv(t, &activities.Activities{Tickets: tickets})
	tk, err := tickets.CreateTicket(context.Background(), ticket.New{ExternalID: "x", Subject: "s", RequesterEmail: "ops@shop.example",
		Comment: ticket.Comment{Body: "note"}, Tags: []string{ticket.TagCase}})
	if err != nil {
		t.Fatal(err)
	}
	data := workflows.NoticeData{CaseID: "case/acct-1/spam", CaseNumber: "TS-7F3K2QXM4B", Category: abuse.Spam, CategoryTitle: abuse.Spam.Title(),
		Account: abuse.Account{ID: "acct-1", Name: "Shop", ContactEmail: "ops@shop.example", Locale: "de"},
		Action:  workflows.ActionView{Type: abuse.ActionThrottle, Level: 1, Description: abuse.ActionThrottle.Describe(1), ID: "act-1"},
		Reasons: workflows.StatementReasons{Ground: "our terms, section 2", Detected: true}}
	_, err = env.ExecuteActivity(workflows.ActivityNotify, workflows.NotifyInput{
		Ticket: tk.Ref, Step: "enforced-1", Public: workflows.NoticeEnforced, Note: workflows.NoteEnforcement, Data: data})
	got, _ := tickets.Get(tk.ID)
	for _, c := range got.Comments {
		if c.Public {
			t.Errorf("posted %q", c.Body)
		}
	}
	if err == nil || !strings.Contains(err.Error(), "enforced/default.de leaves out the other redress routes") {
		t.Errorf("error %v, want the German statement refused for its redress routes", err)
	}
}

// TestReachable: the desk writes to e-mail addresses, never to a name without one or to the
// reserved .invalid domain (an anonymous notifier of the notice form).
func TestReachable(t *testing.T) {
	for rep, want := range map[string]bool{"ana@example.org": true, "Ana@Example.ORG": true, "cert.example": false, "": false,
		"anonymous@notice-form.invalid": false, "x@host.INVALID ": false, "@example.org": false} {
		if got := activities.Reachable(rep); got != want {
			t.Errorf("Reachable(%q) = %v, want %v", rep, got, want)
		}
	}
}
