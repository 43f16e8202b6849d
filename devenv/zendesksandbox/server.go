package zendesksandbox

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"abusedesk/devenv/faults"
)

// Server is the fake Zendesk account. Make it with New.
type Server struct {
	// APIToken authenticates "email/token" basic auth for any user of the account.
	APIToken string
	// FilesDir, when set, keeps attachments' bytes there, one file each, instead of in memory
	// (and in the saved state): a desk dev taking many large reports stays within its memory.
	FilesDir string
	// Now is the clock; default time.Now.
	Now func() time.Time
	// RateLimit is requests per minute before 429 (0: no limit).
	RateLimit int
	// WebhookClient delivers webhook notifications; default a 10 s client.
	WebhookClient *http.Client
	// ExportLag is how recent a change the incremental export leaves out, as Zendesk does
	// (default a minute; negative: none).
	ExportLag time.Duration

	mu          sync.Mutex
	base        string
	nextID      int64
	users       map[int64]*User
	tickets     map[int64]*Ticket
	comments    map[int64][]*Comment
	fields      []*TicketField
	macros      []*Macro
	triggers    []*Trigger
	webhooks    []*Webhook
	uploads     map[string]*Upload
	attachments map[int64]*Attachment
	groups      []map[string]any
	memberships map[int64][]int64 // group → its agents' user IDs
	audits      map[int64][]*Audit
	deliveries  []Delivery
	faults      faults.Queue
	window      time.Time
	inWindow    int
	requests    int
	pending     sync.WaitGroup
	seq         int64
	seqOf       map[int64]int64
}

// Seeded groups: case tickets go to the abuse group, reports sent to the desk arrive in the
// intake group, legal-track tickets go to the restricted legal group and customers asking for
// help to support.
const (
	GroupAbuse   = 360000001
	GroupIntake  = 360000002
	GroupLegal   = 360000003
	GroupSupport = 360000004
)

// New makes an account with an admin (the bot) and the given agents.
func New(apiToken, botEmail string, agents ...string) *Server {
	s := &Server{
		APIToken: apiToken, Now: time.Now, nextID: 1000,
		users: map[int64]*User{}, tickets: map[int64]*Ticket{}, comments: map[int64][]*Comment{},
		uploads: map[string]*Upload{}, attachments: map[int64]*Attachment{}, seqOf: map[int64]int64{},
		memberships: map[int64][]int64{},
		groups: []map[string]any{
			{"id": GroupAbuse, "name": "Abuse", "default": false, "deleted": false},
			{"id": GroupIntake, "name": "Abuse intake", "default": false, "deleted": false},
			{"id": GroupLegal, "name": "Legal (restricted)", "default": false, "deleted": false},
			{"id": GroupSupport, "name": "Support", "default": false, "deleted": false},
		},
	}
	s.addUser(botEmail, "abusedesk bot", "admin")
	for _, a := range agents {
		name, _, _ := strings.Cut(a, "@")
		s.addUser(a, name, "agent")
	}
	return s
}

// SetBaseURL tells the fake the URL it is served at (for url fields and attachment links).
func (s *Server) SetBaseURL(u string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.base = strings.TrimRight(u, "/")
}

func (s *Server) id() int64 { s.nextID++; return s.nextID }

func (s *Server) now() time.Time { return s.Now().UTC().Truncate(time.Second) }

func (s *Server) addUser(email, name, role string) *User {
	now := s.now()
	u := &User{ID: s.id(), Name: name, Email: strings.ToLower(email), Role: role, Active: true, Locale: "en-US", CreatedAt: now, UpdatedAt: now}
	u.URL = fmt.Sprintf("%s/api/v2/users/%d.json", s.base, u.ID)
	s.users[u.ID] = u
	return u
}

func (s *Server) userByEmail(email string) *User {
	email = strings.ToLower(strings.TrimSpace(email))
	for _, u := range s.users {
		if u.Email == email {
			return u
		}
	}
	return nil
}

// AddAgent adds an agent user (if there is none with this email) and makes it a member of the
// groups given.
func (s *Server) AddAgent(email, name string, groups ...int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.userByEmail(email)
	if u == nil {
		u = s.addUser(email, name, "agent")
	}
	for _, g := range groups {
		if !slices.Contains(s.memberships[g], u.ID) {
			s.memberships[g] = append(s.memberships[g], u.ID)
		}
	}
}

// Inject makes the next n requests whose path starts with prefix answer status (with
// Retry-After when retryAfter is set).
func (s *Server) Inject(prefix string, status int, retryAfter string, n int) {
	s.faults.Add(faults.Fault{Prefix: prefix, Status: status, RetryAfter: retryAfter}, n)
}

// InjectDelay makes the next n requests under prefix wait d.
func (s *Server) InjectDelay(prefix string, d time.Duration, n int) {
	s.faults.Add(faults.Fault{Prefix: prefix, Delay: d}, n)
}

// Requests counts API requests served.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// Flush waits for webhook deliveries under way.
func (s *Server) Flush() { s.pending.Wait() }

// Handler serves the API, attachment downloads and end-user requests.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v2/users/me.json", s.me)
	mux.HandleFunc("GET /api/v2/users/{id}", s.getUser)
	mux.HandleFunc("GET /api/v2/users/search.json", s.searchUsers)
	mux.HandleFunc("GET /api/v2/groups.json", s.listGroups)
	mux.HandleFunc("GET /api/v2/groups/{id}/memberships.json", s.listMemberships)
	mux.HandleFunc("GET /api/v2/tickets.json", s.listTickets)
	mux.HandleFunc("POST /api/v2/tickets.json", s.createTicket)
	mux.HandleFunc("GET /api/v2/tickets/{id}", s.getTicket)
	mux.HandleFunc("PUT /api/v2/tickets/{id}", s.updateTicket)
	mux.HandleFunc("GET /api/v2/tickets/{id}/comments.json", s.listComments)
	mux.HandleFunc("GET /api/v2/tickets/{id}/audits.json", s.listAudits)
	mux.HandleFunc("PUT /api/v2/tickets/{id}/comments/{cid}/redact.json", s.redactComment)
	mux.HandleFunc("PUT /api/v2/tickets/{id}/comments/{cid}/attachments/{aid}/redact.json", s.redactAttachment)
	mux.HandleFunc("GET /api/v2/tickets/{id}/macros/{mid}/apply.json", s.applyMacro)
	mux.HandleFunc("POST /api/v2/uploads.json", s.upload)
	mux.HandleFunc("GET /api/v2/attachments/{id}", s.getAttachment)
	mux.HandleFunc("GET /api/v2/ticket_fields.json", s.listFields)
	mux.HandleFunc("POST /api/v2/ticket_fields.json", s.createField)
	mux.HandleFunc("PUT /api/v2/ticket_fields/{id}", s.updateField)
	mux.HandleFunc("GET /api/v2/macros.json", s.listMacros)
	mux.HandleFunc("POST /api/v2/macros.json", s.createMacro)
	mux.HandleFunc("GET /api/v2/macros/{id}", s.getMacro)
	mux.HandleFunc("PUT /api/v2/macros/{id}", s.updateMacro)
	mux.HandleFunc("GET /api/v2/triggers.json", s.listTriggers)
	mux.HandleFunc("POST /api/v2/triggers.json", s.createTrigger)
	mux.HandleFunc("GET /api/v2/triggers/{id}", s.getTrigger)
	mux.HandleFunc("PUT /api/v2/triggers/{id}", s.updateTrigger)
	mux.HandleFunc("GET /api/v2/webhooks", s.listWebhooks)
	mux.HandleFunc("POST /api/v2/webhooks", s.createWebhook)
	mux.HandleFunc("GET /api/v2/webhooks/{id}", s.getWebhook)
	mux.HandleFunc("PUT /api/v2/webhooks/{id}", s.updateWebhook)
	mux.HandleFunc("GET /api/v2/webhooks/{id}/signing_secret", s.signingSecret)
	mux.HandleFunc("POST /api/v2/requests.json", s.createRequest)
	mux.HandleFunc("PUT /api/v2/requests/{id}", s.commentRequest)
	mux.HandleFunc("GET /api/v2/incremental/tickets/cursor.json", s.incrementalTickets)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/attachments/token/") {
			s.attachmentContent(w, r)
			return
		}
		if r.URL.Path == "/agent/tickets" || r.URL.Path == "/agent/tickets/" || r.URL.Path == "/agent" {
			s.agentTickets(w, r)
			return
		}
		if strings.HasPrefix(r.URL.Path, "/agent/tickets/") {
			r.SetPathValue("id", strings.TrimPrefix(r.URL.Path, "/agent/tickets/"))
			s.agentTicket(w, r)
			return
		}
		s.mu.Lock()
		if s.base == "" {
			scheme := "http"
			if r.TLS != nil {
				scheme = "https"
			}
			s.base = scheme + "://" + r.Host
		}
		s.requests++
		limited, wait := s.rateLimited()
		s.mu.Unlock()
		if !s.faults.Serve(w, r, func(w http.ResponseWriter, status int) {
			writeError(w, status, "InjectedFailure", http.StatusText(status))
		}) {
			return
		}
		if limited {
			w.Header().Set("Retry-After", strconv.Itoa(wait))
			writeError(w, http.StatusTooManyRequests, "TooManyRequests", "Rate limit exceeded")
			return
		}
		if s.authenticate(r) == nil {
			w.Header().Set("WWW-Authenticate", `Basic realm="Web Password"`)
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "Couldn't authenticate you"})
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// rateLimited counts the request in the current minute window.
func (s *Server) rateLimited() (bool, int) {
	if s.RateLimit <= 0 {
		return false, 0
	}
	now := s.Now()
	if now.Sub(s.window) >= time.Minute {
		s.window, s.inWindow = now, 0
	}
	s.inWindow++
	if s.inWindow > s.RateLimit {
		return true, int(time.Minute-now.Sub(s.window))/int(time.Second) + 1
	}
	return false, 0
}

// authenticate accepts "email/token:APITOKEN" basic auth for any user, or a bearer token
// equal to the API token (the admin).
func (s *Server) authenticate(r *http.Request) *User {
	s.mu.Lock()
	defer s.mu.Unlock()
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
		if strings.TrimPrefix(h, "Bearer ") == s.APIToken {
			for _, u := range s.sortedUsers() {
				if u.Role == "admin" {
					return u
				}
			}
		}
		return nil
	}
	user, pass, ok := r.BasicAuth()
	email, isToken := strings.CutSuffix(user, "/token")
	if !ok || !isToken || pass != s.APIToken {
		return nil
	}
	return s.userByEmail(email)
}

func (s *Server) sortedUsers() []*User {
	out := make([]*User, 0, len(s.users))
	for _, u := range s.users {
		out = append(out, u)
	}
	slices.SortFunc(out, func(a, b *User) int { return int(a.ID - b.ID) })
	return out
}

func (s *Server) current(r *http.Request) *User { return s.authenticate(r) }

func pathID(r *http.Request, name string) (int64, bool) {
	v := strings.TrimSuffix(r.PathValue(name), ".json")
	id, err := strconv.ParseInt(v, 10, 64)
	return id, err == nil
}

// ---- users and groups ----------------------------------------------------------------------

func (s *Server) me(w http.ResponseWriter, r *http.Request) {
	u := s.current(r)
	writeJSON(w, http.StatusOK, map[string]any{"user": u})
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[id]
	if !ok || u == nil {
		notFound(w)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"user": u})
}

func (s *Server) searchUsers(w http.ResponseWriter, r *http.Request) {
	q := strings.TrimPrefix(r.URL.Query().Get("query"), "email:")
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []*User{}
	if u := s.userByEmail(q); u != nil {
		out = append(out, u)
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": out, "next_page": nil, "previous_page": nil, "count": len(out)})
}

func (s *Server) listGroups(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"groups": s.groups, "next_page": nil, "previous_page": nil, "count": len(s.groups)})
}

// listMemberships answers GET /api/v2/groups/{id}/memberships.json: the group's agents, one
// page (the sandbox's groups are small).
func (s *Server) listMemberships(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	s.mu.Lock()
	defer s.mu.Unlock()
	known := slices.ContainsFunc(s.groups, func(g map[string]any) bool { return fmt.Sprint(g["id"]) == strconv.FormatInt(id, 10) })
	if !ok || !known {
		notFound(w)
		return
	}
	out := []map[string]any{}
	for _, uid := range s.memberships[id] {
		out = append(out, map[string]any{"id": id*1000 + uid, "user_id": uid, "group_id": id, "default": false,
			"url": fmt.Sprintf("%s/api/v2/group_memberships/%d.json", s.base, id*1000+uid)})
	}
	writeJSON(w, http.StatusOK, map[string]any{"group_memberships": out, "next_page": nil, "previous_page": nil, "count": len(out)})
}

// ---- uploads and attachments ---------------------------------------------------------------

func (s *Server) upload(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("filename")
	if name == "" {
		writeError(w, http.StatusBadRequest, "InvalidValue", "filename is required")
		return
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, 50<<20+1))
	if err != nil || len(data) > 50<<20 {
		writeError(w, http.StatusRequestEntityTooLarge, "FileTooLarge", "uploads are limited to 50 MB")
		return
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		ct = "application/octet-stream"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tok := r.URL.Query().Get("token")
	up := s.uploads[tok]
	if up == nil {
		tok = randomToken()
		up = &Upload{Token: tok, ExpiresAt: s.now().Add(60 * time.Minute)}
		s.uploads[tok] = up
	}
	a := &Attachment{ID: s.id(), FileName: name, ContentType: ct, Size: len(data), data: data}
	if s.FilesDir != "" {
		err := os.MkdirAll(s.FilesDir, 0o755)
		if err == nil {
			err = os.WriteFile(s.file(a.ID), data, 0o644) // was lost: a failed write still answered 201
		}
		if err != nil {
			writeError(w, http.StatusInternalServerError, "InternalError", "the upload could not be stored: "+err.Error())
			return
		}
		a.data = nil
	}
	a.URL = fmt.Sprintf("%s/api/v2/attachments/%d.json", s.base, a.ID)
	a.ContentURL = fmt.Sprintf("%s/attachments/token/%s/?name=%s", s.base, tok+strconv.FormatInt(a.ID, 36), url.QueryEscape(name))
	s.attachments[a.ID] = a
	up.Attachments = append(up.Attachments, a)
	up.Attachment = a
	writeJSON(w, http.StatusCreated, map[string]any{"upload": up})
}

func (s *Server) getAttachment(w http.ResponseWriter, r *http.Request) {
	id, _ := pathID(r, "id")
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.attachments[id]
	if a == nil {
		notFound(w)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"attachment": a})
}

func (s *Server) attachmentContent(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	var found *Attachment
	for _, a := range s.attachments {
		if strings.HasPrefix(r.URL.Path, "/attachments/token/") && strings.Contains(a.ContentURL, r.URL.Path) {
			found = a
			break
		}
	}
	var data []byte
	if found != nil {
		data = found.data
	}
	s.mu.Unlock()
	if found == nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", found.ContentType)
	if data != nil {
		_, _ = w.Write(data)
		return
	}
	f, err := os.Open(s.file(found.ID))
	if err != nil {
		http.Error(w, "the attachment's file is gone: "+err.Error(), http.StatusInternalServerError)
		return
	}
	defer f.Close()
	_, _ = io.Copy(w, f)
}

// file is where an attachment's bytes are kept on disk.
func (s *Server) file(id int64) string {
	return filepath.Join(s.FilesDir, strconv.FormatInt(id, 10))
}

// AttachmentData returns the bytes of an attachment.
func (s *Server) AttachmentData(id int64) ([]byte, bool) {
	s.mu.Lock()
	a := s.attachments[id]
	var data []byte
	if a != nil {
		data = slices.Clone(a.data)
	}
	s.mu.Unlock()
	if a == nil {
		return nil, false
	}
	if data == nil && s.FilesDir != "" {
		b, err := os.ReadFile(s.file(id))
		return b, err == nil
	}
	return data, true
}

func randomToken() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ---- helpers ---------------------------------------------------------------------------------

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers in Zendesk's error shape: {"error": "...", "description": "..."}.
func writeError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]any{"error": code, "description": desc})
}

// writeInvalid answers 422 with Zendesk's RecordInvalid shape.
func writeInvalid(w http.ResponseWriter, field, desc string) {
	writeJSON(w, http.StatusUnprocessableEntity, map[string]any{
		"error":       "RecordInvalid",
		"description": "Record validation errors",
		"details":     map[string]any{field: []map[string]string{{"description": desc, "error": "InvalidValue"}}},
	})
}

// writePage answers a list call with one page of all under key, with next/previous URLs and
// the count, as Zendesk's offset pagination (?page=&per_page=) does.
func writePage[T any](w http.ResponseWriter, r *http.Request, base, key string, all []T) {
	items, next, prev := page(r, base, all)
	if items == nil {
		items = []T{}
	}
	writeJSON(w, http.StatusOK, map[string]any{key: items, "next_page": next, "previous_page": prev, "count": len(all)})
}

// page slices items for offset pagination (?page=&per_page=) and returns next/previous URLs.
func page[T any](r *http.Request, base string, items []T) ([]T, any, any) {
	per, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
	if per <= 0 || per > 100 {
		per = 100
	}
	p, _ := strconv.Atoi(r.URL.Query().Get("page"))
	if p <= 0 {
		p = 1
	}
	start := min((p-1)*per, len(items))
	end := min(start+per, len(items))
	link := func(n int) string {
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(n))
		q.Set("per_page", strconv.Itoa(per))
		return base + r.URL.Path + "?" + q.Encode()
	}
	var next, prev any
	if end < len(items) {
		next = link(p + 1)
	}
	if p > 1 {
		prev = link(p - 1)
	}
	return items[start:end], next, prev
}

// decode reads the JSON body into v, or answers 400 as Zendesk does and returns false.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(io.LimitReader(r.Body, 10<<20)).Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "InvalidJSON", err.Error())
		return false
	}
	return true
}

// notFound answers 404 as Zendesk does.
func notFound(w http.ResponseWriter) {
	writeError(w, http.StatusNotFound, "RecordNotFound", "Not found")
}

// sign computes Zendesk's webhook signature: base64(HMAC-SHA256(secret, timestamp+body)).
func signature(secret, timestamp string, body []byte) string {
	return base64.StdEncoding.EncodeToString(hmacSHA256([]byte(secret), append([]byte(timestamp), body...)))
}
