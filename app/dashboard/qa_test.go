package dashboard

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"abusedesk/app/ledger"
	"abusedesk/domain/abuse"
	"abusedesk/workflows"
)

// TestQualityReviewPage: a sampled enforcement waits on /qa; its approver's review is refused
// with the reason, shown as a refusal (HTTP 403) and not as a success; another person's review
// is recorded, counted, and the JSON answers the same; a second review is a 409.
func TestQualityReviewPage(t *testing.T) {
	ctx := context.Background()
	store := newLedger(t)
	store.SampleRate = func(abuse.Category) float64 { return 1 }
	now := time.Now().UTC().Truncate(time.Second)
	c := workflows.LedgerCase{Number: "TS-QA1", ID: "case/acct-7/phishing", Account: "acct-7", Category: abuse.Phishing, Track: abuse.TrackAbuse, OpenedAt: now.Add(-3 * time.Hour)}
	if err := store.Record(ctx, workflows.RecordEventsInput{Case: c, Events: []workflows.LedgerEvent{
		{Key: "1", At: c.OpenedAt, Kind: workflows.LedgerOpened},
		{Key: "2", At: now.Add(-time.Hour), Kind: workflows.LedgerEnforced, Decision: "suspend_sending", Actor: "lead1@desk.example"},
	}}); err != nil {
		t.Fatal(err)
	}
	var reviewed []ledger.QAItem
	d, err := New(Options{QA: &QA{Store: store, OnReview: func(it ledger.QAItem) { reviewed = append(reviewed, it) }}})
	if err != nil {
		t.Fatal(err)
	}
	page := get(d, "/qa")
	if page.Code != http.StatusOK || !strings.Contains(page.Body.String(), "TS-QA1") || !strings.Contains(page.Body.String(), "lead1@desk.example") {
		t.Fatalf("HTTP %d: the queue does not list the enforcement:\n%s", page.Code, page.Body)
	}
	post := func(form url.Values) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, "/qa/TS-QA1/2", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return serve(d, r)
	}
	self := post(url.Values{"reviewer": {"Lead1@desk.example"}, "verdict": {"agree"}})
	if self.Code != http.StatusForbidden || !strings.Contains(self.Body.String(), `id="refused"`) || !strings.Contains(self.Body.String(), "lead1@desk.example made this decision") || strings.Contains(self.Body.String(), "Review recorded") {
		t.Errorf("the decider's own review: HTTP %d, want 403 and the refusal shown:\n%s", self.Code, self.Body)
	}
	ok := post(url.Values{"reviewer": {"lead2@desk.example"}, "verdict": {"disagree"}, "note": {"the site was already down"}})
	if ok.Code != http.StatusSeeOther || !strings.Contains(ok.Header().Get("Location"), "Review+recorded") {
		t.Fatalf("a peer's review: HTTP %d, Location %q", ok.Code, ok.Header().Get("Location"))
	}
	if len(reviewed) != 1 || reviewed[0].Reviewer != "lead2@desk.example" || reviewed[0].Verdict != ledger.Disagree {
		t.Errorf("OnReview heard %+v", reviewed)
	}
	r := httptest.NewRequest(http.MethodPost, "/api/v1/qa/TS-QA1/2", strings.NewReader(`{"reviewer":"agent9@desk.example","verdict":"agree"}`))
	if again := serve(d, r); again.Code != http.StatusConflict || !strings.Contains(again.Body.String(), "disagree by lead2@desk.example") {
		t.Errorf("a second review: HTTP %d %s, want 409 naming the first", again.Code, again.Body)
	}
	js := get(d, "/api/v1/qa?reviewed=true")
	var got struct {
		Items     []ledger.QAItem
		Agreement ledger.QAFigures
	}
	if err := json.Unmarshal(js.Body.Bytes(), &got); err != nil || js.Code != http.StatusOK {
		t.Fatalf("JSON: HTTP %d %s: %v", js.Code, js.Body, err)
	}
	if len(got.Items) != 1 || got.Items[0].Note != "the site was already down" || got.Agreement.Total.Reviewed != 1 || got.Agreement.Total.AgreementRate != 0 {
		t.Errorf("JSON %+v", got)
	}
	if body := get(d, "/qa").Body.String(); !strings.Contains(body, "Nothing waits for review") || !strings.Contains(body, "verdict-disagree") {
		t.Errorf("after the review the page still lists it as waiting or lacks the verdict:\n%s", body)
	}
}
