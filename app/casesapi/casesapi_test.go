package casesapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"abusedesk/app/ledger"
)

func serve(a *API, r *http.Request) *httptest.ResponseRecorder {
	mux := http.NewServeMux()
	a.Routes(func(p string, h http.Handler) { mux.Handle(p, h) })
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	return w
}

// TestAuthAndBadParameters: the API token, or whatever the dashboard's guard lets in, lets a
// client in, nothing else does; a bad parameter is a 400 naming it, before any case is read.
func TestAuthAndBadParameters(t *testing.T) {
	// The dashboard's guard, as a password-protected dashboard has it.
	dashboard := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if _, pass, ok := r.BasicAuth(); !ok || pass != "pw" {
				http.Error(w, "password", http.StatusUnauthorized)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	a := &API{Token: "tok", Dashboard: dashboard}
	for name, set := range map[string]func(*http.Request){
		"nothing":                 func(*http.Request) {},
		"a wrong token":           func(r *http.Request) { r.Header.Set("Authorization", "Bearer nope") },
		"a wrong password":        func(r *http.Request) { r.SetBasicAuth("x", "nope") },
		"the token as a password": func(r *http.Request) { r.SetBasicAuth("x", "tok") },
	} {
		r := httptest.NewRequest(http.MethodGet, "/api/v1/cases", nil)
		set(r)
		if w := serve(a, r); w.Code != http.StatusUnauthorized {
			t.Errorf("%s: HTTP %d, want 401", name, w.Code)
		}
	}
	for q, want := range map[string]string{
		"state=maybe":   `state \"maybe\"`,
		"status=happy":  `status \"happy\"`,
		"category=fish": `category \"fish\"`,
		"track=fast":    `track \"fast\"`,
		"limit=0":       `limit \"0\"`,
		"cursor=%21%21": "cursor",
	} {
		r := httptest.NewRequest(http.MethodGet, "/api/v1/cases?"+q, nil)
		r.Header.Set("Authorization", "Bearer tok")
		if w := serve(a, r); w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), want) {
			t.Errorf("?%s: HTTP %d %s, want 400 naming %s", q, w.Code, w.Body, want)
		}
	}
}

type fakeSearch struct{ numbers []string }

func (f fakeSearch) Search(context.Context, string, int) ([]string, ledger.SearchKind, bool, error) {
	return f.numbers, ledger.SearchIP, false, nil
}

// TestQuery: legal cases are always left out; a search that finds nothing reads no cases; a
// search's case numbers become the query.
func TestQuery(t *testing.T) {
	a := &API{Search: fakeSearch{}}
	q, out, err := a.query(context.Background(), map[string][]string{"q": {"192.0.2.1"}})
	if err != nil || q != "" || out.Search != "ip" {
		t.Errorf("a search that finds nothing: %q %+v %v, want no query", q, out, err)
	}
	a.Search = fakeSearch{[]string{"TS-AAAAAAAAAA", "TS-BBBBBBBBBB"}}
	q, _, err = a.query(context.Background(), map[string][]string{"q": {"192.0.2.1"}, "state": {"all"}})
	if err != nil || !strings.Contains(q, "AbuseCaseNumber IN ('TS-AAAAAAAAAA', 'TS-BBBBBBBBBB')") || !strings.Contains(q, "AbuseCategory NOT IN ('legal-request', 'csam')") {
		t.Errorf("query %q (%v)", q, err)
	}
	q, out, _ = a.query(context.Background(), map[string][]string{"q": {"ts-aaaaaaaaaa"}})
	if out.Search != "case_number" || !strings.Contains(q, "AbuseCaseNumber = 'TS-AAAAAAAAAA'") {
		t.Errorf("a case number: %q %+v", q, out)
	}
}
