// Package memfake has in-memory fakes of the interfaces the activities need (tickets,
// accounts, enforcement, approvals, evidence). Workflow tests run the real activities against
// them; each fake can be told to fail an operation a number of times to exercise retries.
package memfake

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"abusedesk/activities"
	"abusedesk/domain/abuse"
	"abusedesk/domain/approval"
	"abusedesk/domain/fault"
	"abusedesk/domain/ticket"
	"abusedesk/workflows"
)

var (
	_ activities.Tickets     = (*Tickets)(nil)
	_ activities.Accounts    = (*Accounts)(nil)
	_ activities.Enforcement = (*Enforcement)(nil)
	_ activities.Approvals   = (*Approvals)(nil)
	_ activities.Evidence    = (*Evidence)(nil)
)

// Faults makes named operations fail a number of times.
type Faults struct {
	mu    sync.Mutex
	fails map[string][]error
	calls map[string]int
}

// Fail makes the next n calls of op return err.
func (f *Faults) Fail(op string, n int, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fails == nil {
		f.fails = map[string][]error{}
	}
	for range n {
		f.fails[op] = append(f.fails[op], err)
	}
}

// Calls counts the calls of op so far.
func (f *Faults) Calls(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[op]
}

func (f *Faults) check(op string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	f.calls[op]++
	if q := f.fails[op]; len(q) > 0 {
		f.fails[op] = q[1:]
		return q[0]
	}
	return nil
}

// Ticket is a fake ticket with its whole history.
type Ticket struct {
	ticket.Ticket
	seq            int
	ExternalID     string
	Subject        string
	RequesterEmail string
	GroupID        int64
	// Assignee is the assigned agent's user ID (0: nobody).
	Assignee int64
	Fields   map[string]string
	Comments []ticket.Comment
}

// Each fake fits the interface the activities declare.
var (
	_ activities.Tickets     = (*Tickets)(nil)
	_ activities.Accounts    = (*Accounts)(nil)
	_ activities.Enforcement = (*Enforcement)(nil)
	_ activities.Approvals   = (*Approvals)(nil)
	_ activities.Evidence    = (*Evidence)(nil)
)

// System is the ticketing system memfake's tickets name: references to them are not Zendesk's
// (IDs like "mem-3"), so the workflow tests hold the desk to the neutral ticket.Ref.
const System = "memory"

// lookup is the ticket ref names; the caller holds t.mu.
func (t *Tickets) lookup(op string, ref ticket.Ref) (*Ticket, error) {
	if ref.System != System {
		return nil, &fault.Error{Kind: fault.Invalid, Service: "memfake", Op: op + " ticket " + ref.String(), Message: "not a " + System + " ticket"}
	}
	tk, ok := t.tickets[ref.ID]
	if !ok {
		return nil, &fault.Error{Kind: fault.NotFound, Service: "memfake", Op: op + " ticket", Message: "no ticket " + ref.ID}
	}
	return tk, nil
}

// Tickets is an in-memory ticketing system.
type Tickets struct {
	Faults
	mu      sync.Mutex
	next    int
	tickets map[string]*Ticket
	uploads map[string][]byte
	// Groups are the agents (user IDs) of each group, as Zendesk would list them.
	Groups map[int64][]int64
	// Emails are the users' e-mail addresses (user ID → address).
	Emails map[int64]string
}

// Redact implements activities.Tickets: the texts leave every comment (as ▇s), the desk's
// evidence uploads leave the comments that carried them.
func (t *Tickets) Redact(_ context.Context, ref ticket.Ref, texts []string) (int, error) {
	if err := t.check("redact"); err != nil {
		return 0, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	tk, err := t.lookup("redact", ref)
	if err != nil {
		return 0, err
	}
	n := 0
	for i := range tk.Comments {
		c := &tk.Comments[i]
		for _, s := range texts {
			if len([]rune(s)) >= 8 && strings.Contains(c.Body, s) {
				c.Body = strings.ReplaceAll(c.Body, s, strings.Repeat("▇", len([]rune(s))))
				n++
			}
		}
		if len(c.Uploads) > 0 {
			n += len(c.Uploads)
			c.Uploads = nil
		}
	}
	return n, nil
}

// AddAgent puts a user with an e-mail address in a group.
func (t *Tickets) AddAgent(group, id int64, email string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.Groups == nil {
		t.Groups = map[int64][]int64{}
	}
	if t.Emails == nil {
		t.Emails = map[int64]string{}
	}
	t.Groups[group] = append(t.Groups[group], id)
	t.Emails[id] = email
}

// RemoveAgent takes a user out of a group.
func (t *Tickets) RemoveAgent(group, id int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.Groups[group] = slices.DeleteFunc(t.Groups[group], func(x int64) bool { return x == id })
}

// AgentEmail implements activities.Tickets.
func (t *Tickets) AgentEmail(_ context.Context, id int64) (string, error) {
	if err := t.check("user"); err != nil {
		return "", err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.Emails[id]
	if !ok {
		return "", &fault.Error{Kind: fault.NotFound, Service: "tickets", Op: fmt.Sprintf("get user %d", id), Message: "no such user"}
	}
	return e, nil
}

// GroupMembers implements activities.Tickets.
func (t *Tickets) GroupMembers(_ context.Context, group int64) ([]int64, error) {
	if err := t.check("members"); err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.Groups[group]), nil
}

// NewTickets makes an empty ticketing system.
func NewTickets() *Tickets {
	return &Tickets{tickets: map[string]*Ticket{}, uploads: map[string][]byte{}, next: 100}
}

// FindTicket implements activities.Tickets.
func (t *Tickets) FindTicket(_ context.Context, ext string) (*ticket.Ticket, error) {
	if err := t.check("find"); err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, tk := range t.tickets {
		if tk.ExternalID == ext {
			c := tk.Ticket
			c.Tags = slices.Clone(c.Tags)
			return &c, nil
		}
	}
	return nil, nil
}

// GetTicket implements activities.Tickets.
func (t *Tickets) GetTicket(_ context.Context, ref ticket.Ref) (*ticket.Ticket, error) {
	if err := t.check("get"); err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	tk, err := t.lookup("get", ref)
	if err != nil {
		return nil, err
	}
	c := tk.Ticket
	c.Tags = slices.Clone(c.Tags)
	return &c, nil
}

// CreateTicket implements activities.Tickets.
func (t *Tickets) CreateTicket(_ context.Context, n ticket.New) (*ticket.Ticket, error) {
	if err := t.check("create"); err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.next++
	id := fmt.Sprintf("mem-%d", t.next)
	ref := ticket.Ref{System: System, ID: id, URL: "https://tickets.memfake.test/" + id}
	tk := &Ticket{
		Ticket:         ticket.Ticket{Ref: ref, Status: n.Status, Tags: slices.Clone(n.Tags)},
		seq:            t.next,
		ExternalID:     n.ExternalID,
		Subject:        n.Subject,
		RequesterEmail: n.RequesterEmail,
		GroupID:        n.GroupID,
		Fields:         map[string]string{},
		Comments:       []ticket.Comment{n.Comment},
	}
	for k, v := range n.Fields {
		tk.Fields[k] = v
	}
	t.tickets[tk.ID] = tk
	c := tk.Ticket
	c.Tags = slices.Clone(c.Tags)
	return &c, nil
}

// UpdateTicket implements activities.Tickets.
func (t *Tickets) UpdateTicket(_ context.Context, ref ticket.Ref, u ticket.Update) error {
	if err := t.check("update"); err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	tk, err := t.lookup("update", ref)
	if err != nil {
		return err
	}
	if u.Comment != nil {
		tk.Comments = append(tk.Comments, *u.Comment)
	}
	if u.Status != "" {
		tk.Status = u.Status
	}
	if u.GroupID != 0 {
		tk.GroupID = u.GroupID
	}
	if u.Assign != nil {
		tk.Assignee = *u.Assign
	}
	for _, tag := range u.AddTags {
		if !slices.Contains(tk.Tags, tag) {
			tk.Tags = append(tk.Tags, tag)
		}
	}
	for k, v := range u.Fields {
		tk.Fields[k] = v
	}
	return nil
}

// Upload implements activities.Tickets.
func (t *Tickets) Upload(_ context.Context, name, _ string, data []byte) (string, error) {
	if err := t.check("upload"); err != nil {
		return "", err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	tok := fmt.Sprintf("tok-%d-%s", len(t.uploads)+1, name)
	t.uploads[tok] = slices.Clone(data)
	return tok, nil
}

// All returns copies of every ticket, by ID.
func (t *Tickets) All() []Ticket {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []Ticket
	for _, tk := range t.tickets {
		c := *tk
		c.Tags = slices.Clone(tk.Tags)
		c.Comments = slices.Clone(tk.Comments)
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b Ticket) int { return cmp.Compare(a.seq, b.seq) })
	return out
}

// Get returns a copy of one ticket.
func (t *Tickets) Get(id string) (Ticket, bool) {
	for _, tk := range t.All() {
		if tk.ID == id {
			return tk, true
		}
	}
	return Ticket{}, false
}

// Accounts is an in-memory account directory.
type Accounts struct {
	Faults
	mu       sync.Mutex
	accounts map[string]abuse.Account
}

// NewAccounts makes a directory with the given accounts.
func NewAccounts(accts ...abuse.Account) *Accounts {
	a := &Accounts{accounts: map[string]abuse.Account{}}
	for _, x := range accts {
		a.accounts[x.ID] = x
	}
	return a
}

// GetAccount implements activities.Accounts.
func (a *Accounts) GetAccount(_ context.Context, id string) (*abuse.Account, error) {
	if err := a.check("get"); err != nil {
		return nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	x, ok := a.accounts[id]
	if !ok {
		return nil, &fault.Error{Kind: fault.NotFound, Service: "memfake", Op: "get account", Message: "no account " + id}
	}
	return &x, nil
}

// Action is a fake enforcement action.
type Action struct {
	abuse.ActionState
	Key     string
	LiftKey string
	Reason  string
	// Overturned: the lift said the action was wrong (a granted appeal), not a reinstatement.
	Overturned bool
	// polls left before a pending action turns active
	pendingPolls int
}

// Enforcement is an in-memory enforcement API with idempotency keys. New actions start
// pending and turn active after PendingPolls reads (0: active at once).
type Enforcement struct {
	Faults
	PendingPolls int
	mu           sync.Mutex
	actions      []*Action
}

// Apply implements activities.Enforcement.
func (e *Enforcement) Apply(_ context.Context, req abuse.ActionRequest, key string) (*abuse.ActionState, error) {
	if err := e.check("apply"); err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, a := range e.actions {
		if a.Key == key {
			s := a.ActionState
			return &s, nil
		}
	}
	a := &Action{
		ActionState: abuse.ActionState{
			ID: fmt.Sprintf("act-%d", len(e.actions)+1), AccountID: req.AccountID, Type: req.Type, Level: req.Level, Scope: req.Scope,
			State: abuse.StateActive, AppliedAt: time.Now().UTC(), ExpiresAt: req.ExpiresAt,
		},
		Key: key, Reason: req.Reason, pendingPolls: e.PendingPolls,
	}
	if a.pendingPolls > 0 {
		a.State = abuse.StatePending
	}
	e.actions = append(e.actions, a)
	s := a.ActionState
	return &s, nil
}

// GetAction implements activities.Enforcement.
func (e *Enforcement) GetAction(_ context.Context, id string) (*abuse.ActionState, error) {
	if err := e.check("get"); err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, a := range e.actions {
		if a.ID == id {
			if a.State == abuse.StatePending {
				a.pendingPolls--
				if a.pendingPolls <= 0 {
					a.State = abuse.StateActive
				}
			}
			s := a.ActionState
			return &s, nil
		}
	}
	return nil, &fault.Error{Kind: fault.NotFound, Service: "memfake", Op: "get action", Message: "no action " + id}
}

// Lift implements activities.Enforcement.
func (e *Enforcement) Lift(_ context.Context, req abuse.LiftRequest, key string) (*abuse.ActionState, error) {
	id := req.ActionID
	if err := e.check("lift"); err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, a := range e.actions {
		if a.ID == id {
			if a.State != abuse.StateLifted {
				a.State, a.LiftedAt, a.LiftKey, a.Overturned = abuse.StateLifted, time.Now().UTC(), key, req.Overturned
			}
			s := a.ActionState
			return &s, nil
		}
	}
	return nil, &fault.Error{Kind: fault.NotFound, Service: "memfake", Op: "lift action", Message: "no action " + id}
}

// Actions returns copies of every action ever applied.
func (e *Enforcement) Actions() []Action {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]Action, len(e.actions))
	for i, a := range e.actions {
		out[i] = *a
	}
	return out
}

// Active lists the actions in force on an account.
func (e *Enforcement) Active(account string) []Action {
	var out []Action
	for _, a := range e.Actions() {
		if a.AccountID == account && a.State == abuse.StateActive {
			out = append(out, a)
		}
	}
	return out
}

// Approvals records approval requests like a Slack channel would.
type Approvals struct {
	Faults
	mu    sync.Mutex
	Posts []approval.Post
	Pings []approval.Post
	Shown []approval.Show
	// Bulk are the bulk actions' messages as last posted or shown, by step.
	Bulk map[string]approval.BulkPost
	// Groups are the user groups' members, as Slack would list them.
	Groups   map[string][]string
	messages map[string]approval.Message
}

// PostBulk implements activities.BulkBoard.
func (a *Approvals) PostBulk(_ context.Context, p approval.BulkPost) (*approval.Message, error) {
	if err := a.check("post-bulk"); err != nil {
		return nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.messages == nil {
		a.messages = map[string]approval.Message{}
	}
	m := approval.Message{Channel: "CLEADS", TS: fmt.Sprintf("1700000001.%06d", len(a.messages)+1)}
	a.messages[p.Step] = m
	a.keepBulk(p)
	return &m, nil
}

// ShowBulk implements activities.BulkBoard.
func (a *Approvals) ShowBulk(_ context.Context, _ approval.Message, p approval.BulkPost) error {
	if err := a.check("show-bulk"); err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.keepBulk(p)
	return nil
}

// keepBulk keeps a bulk action's message as it stands (a.mu held).
func (a *Approvals) keepBulk(p approval.BulkPost) {
	if a.Bulk == nil {
		a.Bulk = map[string]approval.BulkPost{}
	}
	a.Bulk[p.Step] = p
}

// BulkPost is the bulk action's message (by step) as it stands.
func (a *Approvals) BulkPost(step string) (approval.BulkPost, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	p, ok := a.Bulk[step]
	return p, ok
}

// GroupMembers implements activities.Approvals.
func (a *Approvals) GroupMembers(_ context.Context, group string) ([]string, error) {
	if err := a.check("members"); err != nil {
		return nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.Groups[group]), nil
}

// FindApproval implements activities.Approvals.
func (a *Approvals) FindApproval(_ context.Context, _, step string) (*approval.Message, error) {
	if err := a.check("find"); err != nil {
		return nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if m, ok := a.messages[step]; ok {
		return &m, nil
	}
	return nil, nil
}

// PostApproval implements activities.Approvals.
func (a *Approvals) PostApproval(_ context.Context, p approval.Post) (*approval.Message, error) {
	if err := a.check("post"); err != nil {
		return nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.Posts = append(a.Posts, p)
	m := approval.Message{Channel: "CLEADS", TS: fmt.Sprintf("1700000000.%06d", len(a.Posts))}
	if a.messages == nil {
		a.messages = map[string]approval.Message{}
	}
	a.messages[p.Step] = m
	return &m, nil
}

// PingApproval implements activities.Approvals.
func (a *Approvals) PingApproval(_ context.Context, _ approval.Message, p approval.Post) error {
	if err := a.check("ping"); err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.Pings = append(a.Pings, p)
	return nil
}

// ShowDecision implements activities.Approvals.
func (a *Approvals) ShowDecision(_ context.Context, _ approval.Message, s approval.Show) error {
	if err := a.check("show"); err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.Shown = append(a.Shown, s)
	return nil
}

// Snapshot returns copies of what was posted, pinged and shown.
func (a *Approvals) Snapshot() (posts, pings []approval.Post, shown []approval.Show) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.Posts), slices.Clone(a.Pings), slices.Clone(a.Shown)
}

// Evidence is an in-memory evidence store.
type Evidence struct {
	mu    sync.Mutex
	data  map[string][]byte
	holds map[string][]string
}

// Hold implements activities.Evidence.
func (e *Evidence) Hold(_ context.Context, key string, digests []string, _ string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, d := range digests {
		if _, ok := e.data[d]; !ok {
			return &fault.Error{Kind: fault.NotFound, Service: "evidence", Op: "hold", Message: "no evidence " + d + " to hold"}
		}
	}
	if e.holds == nil {
		e.holds = map[string][]string{}
	}
	e.holds[key] = slices.Clone(digests)
	return nil
}

// Holds returns the digests held under key.
func (e *Evidence) Holds(key string) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.holds[key])
}

// Keep implements activities.Evidence: it stores raw under its SHA-256 digest.
func (e *Evidence) Keep(_ context.Context, raw []byte) (string, error) {
	sum := sha256.Sum256(raw)
	digest := hex.EncodeToString(sum[:])
	e.Put(digest, raw)
	return digest, nil
}

// Put stores raw evidence under a digest.
func (e *Evidence) Put(digest string, raw []byte) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.data == nil {
		e.data = map[string][]byte{}
	}
	e.data[digest] = slices.Clone(raw)
}

// Get implements activities.Evidence.
func (e *Evidence) Get(_ context.Context, digest string) ([]byte, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	b, ok := e.data[digest]
	if !ok {
		return nil, &fault.Error{Kind: fault.NotFound, Service: "evidence", Op: "get", Message: "no evidence " + digest}
	}
	return slices.Clone(b), nil
}

// DemoAccounts are accounts the tests share: a standard one, a strategic one and a repeat
// offender.
func DemoAccounts() []abuse.Account {
	return []abuse.Account{
		{ID: "acct-standard", Name: "Example Shop", ContactEmail: "ops@shop.example", Locale: "en", Tier: abuse.TierStandard},
		{ID: "acct-strategic", Name: "Big Bank", ContactEmail: "noc@bank.example", Locale: "en", Tier: abuse.TierStrategic},
		{ID: "acct-repeat", Name: "Again Ltd", ContactEmail: "admin@again.example", Locale: "de", Tier: abuse.TierStandard, PriorViolations: 3},
		// Opened two days before now: reported in its first days.
		{ID: "acct-new", Name: "Fresh Start", ContactEmail: "hello@fresh.example", Locale: "en", Tier: abuse.TierStandard, CreatedAt: time.Now().Add(-48 * time.Hour)},
	}
}

// Incidents holds the results of cases' completed incidents.
type Incidents struct {
	mu   sync.Mutex
	last map[string]workflows.CaseResult
}

var _ activities.Incidents = (*Incidents)(nil)

// Closed records a completed incident of a case.
func (i *Incidents) Closed(caseID string, res workflows.CaseResult) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.last == nil {
		i.last = map[string]workflows.CaseResult{}
	}
	i.last[caseID] = res
}

// LastClosed implements activities.Incidents.
func (i *Incidents) LastClosed(_ context.Context, caseID string) (*workflows.CaseResult, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if r, ok := i.last[caseID]; ok {
		return &r, nil
	}
	return nil, nil
}

// Alerts records the alerts posted for the leads.
type Alerts struct {
	mu    sync.Mutex
	texts []string
}

var _ activities.Alerts = (*Alerts)(nil)

// PostAlertTo implements activities.Alerts; an alert to a channel other than the leads' is
// recorded as "#channel: text", one that pages people with their mention first.
func (a *Alerts) PostAlertTo(_ context.Context, channel, text string, page approval.Approvers) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if m := page.Mention(); m != "" {
		text = m + " " + text
	}
	if channel != "" {
		text = "#" + channel + ": " + text
	}
	a.texts = append(a.texts, text)
	return nil
}

// Texts returns the alerts posted so far.
func (a *Alerts) Texts() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.texts)
}

// Forwarded is one move of reports to another case.
type Forwarded struct {
	Account  string
	Category abuse.Category
	Reports  []workflows.ReportSummary
}

// Reports records reports moved to other cases.
type Reports struct {
	mu    sync.Mutex
	moves []Forwarded
}

var _ activities.Reports = (*Reports)(nil)

// Forward implements activities.Reports.
func (r *Reports) Forward(_ context.Context, account string, category abuse.Category, rs []workflows.ReportSummary) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.moves = append(r.moves, Forwarded{Account: account, Category: category, Reports: slices.Clone(rs)})
	return nil
}

// Moves returns the moves so far.
func (r *Reports) Moves() []Forwarded {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.moves)
}

// Ledger keeps case events in memory, once per key, like the SQL ledger.
type Ledger struct {
	mu     sync.Mutex
	keys   map[string]bool
	events []LedgerRow
	// Sends counts Record calls; Fail, when set, fails the next that many.
	Sends, Fail int
	// Bulks are the bulk actions as last recorded, by number.
	Bulks map[string]workflows.BulkState
}

// RecordBulk implements activities.BulkLedger.
func (l *Ledger) RecordBulk(_ context.Context, st workflows.BulkState) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.Bulks == nil {
		l.Bulks = map[string]workflows.BulkState{}
	}
	l.Bulks[st.Number] = st
	return nil
}

// Bulk is a bulk action as last recorded.
func (l *Ledger) Bulk(number string) (workflows.BulkState, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	st, ok := l.Bulks[number]
	return st, ok
}

// LedgerRow is one kept event and the case it belongs to.
type LedgerRow struct {
	Case  workflows.LedgerCase
	Event workflows.LedgerEvent
}

var _ activities.Ledger = (*Ledger)(nil)

// Record implements activities.Ledger.
func (l *Ledger) Record(_ context.Context, in workflows.RecordEventsInput) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.Sends++
	if l.Fail > 0 {
		l.Fail--
		return errors.New("ledger unavailable")
	}
	if l.keys == nil {
		l.keys = map[string]bool{}
	}
	for _, e := range in.Events {
		k := in.Case.Number + "/" + e.Key
		if l.keys[k] {
			continue
		}
		l.keys[k] = true
		l.events = append(l.events, LedgerRow{Case: in.Case, Event: e})
	}
	return nil
}

// Kinds returns the kinds of the kept events in the order of Rows.
func (l *Ledger) Kinds() []string {
	var out []string
	for _, r := range l.Rows() {
		out = append(out, r.Event.Kind)
	}
	return out
}

// Rows returns the kept events in the order they happened (by time, then by number within a
// case; an outage makes the ledger keep them in another order).
func (l *Ledger) Rows() []LedgerRow {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := slices.Clone(l.events)
	slices.SortStableFunc(out, func(a, b LedgerRow) int {
		if c := a.Event.At.Compare(b.Event.At); c != 0 {
			return c
		}
		x, errX := strconv.Atoi(a.Event.Key)
		y, errY := strconv.Atoi(b.Event.Key)
		if errX == nil && errY == nil {
			return x - y
		}
		return 0
	})
	return out
}

// Probes answers remediation checks from what a test sets: a URL answers with content (still)
// until Set says otherwise; an address is listed once Set lists it. Calls counts the checks.
type Probes struct {
	mu    sync.Mutex
	state map[string][2]string // URL, or "ip zone": verdict and detail
	calls []string
}

var _ activities.Probes = (*Probes)(nil)

// Set sets what checking subject answers: a URL, or "ip zone" for a blocklist.
func (p *Probes) Set(subject, verdict, detail string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state == nil {
		p.state = map[string][2]string{}
	}
	p.state[subject] = [2]string{verdict, detail}
}

// URL implements activities.Probes.
func (p *Probes) URL(_ context.Context, url string) (string, string) {
	return p.answer(url, workflows.VerdictStill, "HTTP 200")
}

// Listed implements activities.Probes.
func (p *Probes) Listed(_ context.Context, ip, zone string) (string, string) {
	return p.answer(ip+" "+zone, workflows.VerdictFixed, "not listed")
}

func (p *Probes) answer(subject, verdict, detail string) (string, string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, subject)
	if s, ok := p.state[subject]; ok {
		return s[0], s[1]
	}
	return verdict, detail
}

// Calls returns the subjects checked so far, in order.
func (p *Probes) Calls() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.calls)
}

// Probations says which accounts are on probation after a reinstatement.
type Probations struct {
	mu sync.Mutex
	on map[string]workflows.ProbationResult
}

var _ activities.Probations = (*Probations)(nil)

// Put puts an account on probation.
func (p *Probations) Put(account string, r workflows.ProbationResult) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.on == nil {
		p.on = map[string]workflows.ProbationResult{}
	}
	r.On = true
	p.on[account] = r
}

// OnProbation implements activities.Probations.
func (p *Probations) OnProbation(_ context.Context, account string) (*workflows.ProbationResult, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := p.on[account]
	return &r, nil
}

// HandOffs records hand-offs posted to teams' channels like Slack would.
type HandOffs struct {
	mu    sync.Mutex
	posts []approval.HandOffPost
	pings []string
	shows []approval.HandOffShow
}

var _ activities.HandOffs = (*HandOffs)(nil)

// FindHandOff implements activities.HandOffs.
func (h *HandOffs) FindHandOff(_ context.Context, channel, step string) (*approval.Message, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, p := range h.posts {
		if p.Channel == channel && p.Step == step {
			return &approval.Message{Channel: channel, TS: strconv.Itoa(i + 1)}, nil
		}
	}
	return nil, nil
}

// PostHandOff implements activities.HandOffs.
func (h *HandOffs) PostHandOff(_ context.Context, p approval.HandOffPost) (*approval.Message, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.posts = append(h.posts, p)
	return &approval.Message{Channel: p.Channel, TS: strconv.Itoa(len(h.posts))}, nil
}

// PingHandOff implements activities.HandOffs; the ping is kept as "channel: mention text".
func (h *HandOffs) PingHandOff(_ context.Context, m approval.Message, mention, text string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.pings = append(h.pings, strings.TrimSpace(m.Channel+": "+mention+" "+text))
	return nil
}

// ShowHandOff implements activities.HandOffs.
func (h *HandOffs) ShowHandOff(_ context.Context, _ approval.Message, s approval.HandOffShow) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.shows = append(h.shows, s)
	return nil
}

// Snapshot returns the posts, pings and shown outcomes so far.
func (h *HandOffs) Snapshot() ([]approval.HandOffPost, []string, []approval.HandOffShow) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.posts), slices.Clone(h.pings), slices.Clone(h.shows)
}

// Messaging is a messaging platform's records: PerHour for every whole hour asked about, for any
// identity — none once Enforcement (when set) holds an active suspension of sending on the
// identity or the account.
type Messaging struct {
	Faults
	PerHour     abuse.MessagingCounts
	Enforcement *Enforcement
}

// Messaging implements activities.Messaging.
func (m *Messaging) Messaging(_ context.Context, _ string, id abuse.Scope, since, until time.Time) (*abuse.Traffic, []byte, error) {
	if err := m.check("messaging"); err != nil {
		return nil, nil, err
	}
	t := &abuse.Traffic{Identity: id, Since: since, Until: until}
	suspended := m.Enforcement != nil && slices.ContainsFunc(m.Enforcement.Actions(), func(a Action) bool {
		return a.State == abuse.StateActive && a.Type == abuse.ActionSuspendSending && (a.Scope == nil || *a.Scope == id)
	})
	for at := since; !at.Add(time.Hour).After(until); at = at.Add(time.Hour) {
		h := abuse.MessagingHour{Start: at}
		if !suspended {
			h.MessagingCounts = m.PerHour
		}
		t.Hours = append(t.Hours, h)
		t.Add(h.MessagingCounts)
	}
	raw, err := json.Marshal(t)
	return t, raw, err
}
