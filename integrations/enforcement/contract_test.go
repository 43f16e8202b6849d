package enforcement_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// contract holds openapi.yaml and checks every exchange between the client and the reference
// server against it: the client's requests (parameters, headers, bodies) and the server's
// answers (status, content type, body), so that neither drifts from the document the other
// side was written to.
type contract struct {
	router routers.Router

	mu     sync.Mutex
	broken []string
}

func loadContract(t *testing.T) *contract {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile("openapi.yaml")
	if err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("openapi.yaml is not a valid OpenAPI document: %v", err)
	}
	// The routes are matched by path whatever the test server's address.
	doc.Servers = nil
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return &contract{router: router}
}

// check wraps h: each request and its answer are validated, and what breaks the contract is
// kept for verify.
func (c *contract) check(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		route, params, err := c.router.FindRoute(r)
		if err != nil {
			c.fail("%s %s: no such operation in openapi.yaml: %v", r.Method, r.URL.Path, err)
			h.ServeHTTP(w, r)
			return
		}
		in := &openapi3filter.RequestValidationInput{Request: r.Clone(r.Context()), PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true}}
		in.Request.Body = io.NopCloser(bytes.NewReader(body))
		// A request the server must refuse (a test sends it on purpose) is not the client's
		// fault; one the server accepts must be valid.
		reqErr := openapi3filter.ValidateRequest(context.Background(), in)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if reqErr != nil && rec.Code < 400 {
			c.fail("%s %s: the server accepted (HTTP %d) a request that breaks the contract: %v", r.Method, r.URL, rec.Code, reqErr)
		}
		out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: rec.Code, Header: rec.Header(),
			Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}}
		out.SetBodyBytes(rec.Body.Bytes())
		if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
			c.fail("%s %s: HTTP %d breaks the contract: %v\n%s", r.Method, r.URL, rec.Code, err, strings.TrimSpace(rec.Body.String()))
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	})
}

func (c *contract) fail(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.broken = append(c.broken, fmt.Sprintf(format, args...))
}

// verify fails t for each exchange that broke the contract.
func (c *contract) verify(t *testing.T) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, b := range c.broken {
		t.Error(b)
	}
}

// TestContractCatchesDrift: the check itself fails an answer that breaks the document (a
// field of the wrong type, a status it does not list) and passes one that keeps it.
func TestContractCatchesDrift(t *testing.T) {
	c := loadContract(t)
	answer := func(status int, body string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = io.WriteString(w, body)
		})
	}
	for _, tc := range []struct {
		name   string
		status int
		body   string
		broken bool
	}{
		{"as documented", 200, `{"account_id":"a","matched":{"kind":"ip","value":"192.0.2.0/24"}}`, false},
		{"a kind the enum lacks", 200, `{"account_id":"a","matched":{"kind":"asn","value":"1"}}`, true},
		{"a required field missing", 200, `{"matched":{"kind":"ip","value":"x"}}`, true},
		{"a status not listed", 418, `{}`, true},
	} {
		c.broken = nil
		srv := httptest.NewServer(c.check(answer(tc.status, tc.body)))
		resp, err := http.Get(srv.URL + "/v1/lookup?ip=192.0.2.1")
		if err == nil {
			resp.Body.Close()
		}
		srv.Close()
		if got := len(c.broken) > 0; got != tc.broken {
			t.Errorf("%s: broken %v (%q), want %v", tc.name, got, c.broken, tc.broken)
		}
	}
}
