package dashboard

import (
	"abusedesk/app/intake"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestFilterQuery(t *testing.T) {
	for _, tc := range []struct {
		f    filter
		want string
	}{
		{filter{}, "ExecutionStatus = 'Running'"},
		{filter{State: "closed"}, "ExecutionStatus != 'Running'"},
		{filter{State: "all"}, ""},
		{filter{Status: "enforced", Category: "spam"}, "ExecutionStatus = 'Running' AND AbuseStatus = 'enforced' AND AbuseCategory = 'spam'"},
		// A quote in what someone typed stays inside the string.
		{filter{State: "all", Account: "x' OR AbuseStatus != '"}, `AbuseAccount = 'x\' OR AbuseStatus != \''`},
	} {
		if got := tc.f.query(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.f, got, tc.want)
		}
	}
}

// TestReportersPage: the page lists each reporter's counts and marks a drifting one.
func TestReportersPage(t *testing.T) {
	d, err := New(Options{Reporters: func() []intake.ReporterHealth {
		return []intake.ReporterHealth{
			{Reporter: "cert.example", Parsed: 12, Unparseable: 3, FailStreak: 3, Drifting: true, LastSeen: time.Now(), LastFailed: time.Now(), LastError: "no report format recognised"},
			{Reporter: "fbl.example", Parsed: 40, LastSeen: time.Now(), LastFormat: "arf"},
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	rec := get(d, "/reporters")
	body := rec.Body.String()
	if rec.Code != http.StatusOK {
		t.Fatalf("HTTP %d: %s", rec.Code, body)
	}
	for _, want := range []string{"cert.example", `class="drifting"`, "3 in a row", "no report format recognised", "fbl.example", "<td>40</td>", "arf"} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
}

// get serves a GET of path through the dashboard's routes.
func get(d *Dashboard, path string) *httptest.ResponseRecorder {
	return serve(d, httptest.NewRequest(http.MethodGet, path, nil))
}

// serve serves a request through the dashboard's routes.
func serve(d *Dashboard, r *http.Request) *httptest.ResponseRecorder {
	mux := http.NewServeMux()
	d.Routes(func(p string, h http.Handler) { mux.Handle(p, h) })
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, r)
	return rec
}

// TestFlashOnlyFromTheDesk: a message in a link from elsewhere is not shown; the message of
// the desk's own redirect is, once, and a refusal shows as one.
func TestFlashOnlyFromTheDesk(t *testing.T) {
	d, err := New(Options{Reporters: func() []intake.ReporterHealth { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	forged := "Refused: your session expired, sign in again at https://evil.example"
	for _, path := range []string{
		"/reporters?flash=" + url.QueryEscape(forged),
		"/reporters?flash=" + url.QueryEscape(forged) + "&fs=AAAA",
	} {
		if body := get(d, path).Body.String(); strings.Contains(body, "evil.example") {
			t.Errorf("%s shows text the desk never wrote", path)
		}
	}
	rec := httptest.NewRecorder()
	Refused(rec, httptest.NewRequest(http.MethodPost, "/qa/1", nil), "/reporters", "you may not review your own decision")
	loc := rec.Header().Get("Location")
	if !strings.HasPrefix(loc, "/reporters?") {
		t.Fatalf("redirect to %q", loc)
	}
	body := get(d, loc).Body.String()
	if !strings.Contains(body, `id="refused"`) || !strings.Contains(body, "you may not review your own decision") {
		t.Errorf("the desk's own refusal is not shown at %s", loc)
	}
	u, _ := url.Parse(loc)
	q := u.Query()
	q.Set("flash", "Refused: something else")
	if body := get(d, "/reporters?"+q.Encode()).Body.String(); strings.Contains(body, "something else") {
		t.Error("a message with another message's signature is shown")
	}
}

// TestOwnedBy: the queue's owner filter keeps an agent's cases, or nobody's (with the desk's
// own loose ends), or everything.
func TestOwnedBy(t *testing.T) {
	items := []QueueItem{{CaseNumber: "TS-1", AssigneeID: "7"}, {CaseNumber: "TS-2"}, {CaseNumber: "TS-3", AssigneeID: "8"}, {WaitingOn: "an operator"}}
	numbers := func(list []QueueItem) (out []string) {
		for _, it := range list {
			out = append(out, it.CaseNumber+"|"+it.WaitingOn)
		}
		return out
	}
	for owner, want := range map[string][]string{"": {"TS-1|", "TS-2|", "TS-3|", "|an operator"}, "7": {"TS-1|"}, "none": {"TS-2|", "|an operator"}, "9": nil} {
		if got := numbers(ownedBy(items, owner)); !slices.Equal(got, want) {
			t.Errorf("owner %q: %q, want %q", owner, got, want)
		}
	}
	if len(items) != 4 || items[1].CaseNumber != "TS-2" {
		t.Errorf("the filter changed the queue it was given: %+v", items)
	}
}

// TestSafeBack: a form's way back stays on the dashboard.
func TestSafeBack(t *testing.T) {
	for in, want := range map[string]string{"/queue?owner=me": "/queue?owner=me", "//evil.example/": "", "https://evil.example/": "", "/\\evil": "", "queue": "", "/q\r\nX: y": ""} {
		if got := safeBack(in); got != want {
			t.Errorf("safeBack(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestAgentNamesReadOnce: the queue names owners on every refresh; the team is read at most
// once a minute, and each agent's name once, not on every read of the team.
func TestAgentNamesReadOnce(t *testing.T) {
	teamReads, nameReads := 0, 0
	d, err := New(Options{Act: &Act{
		Team: func(context.Context) (map[string]string, error) {
			teamReads++
			return map[string]string{"7": "Alex@Desk.example", "8": "rita@desk.example"}, nil
		},
		Name: func(_ context.Context, id string) (string, error) {
			nameReads++
			return map[string]string{"7": "Alex Agent", "8": "Rita Reviewer"}[id], nil
		},
	}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for range 3 {
		d.teamCache.at = time.Time{} // the minute passed
		if name, email := d.person(ctx, "7"); name != "Alex Agent" || email != "alex@desk.example" {
			t.Errorf("agent 7 is %q <%q>", name, email)
		}
	}
	if name, email := d.person(ctx, "9"); name != "" || email != "" {
		t.Errorf("someone not on the team is %q <%q>", name, email)
	}
	if teamReads != 3 || nameReads != 2 {
		t.Errorf("%d reads of the team, %d of names; want 3 (one a minute) and 2 (one per agent)", teamReads, nameReads)
	}
	if got := d.agents(ctx); len(got) != 2 || got[0].Label() != "Alex Agent" || got[1].Label() != "Rita Reviewer" {
		t.Errorf("the agents to assign: %+v", got)
	}
}
