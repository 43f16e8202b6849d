package intake

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.temporal.io/api/serviceerror"

	"abusedesk/app/cases"
	"abusedesk/devenv/enforcementapi"
	"abusedesk/domain/abuse"
	"abusedesk/domain/policy"
	"abusedesk/domain/ticket"
	"abusedesk/integrations/enforcement"
	"abusedesk/integrations/reports"
	"abusedesk/platform/evidence"
	"abusedesk/platform/metrics"
	"abusedesk/templates"
	"abusedesk/testenv/memfake"
	"abusedesk/workflows"
)

// fakeCases records what intake delivers, like a Temporal-backed cases.Client would accept it.
type fakeCases struct {
	mu sync.Mutex
	// refuse makes Submit refuse for good (InvalidArgument) a batch holding this report.
	refuse   string
	submits  map[string][][]workflows.ReportSummary
	inputs   map[string]workflows.CaseInput
	replies  map[string][]workflows.CustomerReply
	known    map[string]*cases.Summary
	failNext int
	// reinstatable are closed cases (by number) whose action stands; reinstated the requests.
	reinstatable map[string]bool
	reinstated   []workflows.CustomerReply
}

func newFakeCases() *fakeCases {
	return &fakeCases{submits: map[string][][]workflows.ReportSummary{}, inputs: map[string]workflows.CaseInput{},
		replies: map[string][]workflows.CustomerReply{}, known: map[string]*cases.Summary{}}
}

func (f *fakeCases) Submit(_ context.Context, caseID string, in workflows.CaseInput, batch []workflows.ReportSummary) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failNext > 0 {
		f.failNext--
		return "", errors.New("temporal unavailable")
	}
	for _, r := range batch {
		if f.refuse != "" && r.ID == f.refuse {
			return "", serviceerror.NewInvalidArgument("payload too large")
		}
	}
	f.submits[caseID] = append(f.submits[caseID], batch)
	f.inputs[caseID] = in
	return "run-1", nil
}

func (f *fakeCases) Reply(_ context.Context, caseID string, r workflows.CustomerReply) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s := f.known[caseID]; s != nil && !s.Running {
		return cases.ErrClosed
	}
	f.replies[caseID] = append(f.replies[caseID], r)
	return nil
}

func (f *fakeCases) Reinstate(_ context.Context, sum *cases.Summary, msg workflows.CustomerReply) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.reinstatable[sum.CaseNumber] || msg.Kind != workflows.ReplyKindAnswer {
		return cases.ErrNotReinstatable
	}
	f.reinstated = append(f.reinstated, msg)
	return nil
}

func (f *fakeCases) FindByNumber(_ context.Context, number string) (*cases.Summary, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range f.known {
		if s.CaseNumber == number {
			c := *s
			return &c, nil
		}
	}
	return nil, nil
}

func (f *fakeCases) reports(caseID string) (batches, total int, ids map[string]int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ids = map[string]int{}
	for _, b := range f.submits[caseID] {
		batches++
		for _, r := range b {
			total++
			ids[r.ID]++
		}
	}
	return
}

type env struct {
	in      *Intake
	cases   *fakeCases
	tickets *memfake.Tickets
	api     *enforcementapi.Server
}

func setup(t *testing.T, window time.Duration) *env {
	t.Helper()
	api := enforcementapi.NewDemo("tok")
	srv := httptest.NewServer(api.Handler())
	t.Cleanup(srv.Close)
	store, err := evidence.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	store.Sync = false
	c := newFakeCases()
	tickets := memfake.NewTickets()
	pol := policy.Default()
	in, err := New(Config{Policy: pol, BatchWindow: window, BatchMax: 500, JournalDir: t.TempDir(), Templates: mustTemplates(t)}, enforcement.New(srv.URL, "tok"), c, tickets, store)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close(context.Background()) })
	return &env{in: in, cases: c, tickets: tickets, api: api}
}

// settle waits until every accepted report is delivered.
func (e *env) settle(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for e.in.Queued() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d reports still undelivered", e.in.Queued())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile("../../integrations/reports/testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestReportReachesItsCase(t *testing.T) {
	e := setup(t, 20*time.Millisecond)
	out, err := e.in.Ingest(context.Background(), fixture(t, "arf-quirks.eml"), Source{Channel: "api"})
	if err != nil {
		t.Fatal(err)
	}
	caseID := workflows.CaseWorkflowID("acct-shop", abuse.Spam)
	if len(out.Accepted) != 1 || out.Accepted[0].CaseID != caseID {
		t.Fatalf("outcome %+v", out)
	}
	e.settle(t)
	batches, total, _ := e.cases.reports(caseID)
	if batches != 1 || total != 1 {
		t.Errorf("%d batches with %d reports, want 1 with 1", batches, total)
	}
	in := e.cases.inputs[caseID]
	if in.AccountID != "acct-shop" || in.Category != abuse.Spam || in.Policy.Rules.ResponseWindow == 0 {
		t.Errorf("case input %+v", in)
	}
	sum := e.cases.submits[caseID][0][0]
	if sum.ID != "fbl-0001@mailbox.example" || sum.Evidence != out.Digest || len(sum.Subjects) == 0 || sum.Subjects[0].String() != "ip:192.0.2.77" {
		t.Errorf("summary %+v", sum)
	}
}

// A storm of reports for one account costs few deliveries, and every report is in one.
func TestStormIsBatched(t *testing.T) {
	e := setup(t, 50*time.Millisecond)
	const n = 300
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			raw := fmt.Sprintf("From: fbl@isp.example\nTo: abuse@provider.example\nSubject: complaint %d\nMessage-ID: <storm-%d@isp.example>\nDate: Mon, 2 Mar 2026 10:00:00 +0000\nMIME-Version: 1.0\nContent-Type: multipart/report; report-type=feedback-report; boundary=b\n\n--b\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\nSource-IP: 192.0.2.%d\n\n--b--\n", i, i, 1+i%100)
			_, err := e.in.Ingest(context.Background(), []byte(raw), Source{Channel: "api"})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	e.settle(t)
	batches, total, ids := e.cases.reports(workflows.CaseWorkflowID("acct-shop", abuse.Spam))
	if total != n || len(ids) != n {
		t.Fatalf("%d reports (%d distinct) delivered, want %d", total, len(ids), n)
	}
	if batches > n/10 {
		t.Errorf("%d deliveries for %d reports: not batched", batches, n)
	}
	t.Logf("%d reports in %d batches", n, batches)
}

// TestFailedDeliveryIsRetried: a report is accepted once it is in the journal; a delivery
// Temporal fails is retried until it lands, once.
func TestFailedDeliveryIsRetried(t *testing.T) {
	e := setup(t, 0)
	e.cases.mu.Lock()
	e.cases.failNext = 2
	e.cases.mu.Unlock()
	if _, err := e.in.Ingest(context.Background(), fixture(t, "arf-quirks.eml"), Source{Channel: "imap"}); err != nil {
		t.Fatal(err)
	}
	e.settle(t)
	if _, total, _ := e.cases.reports(workflows.CaseWorkflowID("acct-shop", abuse.Spam)); total != 1 {
		t.Errorf("%d deliveries after two failures, want 1", total)
	}
}

// TestRefusedReportGoesToTriage: a report Temporal refuses for good is split from its batch
// (the others are delivered) and handed to a person.
func TestRefusedReportGoesToTriage(t *testing.T) {
	e := setup(t, 30*time.Millisecond)
	e.cases.refuse = "poison-3@isp.example"
	for i := range 6 {
		raw := fmt.Sprintf("From: fbl@isp.example\nSubject: c\nMessage-ID: <poison-%d@isp.example>\nMIME-Version: 1.0\nContent-Type: multipart/report; report-type=feedback-report; boundary=b\n\n--b\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\nSource-IP: 192.0.2.9\n\n--b--\n", i)
		if _, err := e.in.Ingest(context.Background(), []byte(raw), Source{Channel: "api"}); err != nil {
			t.Fatal(err)
		}
	}
	e.settle(t)
	_, total, ids := e.cases.reports(workflows.CaseWorkflowID("acct-shop", abuse.Spam))
	if total != 5 || ids["poison-3@isp.example"] != 0 {
		t.Fatalf("%d delivered (%v), want the 5 others", total, ids)
	}
	found := false
	for _, tk := range e.tickets.All() {
		if strings.Contains(tk.ExternalID, "poison-3@isp.example") && slices.Contains(tk.Tags, TagTriage) {
			found = true
		}
	}
	if !found {
		t.Error("the refused report has no triage ticket")
	}
}

// TestAcceptedReportsSurviveARestart: reports accepted while Temporal is down stay in the
// journal; the next intake on the same directory delivers them, each once.
func TestAcceptedReportsSurviveARestart(t *testing.T) {
	api := enforcementapi.NewDemo("tok")
	srv := httptest.NewServer(api.Handler())
	defer srv.Close()
	store, err := evidence.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	down := newFakeCases()
	down.failNext = 1 << 30
	first, err := New(Config{Policy: policy.Default(), JournalDir: dir, Templates: mustTemplates(t)}, enforcement.New(srv.URL, "tok"), down, memfake.NewTickets(), store)
	if err != nil {
		t.Fatal(err)
	}
	const n = 25
	for i := range n {
		raw := fmt.Sprintf("From: fbl@isp.example\nSubject: c\nMessage-ID: <keep-%d@isp.example>\nMIME-Version: 1.0\nContent-Type: multipart/report; report-type=feedback-report; boundary=b\n\n--b\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\nSource-IP: 192.0.2.9\n\n--b--\n", i)
		if _, err := first.Ingest(context.Background(), []byte(raw), Source{Channel: "api"}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	first.Close(ctx) // Temporal is still down: the reports stay in the journal
	cancel()
	if got := first.Queued(); got != n {
		t.Fatalf("%d reports pending at the stop, want %d", got, n)
	}

	up := newFakeCases()
	second, err := New(Config{Policy: policy.Default(), JournalDir: dir, Templates: mustTemplates(t)}, enforcement.New(srv.URL, "tok"), up, memfake.NewTickets(), store)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close(context.Background())
	e := &env{in: second, cases: up}
	e.settle(t)
	_, total, ids := up.reports(workflows.CaseWorkflowID("acct-shop", abuse.Spam))
	if total != n || len(ids) != n {
		t.Fatalf("after the restart %d reports (%d distinct) delivered, want %d", total, len(ids), n)
	}
	// Delivered reports are not delivered a third time.
	third, err := New(Config{Policy: policy.Default(), JournalDir: dir, Templates: mustTemplates(t)}, enforcement.New(srv.URL, "tok"), newFakeCases(), memfake.NewTickets(), store)
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close(context.Background())
	if q := third.Queued(); q != 0 {
		t.Errorf("%d reports would be delivered again", q)
	}
}

// TestJournalSkipsATornLastLine: a crash in the middle of writing the last line loses only
// that line, which was never acknowledged.
func TestJournalSkipsATornLastLine(t *testing.T) {
	dir := t.TempDir()
	j, _, err := openJournal(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.add([]*queued{{Account: "acct-shop", Category: abuse.Spam, Report: workflows.ReportSummary{ID: "r1"}}}); err != nil {
		t.Fatal(err)
	}
	_ = j.close()
	f, err := os.OpenFile(dir+"/journal.jsonl", os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.WriteString(`{"add":{"seq":2,"account":"acct-sh`)
	_ = f.Close()
	j2, pending, err := openJournal(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer j2.close()
	if len(pending) != 1 || pending[0].Report.ID != "r1" {
		t.Fatalf("pending %+v, want r1 only", pending)
	}
}

// TestJournalRecoversAGluedRecord: a write that failed part-way on a full disk left a fragment,
// and the next report — acknowledged — was glued onto it. The journal opens by itself, keeps
// the acknowledged report, and sets the fragment aside in a file for a person.
func TestJournalRecoversAGluedRecord(t *testing.T) {
	dir := t.TempDir()
	whole := `{"add":{"seq":1,"account":"acct-shop","category":"spam","report":{"id":"r1","format":"arf","category":"spam","received_at":"2026-03-02T10:00:00Z"}}}`
	glued := `{"add":{"seq":2,"account":"acct-sh` + `{"add":{"seq":3,"account":"acct-shop","category":"spam","report":{"id":"r3","format":"arf","category":"spam","received_at":"2026-03-02T10:00:00Z"}}}`
	_ = os.WriteFile(dir+"/journal.jsonl", []byte(whole+"\n{oops\n"+glued+"\n{\"done\":[1]}\n"), 0o640)
	j, pending, err := openJournal(dir, nil)
	if err != nil {
		t.Fatalf("a journal with torn lines did not open: %v", err)
	}
	defer j.close()
	if len(pending) != 1 || pending[0].Report.ID != "r3" {
		t.Fatalf("pending %+v, want r3 (r1 was delivered, r2 never acknowledged)", pending)
	}
	aside, _ := filepath.Glob(dir + "/journal.jsonl.torn-*")
	if len(aside) != 1 || len(j.Recovered) != 3 {
		t.Fatalf("set aside %v, recovered %q; want one file and three findings", aside, j.Recovered)
	}
	if b, _ := os.ReadFile(aside[0]); string(b) != "{oops\n"+`{"add":{"seq":2,"account":"acct-sh` {
		t.Errorf("set aside %q", b)
	}
	// The next report gets a fresh sequence number after the recovered one.
	if err := j.add([]*queued{{Account: "acct-shop", Category: abuse.Spam, Report: workflows.ReportSummary{ID: "r4"}}}); err != nil {
		t.Fatal(err)
	}
	if j.next != 4 {
		t.Errorf("next sequence %d, want 4", j.next)
	}
}

// fullDisk is a journal file on a disk that fills up: writes past limit bytes stop part-way.
type fullDisk struct {
	f     *os.File
	limit int64
	size  int64
}

func (d *fullDisk) Write(b []byte) (int, error) {
	if d.size+int64(len(b)) <= d.limit {
		n, err := d.f.Write(b)
		d.size += int64(n)
		return n, err
	}
	room := max(d.limit-d.size, 0)
	n, _ := d.f.Write(b[:room])
	d.size += int64(n)
	return n, syscall.ENOSPC
}

func (d *fullDisk) Truncate(size int64) error { d.size = size; return d.f.Truncate(size) }
func (d *fullDisk) Sync() error               { return d.f.Sync() }
func (d *fullDisk) Close() error              { return d.f.Close() }

// TestJournalWriteOnAFullDisk: a report refused because the disk is full leaves no fragment;
// once there is room again the next report is written whole, and a restart finds exactly the
// acknowledged ones.
func TestJournalWriteOnAFullDisk(t *testing.T) {
	dir := t.TempDir()
	j, _, err := openJournal(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.add([]*queued{{Account: "acct-shop", Category: abuse.Spam, Report: workflows.ReportSummary{ID: "r1"}}}); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(dir+"/journal.jsonl", os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	disk := &fullDisk{f: f, limit: j.size + 40, size: j.size}
	j.mu.Lock()
	j.f = disk
	j.mu.Unlock()
	if err := j.add([]*queued{{Account: "acct-shop", Category: abuse.Spam, Report: workflows.ReportSummary{ID: "r2-refused"}}}); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("a write on a full disk: %v, want ENOSPC", err)
	}
	disk.limit = 1 << 30 // space freed
	if err := j.add([]*queued{{Account: "acct-shop", Category: abuse.Spam, Report: workflows.ReportSummary{ID: "r3"}}}); err != nil {
		t.Fatal(err)
	}
	_ = j.close()
	j2, pending, err := openJournal(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer j2.close()
	var ids []string
	for _, q := range pending {
		ids = append(ids, q.Report.ID)
	}
	if strings.Join(ids, ",") != "r1,r3" || len(j2.Recovered) != 0 {
		t.Errorf("after the full disk: %v (recovered %q), want r1,r3 and nothing torn", ids, j2.Recovered)
	}
}

func TestNotOursGoesToTriageAndIsAnswered(t *testing.T) {
	e := setup(t, 0)
	raw := []byte("From: Reporter <rep@victim.example>\nTo: abuse@provider.example\nSubject: attack from 1.2.3.4\nMessage-ID: <n-1@victim.example>\n\nThe address 1.2.3.4 is scanning our ports.\n")
	out, err := e.in.Ingest(context.Background(), raw, Source{Channel: "imap"})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Accepted) != 0 || len(out.Triaged) != 1 || !strings.Contains(out.Triaged[0].Reason, "not ours") {
		t.Fatalf("outcome %+v", out)
	}
	var triage, answer *memfake.Ticket
	for _, tk := range e.tickets.All() {
		tk := tk
		switch {
		case strings.Contains(strings.Join(tk.Tags, " "), TagTriage):
			triage = &tk
		case strings.Contains(strings.Join(tk.Tags, " "), TagNotOurs):
			answer = &tk
		}
	}
	if triage == nil || len(triage.Comments) != 1 || triage.Comments[0].Public || len(triage.Comments[0].Uploads) != 1 {
		t.Fatalf("triage ticket %+v, want a private note with the raw mail attached", triage)
	}
	if answer == nil || answer.RequesterEmail != "rep@victim.example" || !answer.Comments[0].Public || answer.Status != "solved" {
		t.Fatalf("answer to the reporter %+v", answer)
	}
	// The texts come from templates/: the agent reads why and what was parsed, the reporter
	// which report and which address.
	note := triage.Comments[0].Body
	for _, want := range []string{"Why: not ours", "From: rep@victim.example", "IPs 1.2.3.4", "desk report parse"} {
		if !strings.Contains(note, want) {
			t.Errorf("triage note lacks %q:\n%s", want, note)
		}
	}
	if triage.Subject != "[triage] attack from 1.2.3.4" {
		t.Errorf("triage subject %q", triage.Subject)
	}
	if body := answer.Comments[0].Body; !strings.Contains(body, "report n-1@victim.example") || !strings.Contains(body, "(1.2.3.4)") || answer.Subject != "Your abuse report: not our network" {
		t.Errorf("answer to the reporter: %q\n%s", answer.Subject, body)
	}
	// Offered again (a retry after a crash), nothing is duplicated.
	if _, err := e.in.Ingest(context.Background(), raw, Source{Channel: "imap"}); err != nil {
		t.Fatal(err)
	}
	if n := len(e.tickets.All()); n != 2 {
		t.Errorf("%d tickets after the message came twice, want 2", n)
	}
}

func TestUnparseableGoesToTriage(t *testing.T) {
	e := setup(t, 0)
	out, err := e.in.Ingest(context.Background(), fixture(t, "newsletter.eml"), Source{Channel: "imap"})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Triaged) != 1 || !strings.HasPrefix(out.Triaged[0].Reason, "unparseable: ") {
		t.Fatalf("outcome %+v", out)
	}
}

func TestRepliesFindTheirCase(t *testing.T) {
	e := setup(t, 0)
	caseID := workflows.CaseWorkflowID("acct-shop", abuse.Spam)
	e.cases.known[caseID] = &cases.Summary{CaseID: caseID, CaseNumber: "TS-7F3K2QXM", Running: true, Ticket: ticket.Ref{System: memfake.System, ID: "mem-1"}}
	out, err := e.in.Ingest(context.Background(), fixture(t, "reply.eml"), Source{Channel: "imap"})
	if err != nil || out.ReplyTo != caseID {
		t.Fatalf("reply: %+v %v", out, err)
	}
	if _, err := e.in.Ingest(context.Background(), fixture(t, "autoreply.eml"), Source{Channel: "imap"}); err != nil {
		t.Fatal(err)
	}
	got := e.cases.replies[caseID]
	if len(got) != 2 || got[0].Kind != workflows.ReplyKindAnswer || got[1].Kind != workflows.ReplyKindAutoReply || got[0].Excerpt == "" {
		t.Fatalf("replies %+v", got)
	}
	// The case closes; a later message is noted on its ticket.
	e.cases.known[caseID].Running = false
	tk, err := e.tickets.CreateTicket(context.Background(), memfakeTicket())
	if err != nil {
		t.Fatal(err)
	}
	e.cases.known[caseID].Ticket = tk.Ref
	out, err = e.in.Ingest(context.Background(), fixture(t, "bounce.eml"), Source{Channel: "imap"})
	if err != nil || !strings.Contains(out.Note, "closed") {
		t.Fatalf("after close: %+v %v", out, err)
	}
	if after, _ := e.tickets.Get(tk.ID); len(after.Comments) != 2 {
		t.Errorf("no note on the closed case's ticket: %+v", after.Comments)
	}
	// Closed with its action standing: an answer asks for reinstatement (a bounce does not).
	e.cases.reinstatable = map[string]bool{"TS-7F3K2QXM": true}
	out, err = e.in.Ingest(context.Background(), fixture(t, "reply.eml"), Source{Channel: "imap"})
	if err != nil || out.ReplyTo != workflows.ReinstatementWorkflowID("TS-7F3K2QXM") || !strings.Contains(out.Note, "asks for reinstatement") || len(e.cases.reinstated) != 1 {
		t.Fatalf("a request for reinstatement: %+v %v (%d requests)", out, err, len(e.cases.reinstated))
	}
	if after, _ := e.tickets.Get(tk.ID); len(after.Comments) != 2 {
		t.Errorf("the request was also noted by intake (the review notes it): %+v", after.Comments)
	}
	// Closed while its run still finishes its last steps: the answer is a request for
	// reinstatement too, not a message to a case that would drop it.
	e.cases.known[caseID].Running, e.cases.known[caseID].Status = true, workflows.StatusClosed
	out, err = e.in.Ingest(context.Background(), fixture(t, "reply.eml"), Source{Channel: "imap"})
	if err != nil || out.ReplyTo != workflows.ReinstatementWorkflowID("TS-7F3K2QXM") || len(e.cases.reinstated) != 2 || len(e.cases.replies[caseID]) != 2 {
		t.Fatalf("an answer while the closed case finishes: %+v %v (%d requests, %d replies)", out, err, len(e.cases.reinstated), len(e.cases.replies[caseID]))
	}
	// A reply naming a case that does not exist goes to triage.
	delete(e.cases.known, caseID)
	out, err = e.in.Ingest(context.Background(), fixture(t, "reply.eml"), Source{Channel: "imap"})
	if err != nil || len(out.Triaged) != 1 {
		t.Errorf("unknown case: %+v %v", out, err)
	}
}

func memfakeTicket() ticket.New {
	return ticket.New{ExternalID: "case/acct-shop/spam@1", Subject: "case", RequesterEmail: "ops@shop.example", Comment: ticket.Comment{Body: "notice", Public: true}}
}

// TestBatchWaitsForTheCasesDeliveryUnderWay: while a case's delivery is under way, the reports
// that arrive for it gather into one batch, sent when that delivery returns; another case is
// not held up.
func TestBatchWaitsForTheCasesDeliveryUnderWay(t *testing.T) {
	release := make(chan struct{})
	var mu sync.Mutex
	var sizes = map[string][]int{}
	a, b := workflows.CaseWorkflowID("acct-a", abuse.Spam), workflows.CaseWorkflowID("acct-b", abuse.Spam)
	submit := func(ctx context.Context, caseID string, _ workflows.CaseInput, batch []workflows.ReportSummary) (string, error) {
		mu.Lock()
		sizes[caseID] = append(sizes[caseID], len(batch))
		first := len(sizes[caseID]) == 1 && caseID == a
		mu.Unlock()
		if first {
			<-release // Temporal is slow to answer the first delivery for a
		}
		return "run", nil
	}
	j, _, err := openJournal(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer j.close()
	input := func(acct string, c abuse.Category) workflows.CaseInput {
		return workflows.CaseInput{AccountID: acct, Category: c}
	}
	bt := newBatcher(submit, input, j, func(*queued, error) {}, 10*time.Millisecond, 500, 8, 1000, nil, slog.Default())
	report := func(acct string, i int) []*queued {
		return []*queued{{Account: acct, Category: abuse.Spam, Report: workflows.ReportSummary{ID: fmt.Sprintf("%s-%d", acct, i)}}}
	}
	if err := bt.accept(report("acct-a", 0)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // a's first batch is under way
	for i := range 20 {
		if err := bt.accept(report("acct-a", i+1)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(3 * time.Millisecond) // several windows pass
	}
	if err := bt.accept(report("acct-b", 0)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		mu.Lock()
		got := len(sizes[b])
		mu.Unlock()
		if got == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("case b waited for case a")
		}
		time.Sleep(time.Millisecond)
	}
	close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	bt.close(ctx)
	mu.Lock()
	defer mu.Unlock()
	if got := sizes[a]; len(got) != 2 || got[0] != 1 || got[1] != 20 {
		t.Errorf("case a's batches %v, want [1 20]", got)
	}
	if j.pending() != 0 {
		t.Errorf("%d reports left undelivered", j.pending())
	}
}

// TestDeliveriesYieldWhileTheWorkerIsBehind: while workflow tasks wait longer than Yield.At,
// one delivery is under way at a time; once the worker keeps up they go MaxInFlight at once,
// and every report is delivered once.
func TestDeliveriesYieldWhileTheWorkerIsBehind(t *testing.T) {
	j, _, err := openJournal(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var behind atomic.Bool
	behind.Store(true)
	var mu sync.Mutex
	var under, most, n int
	delivered := map[string]int{}
	submit := func(_ context.Context, caseID string, _ workflows.CaseInput, batch []workflows.ReportSummary) (string, error) {
		mu.Lock()
		under++
		most = max(most, under)
		for _, r := range batch {
			delivered[r.ID]++
		}
		mu.Unlock()
		time.Sleep(5 * time.Millisecond)
		mu.Lock()
		under--
		n++
		mu.Unlock()
		return "run", nil
	}
	input := func(a string, c abuse.Category) workflows.CaseInput {
		return workflows.CaseInput{AccountID: a, Category: c}
	}
	b := newBatcher(submit, input, j, func(*queued, error) {}, 0, 500, 8, 1000, nil, slog.Default())
	b.yield = Yield{At: 100 * time.Millisecond, Wait: func() time.Duration {
		if behind.Load() {
			return time.Second
		}
		return 0
	}}
	offer := func(from, count int) {
		items := make([]*queued, count)
		for i := range items { // a case each: nothing to batch, only yielding holds them
			items[i] = &queued{Account: fmt.Sprintf("acct-%d", from+i), Category: abuse.Spam, Report: workflows.ReportSummary{ID: fmt.Sprintf("r-%d", from+i)}}
		}
		if err := b.accept(items); err != nil {
			t.Fatal(err)
		}
	}
	wait := func(count int) {
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
			mu.Lock()
			done := n
			mu.Unlock()
			if done >= count {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d of %d deliveries made", done, count)
			}
		}
	}
	offer(0, 40)
	wait(40)
	mu.Lock()
	if most != 1 {
		t.Errorf("%d deliveries under way at once while the worker was behind, want 1", most)
	}
	most = 0
	mu.Unlock()
	behind.Store(false)
	offer(40, 40)
	wait(80)
	b.close(context.Background())
	mu.Lock()
	defer mu.Unlock()
	if most < 2 {
		t.Errorf("%d deliveries under way at once while the worker kept up, want up to 8", most)
	}
	if len(delivered) != 80 {
		t.Fatalf("%d of 80 reports delivered", len(delivered))
	}
	for id, c := range delivered {
		if c != 1 {
			t.Errorf("%s delivered %d times", id, c)
		}
	}
}

// TestAdmissionSlowsWhileTheWorkerIsBehind: reports are let in without limit while the worker
// keeps up, at a falling rate (ErrSlowDown for the rest) while it is behind, and without limit
// again once it has kept up for a while.
func TestAdmissionSlowsWhileTheWorkerIsBehind(t *testing.T) {
	var behind bool
	clock := time.Unix(1000, 0)
	b := &batcher{log: slog.Default(), yield: Yield{At: 100 * time.Millisecond, Wait: func() time.Duration {
		if behind {
			return time.Second
		}
		return 0
	}}}
	b.adm.now = func() time.Time { return clock }
	// offer tries one report every step for d and counts what is let in each second.
	offer := func(d, step time.Duration) (perSecond []int, held int) {
		for end := clock.Add(d); clock.Before(end); clock = clock.Add(step) {
			sec := int(d.Seconds()) - int(end.Sub(clock).Seconds()+0.999)
			for len(perSecond) <= sec {
				perSecond = append(perSecond, 0)
			}
			switch err := b.admit(); {
			case err == nil:
				perSecond[sec]++
			case errors.Is(err, ErrSlowDown):
				held++
			default:
				t.Fatal(err)
			}
		}
		return perSecond, held
	}
	if _, held := offer(2*time.Second, 5*time.Millisecond); held != 0 { // 200 a second
		t.Fatalf("the worker keeps up, yet %d reports were held back", held)
	}
	behind = true
	let, held := offer(3*time.Second, time.Millisecond) // 1,000 a second
	if held < 2500 || let[0] > 200 || let[2] >= let[0] {
		t.Errorf("while the worker was behind, let in %v a second and held back %d: want a falling rate below the 200 a second before", let, held)
	}
	behind = false
	offer(6*time.Second, 10*time.Millisecond) // the limit rises, then goes after five calm seconds
	if _, held := offer(time.Second, time.Millisecond); held != 0 {
		t.Errorf("after six calm seconds %d reports were still held back", held)
	}
}

// TestRepliesAreNeverHeldBack: while the worker is behind, a report is refused with
// ErrSlowDown (the API answers it 503, Retry-After: 1) and nothing of it is kept, but a
// customer's reply still reaches its case.
func TestRepliesAreNeverHeldBack(t *testing.T) {
	e := setup(t, 0)
	e.in.batch.yield = Yield{At: time.Millisecond, Wait: func() time.Duration { return time.Second }}
	caseID := workflows.CaseWorkflowID("acct-shop", abuse.Spam)
	e.cases.known[caseID] = &cases.Summary{CaseID: caseID, CaseNumber: "TS-7F3K2QXM", Running: true, Ticket: ticket.Ref{System: memfake.System, ID: "mem-1"}}

	if _, err := e.in.Ingest(context.Background(), fixture(t, "arf-quirks.eml"), Source{Channel: "api"}); !errors.Is(err, ErrSlowDown) {
		t.Fatalf("a report while the worker is behind: %v, want ErrSlowDown", err)
	}
	if e.in.Queued() != 0 {
		t.Errorf("%d reports queued from a message answered 503", e.in.Queued())
	}

	out, err := e.in.Ingest(context.Background(), fixture(t, "reply.eml"), Source{Channel: "imap"})
	if err != nil || out.ReplyTo != caseID {
		t.Fatalf("a reply while the worker is behind: %+v %v", out, err)
	}
	if got := e.cases.replies[caseID]; len(got) != 1 {
		t.Errorf("replies delivered: %+v", got)
	}
}

func mustTemplates(t *testing.T) *templates.Renderer {
	t.Helper()
	r, err := templates.New()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestNonAbuseTracksGoToTheirCase: a police request, an advisory finding and a customer's own
// "we are blocked" mail about a customer's address go to that account's case of their category
// (whose lifecycle is the track's); about an address of no customer, each message is one
// triage ticket that says which track — legal ones in the legal group — and nobody is told
// "not ours".
func TestNonAbuseTracksGoToTheirCase(t *testing.T) {
	e := setup(t, 0)
	e.in.cfg.LegalGroupID, e.in.cfg.SupportGroupID = 77, 88
	for _, tc := range []struct{ name, mail, track string }{
		{"legal", "From: Det. Smith <cyber@police.example>\nSubject: Preservation request\nMessage-ID: <lr-1@police.example>\n\n" +
			"Under 18 U.S.C. 2703(f) this is a preservation request for all records of the subscriber of 192.0.2.77. Do NOT disclose this request to the subscriber.\n", "legal"},
		{"advisory", "From: CERT <notify@cert.example>\nSubject: Open DNS resolver on your network\nMessage-ID: <adv-1@cert.example>\n\n" +
			"The host 192.0.2.77 runs an open resolver that answers recursive queries from anyone.\n", "advisory"},
		{"customer", "From: ops@shop.example\nSubject: help\nMessage-ID: <cu-1@shop.example>\n\n" +
			"Our mail server 192.0.2.77 is being blocked by several providers. Please help us get delisted.\n", "customer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := e.in.Ingest(context.Background(), []byte(tc.mail), Source{Channel: "imap"})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Accepted) != 1 || len(out.Triaged) != 0 || out.Accepted[0].AccountID != "acct-shop" || out.Accepted[0].Category.Track() != abuse.Track(tc.track) {
				t.Fatalf("outcome %+v, want the report in acct-shop's case on the %s track", out, tc.track)
			}
			// The same about an address that is no customer's: a person decides.
			other := strings.ReplaceAll(strings.ReplaceAll(tc.mail, "192.0.2.77", "1.2.3.4"), "@", "+x@")
			out, err = e.in.Ingest(context.Background(), []byte(other), Source{Channel: "imap"})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Accepted) != 0 || len(out.Triaged) != 1 || !strings.HasPrefix(out.Triaged[0].Reason, tc.track+" track") {
				t.Fatalf("about no customer: %+v, want one triage ticket for the %s track", out, tc.track)
			}
			tk, _ := e.tickets.Get(out.Triaged[0].Ticket.ID)
			wantGroup := map[string]int64{"legal": 77, "customer": 88}[tc.track]
			if tk.GroupID != wantGroup || len(tk.Comments) != 1 || tk.Comments[0].Public {
				t.Errorf("triage ticket in group %d with %d comments, want group %d and one private note (no \"not ours\" answer)", tk.GroupID, len(tk.Comments), wantGroup)
			}
		})
	}
	e.settle(t)
	if len(e.cases.submits) != 3 {
		t.Errorf("%d cases opened, want 3: %v", len(e.cases.submits), e.cases.submits)
	}
}

// TestAutomatedReportIsAReport: a reporter's system marks its mail Auto-Submitted and
// Precedence: bulk; without one of our case numbers that is a report, not an auto-reply.
func TestAutomatedReportIsAReport(t *testing.T) {
	e := setup(t, 0)
	raw := []byte("From: sensor@ids.example\nSubject: Brute force attempts from 192.0.2.77\nMessage-ID: <ids-1@ids.example>\n" +
		"Auto-Submitted: auto-generated\nPrecedence: bulk\nX-Auto-Response-Suppress: All\n\n" +
		"Our sensor saw 420 failed login attempts (SSH) from 192.0.2.77 between 10:00 and 10:05 UTC.\n")
	out, err := e.in.Ingest(context.Background(), raw, Source{Channel: "imap"})
	if err != nil {
		t.Fatal(err)
	}
	if out.Kind != reports.KindReport || len(out.Accepted) != 1 || out.Accepted[0].AccountID != "acct-shop" || out.Accepted[0].Category != abuse.BruteForce {
		t.Fatalf("outcome %+v, want one brute-force report against acct-shop", out)
	}
}

// TestBounceWithoutACaseGoesToAPerson: automatic mail that answers none of our cases is not
// only logged: a person sees it.
func TestBounceWithoutACaseGoesToAPerson(t *testing.T) {
	e := setup(t, 0)
	raw := []byte("From: MAILER-DAEMON@mx.example\nSubject: Undelivered Mail Returned to Sender\nMessage-ID: <b-9@mx.example>\n\n" +
		"This is the mail system. Your message could not be delivered.\n")
	out, err := e.in.Ingest(context.Background(), raw, Source{Channel: "imap"})
	if err != nil {
		t.Fatal(err)
	}
	if out.Kind != reports.KindBounce || len(out.Triaged) != 1 || !strings.Contains(out.Triaged[0].Reason, "names none of our cases") {
		t.Fatalf("outcome %+v, want the bounce in triage", out)
	}
}

// TestStatusMailIsNoted: a reporting platform's status mail and an out-of-office that answer
// none of our cases ask nothing of anyone: no case, no triage ticket; each is listed on /intake
// as noted (its raw message kept).
func TestStatusMailIsNoted(t *testing.T) {
	e := setup(t, 0)
	var noted []HandOver
	e.in.cfg.OnHandOver = func(h HandOver) { noted = append(noted, h) }
	for _, mail := range []string{
		"From: Netcraft <noreply@netcraft.example>\nSubject: Your takedown request has been approved\nMessage-ID: <st-1@netcraft.example>\n\nYour request to take down https://phish.example.org/login (192.0.2.77) was approved.\n",
		"From: Jane <jane@customer.example>\nSubject: Out of office\nAuto-Submitted: auto-replied\nMessage-ID: <ooo-1@customer.example>\n\nI am away until Monday.\n",
	} {
		out, err := e.in.Ingest(context.Background(), []byte(mail), Source{Channel: "imap"})
		if err != nil || out.Kind != reports.KindAutoReply || len(out.Accepted) != 0 || len(out.Triaged) != 0 {
			t.Fatalf("outcome %+v %v; want an automatic message, no case, no triage", out, err)
		}
	}
	if len(noted) != 2 || noted[0].Kind != HandOverNoted || !noted[0].Ticket.IsZero() || !strings.Contains(noted[0].Reason, "status message") {
		t.Errorf("hand-overs %+v; want both noted, without a ticket, saying why", noted)
	}
	if e.tickets != nil && len(e.tickets.All()) != 0 {
		t.Errorf("%d tickets opened", len(e.tickets.All()))
	}
}

// TestNotificationFansOutPerAccount: one notification listing many sources becomes one report
// per source, grouped into one case per account (one delivery, so one notice), and the rows
// about no customer into one triage ticket and one answer to the reporter — not one per row.
func TestNotificationFansOutPerAccount(t *testing.T) {
	e := setup(t, 20*time.Millisecond)
	var notices []Notice
	e.in.cfg.OnNotice = func(n Notice) { notices = append(notices, n) }
	csv := "timestamp,src_ip,dst_port,login_attempts\n" +
		"2026-11-27 03:00:00,192.0.2.21,22,50\n2026-11-27 03:00:01,192.0.2.22,22,60\n2026-11-27 03:00:02,198.51.100.31,22,70\n" +
		"2026-11-27 03:00:03,1.2.3.4,22,80\n2026-11-27 03:00:04,5.6.7.8,22,90\n2026-11-27 03:00:05,9.9.9.9,22,99\n"
	raw := []byte("From: Feed <feed@honeypots.example>\r\nSubject: Honeypot events\r\nMessage-ID: <hp-1@honeypots.example>\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nAttached.\r\n" +
		"--b\r\nContent-Type: text/csv; name=\"event4_honeypot_brute_force.csv\"\r\nContent-Disposition: attachment; filename=\"event4_honeypot_brute_force.csv\"\r\n\r\n" + csv + "--b--\r\n")
	out, err := e.in.Ingest(context.Background(), raw, Source{Channel: "imap"})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Accepted) != 3 || len(out.Triaged) != 1 || !strings.HasPrefix(out.Triaged[0].Reason, "3 of 6 reports") {
		t.Fatalf("outcome %+v, want 3 accepted and one triage ticket for the 3 unknown rows", out)
	}
	// One notice for the transparency report, whatever its rows.
	if len(notices) != 1 || notices[0].Digest != out.Digest || notices[0].Reports != 3 || notices[0].Reporter != "feed@honeypots.example" || notices[0].Category != abuse.BruteForce {
		t.Errorf("notices %+v, want one for the message (%s), its 3 accepted reports, from the feed", notices, out.Digest)
	}
	e.settle(t)
	shop, bank := workflows.CaseWorkflowID("acct-shop", abuse.BruteForce), ""
	for id := range e.cases.submits {
		if id != shop {
			bank = id
		}
	}
	if b, n, _ := e.cases.reports(shop); b != 1 || n != 2 {
		t.Errorf("acct-shop's case got %d deliveries with %d reports, want 1 with 2", b, n)
	}
	if b, n, _ := e.cases.reports(bank); len(e.cases.submits) != 2 || b != 1 || n != 1 {
		t.Errorf("cases %v: the other account's case got %d deliveries with %d reports, want 1 with 1", len(e.cases.submits), b, n)
	}
	var triage, answers int
	for _, tk := range e.tickets.All() {
		switch {
		case slices.Contains(tk.Tags, TagTriage):
			triage++
		case slices.Contains(tk.Tags, TagNotOurs):
			answers++
			if body := tk.Comments[0].Body; !strings.Contains(body, "1.2.3.4, 5.6.7.8, 9.9.9.9") {
				t.Errorf("the answer lists %q", body)
			}
		}
	}
	if triage != 1 || answers != 1 {
		t.Errorf("%d triage tickets and %d answers, want one of each", triage, answers)
	}
}

// TestRangesAndNumbersFindTheirAccounts: a listing of a range reaches every customer in it,
// each in its own case; an SMS complaint reaches the account that owns the number.
func TestRangesAndNumbersFindTheirAccounts(t *testing.T) {
	e := setup(t, 0)
	out, err := e.in.Ingest(context.Background(), []byte("From: RBL <listings@rbl.example>\nSubject: Listing\nMessage-ID: <rbl-1@rbl.example>\n\n"+
		"The range 10.17.18.0/23 is listed for sending spam to our traps.\n"), Source{Channel: "imap"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range out.Accepted {
		got = append(got, a.AccountID)
	}
	slices.Sort(got)
	if !slices.Equal(got, []string{"acct-blaster", "acct-hosting"}) || out.Accepted[0].Category != abuse.Spam {
		t.Fatalf("a /23 listing reached %v, want acct-blaster and acct-hosting (%+v)", got, out)
	}
	out, err = e.in.Ingest(context.Background(), []byte("From: Carrier <7726@carrier.example>\nSubject: SMS spam report\nMessage-ID: <sms-1@carrier.example>\n\n"+
		"A subscriber forwarded this SMS spam to 7726. Sender: +44 7700 900123\n"), Source{Channel: "imap"})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Accepted) != 1 || out.Accepted[0].AccountID != "acct-shop" {
		t.Fatalf("the SMS complaint: %+v, want acct-shop (owner of +447700900123)", out)
	}
	// A person names their own number beside the sender's: only the customer's number is a
	// subject of its case (the complainant's never reaches the customer's notice).
	out, err = e.in.Ingest(context.Background(), []byte("From: Jane <jane@mail.example>\nSubject: Texts\nMessage-ID: <sms-2@mail.example>\n\n"+
		"My number is +44 7700 900999 and I keep getting spam texts from +44 7700 900123. Call me back on +44 7700 900999.\n"), Source{Channel: "imap"})
	if err != nil || len(out.Accepted) != 1 || out.Accepted[0].AccountID != "acct-shop" {
		t.Fatalf("the complaint naming the complainant's number: %+v %v", out, err)
	}
	subjects := delivered(t, e, out, "sms-2")
	if !slices.Equal(subjects, []abuse.Subject{{Kind: abuse.SubjectPhone, Value: "+447700900123"}}) {
		t.Errorf("the case's subjects %v, want the customer's number only", subjects)
	}
	// Texts through a gateway found by its address: the sending number nobody holds stays (the
	// API does not know it), another customer's number does not.
	out, err = e.in.Ingest(context.Background(), []byte("From: Jane <jane@mail.example>\nSubject: SMS gateway\nMessage-ID: <sms-3@mail.example>\n\n"+
		"Spam text messages from +44 7700 900555 and +1 312 555 0142, sent through your SMS gateway at 192.0.2.25.\n"), Source{Channel: "imap"})
	if err != nil || len(out.Accepted) != 1 || out.Accepted[0].AccountID != "acct-shop" {
		t.Fatalf("the gateway complaint: %+v %v", out, err)
	}
	subjects = delivered(t, e, out, "sms-3")
	if !slices.Contains(subjects, abuse.Subject{Kind: abuse.SubjectPhone, Value: "+447700900555"}) ||
		slices.Contains(subjects, abuse.Subject{Kind: abuse.SubjectPhone, Value: "+13125550142"}) {
		t.Errorf("the gateway case's subjects %v, want the unknown sending number and not Text Blast's", subjects)
	}
}

// delivered is what the case of an ingested message's one report got of it: the subjects of its
// report whose ID contains id, once intake has delivered it.
func delivered(t *testing.T, e *env, out *Outcome, id string) []abuse.Subject {
	t.Helper()
	e.settle(t)
	e.cases.mu.Lock()
	defer e.cases.mu.Unlock()
	var subjects []abuse.Subject
	for _, b := range e.cases.submits[out.Accepted[0].CaseID] {
		for _, r := range b {
			if strings.Contains(r.ID, id) {
				subjects = r.Subjects
			}
		}
	}
	return subjects
}

// TestReporterDrift: a reporter whose reports parsed and now fail three times in a row is
// drifting, the leads are told once, a readable report ends it, and the records survive a
// restart.
func TestReporterDrift(t *testing.T) {
	dir := t.TempDir()
	var alerts []ReporterHealth
	alert := func(_ context.Context, h ReporterHealth) error { alerts = append(alerts, h); return nil }
	rs, err := OpenReporters(filepath.Join(dir, "reporters.json"), alert, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := reports.New(reports.Options{})
	good := p.Parse([]byte("From: feed@cert.example\nSubject: scan\n\nPort scanning from 192.0.2.9.\n"))
	bad := p.Parse([]byte("From: feed@cert.example\nSubject: report\n\nNothing we can read.\n"))
	at := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	for i := range 3 {
		rs.record(context.Background(), good, outcomeParsed, at.Add(time.Duration(i)*time.Minute))
	}
	for i := range 4 {
		rs.record(context.Background(), bad, outcomeUnparseable, at.Add(time.Hour+time.Duration(i)*time.Minute))
	}
	if len(alerts) != 1 || alerts[0].Reporter != "cert.example" || alerts[0].FailStreak != 3 {
		t.Fatalf("alerts %+v, want one for cert.example after 3 failures", alerts)
	}
	snap := rs.Snapshot()
	if len(snap) != 1 || !snap[0].Drifting || snap[0].Parsed != 3 || snap[0].Unparseable != 4 || snap[0].LastError == "" {
		t.Fatalf("records %+v", snap)
	}
	rs.record(context.Background(), good, outcomeParsed, at.Add(2*time.Hour))
	if s := rs.Snapshot()[0]; s.Drifting || s.FailStreak != 0 {
		t.Errorf("after a readable report: %+v", s)
	}
	// A reporter that never parsed is not drifting: it was never read.
	for range 5 {
		rs.record(context.Background(), p.Parse([]byte("From: x@new.example\nSubject: ?\n\n?\n")), outcomeUnparseable, at)
	}
	if len(alerts) != 1 {
		t.Errorf("%d alerts, want still 1", len(alerts))
	}
	rs.Close()
	again, err := OpenReporters(filepath.Join(dir, "reporters.json"), alert, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if got := again.Snapshot(); len(got) != 2 || got[0].Reporter != "cert.example" && got[1].Reporter != "cert.example" {
		t.Errorf("after a restart: %+v", got)
	}
}

// countingLookup counts the look-ups a resolver makes of the demo enforcement API.
type countingLookup struct {
	*enforcement.Client
	ranges, single int
}

func (c *countingLookup) LookupRange(ctx context.Context, cidr string, at time.Time) ([]enforcement.Match, error) {
	c.ranges++
	return c.Client.LookupRange(ctx, cidr, at)
}

func (c *countingLookup) Lookup(ctx context.Context, q enforcement.Query) (*enforcement.Match, error) {
	c.single++
	return c.Client.Lookup(ctx, q)
}

// TestBigNotificationsResolveByBlock: a notification with many rows looks its addresses up
// per /24 — a block one account holds whole answers all its rows, a block nobody holds is not
// ours — and gives the same answers as the look-up per address.
func TestBigNotificationsResolveByBlock(t *testing.T) {
	api := enforcementapi.NewDemo("tok")
	srv := httptest.NewServer(api.Handler())
	defer srv.Close()
	c := &countingLookup{Client: enforcement.New(srv.URL, "tok")}
	rs := newResolver(c)
	var rr []reports.Report
	for i := range 60 {
		block := []string{"203.0.113.%d", "198.51.100.%d", "1.2.3.%d", "10.17.18.%d"}[i%4]
		rr = append(rr, reports.Report{ID: fmt.Sprint(i), SourceIPs: []string{fmt.Sprintf(block, 1+i)}})
	}
	known, err := rs.preresolve(context.Background(), rr)
	if err != nil {
		t.Fatal(err)
	}
	if c.ranges != 4 || c.single != 0 {
		t.Errorf("%d range and %d single look-ups, want 4 and 0", c.ranges, c.single)
	}
	answered := 0
	for _, r := range rr {
		p, _ := blockOfReport(r)
		acct, ok := known[p]
		if !ok {
			continue
		}
		answered++
		one, _, err := rs.resolve(context.Background(), r, nil)
		if err != nil {
			t.Fatal(err)
		}
		if want := strings.Join(one, ""); acct != want {
			t.Errorf("%s: by block %q, by address %q", r.SourceIPs[0], acct, want)
		}
	}
	if answered != 45 {
		t.Errorf("%d addresses answered by block, want 45 (the split 10.17.18.0/24 is left to single look-ups)", answered)
	}
	if few, _ := rs.preresolve(context.Background(), rr[:10]); few != nil {
		t.Error("a small notification was looked up by block")
	}
}

// TestFullDiskIsNotReady: a report refused because the journal's disk is full makes
// StorageError (and so /readyz) say so; once a report is stored again it clears.
func TestFullDiskIsNotReady(t *testing.T) {
	e := setup(t, 0)
	if err := e.in.StorageError(); err != nil {
		t.Fatalf("a fresh desk: %v", err)
	}
	j := e.in.journal
	f, err := os.OpenFile(j.path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	j.mu.Lock()
	disk := &fullDisk{f: f, limit: j.size + 10, size: j.size}
	j.f = disk
	j.mu.Unlock()
	if _, err := e.in.Ingest(context.Background(), fixture(t, "arf-quirks.eml"), Source{Channel: "api"}); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("a report on a full disk: %v, want ENOSPC", err)
	}
	if err := e.in.StorageError(); !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("after the refusal: %v, want not ready with ENOSPC", err)
	}
	disk.limit = 1 << 40
	if _, err := e.in.Ingest(context.Background(), fixture(t, "arf-quirks.eml"), Source{Channel: "api"}); err != nil {
		t.Fatal(err)
	}
	if err := e.in.StorageError(); err != nil {
		t.Errorf("after a stored report: %v, want ready", err)
	}
}

// TestNotOursFloodIsBounded: fifty messages from one reporter (or someone forging them) about
// an address nobody here holds become one triage ticket with fifty notes and one "not ours"
// answer; other reporters get their own, up to the hourly cap of answers.
func TestNotOursFloodIsBounded(t *testing.T) {
	e := setup(t, 0)
	mail := func(from string, i int) []byte {
		return fmt.Appendf(nil, "From: %s\nSubject: scan from 1.2.3.4\nMessage-ID: <flood-%d-%s>\n\nThe address 1.2.3.4 is scanning our ports (%d).\n", from, i, from, i)
	}
	for i := range 50 {
		if _, err := e.in.Ingest(context.Background(), mail("rep@victim.example", i), Source{Channel: "imap"}); err != nil {
			t.Fatal(err)
		}
	}
	count := func() (triage, answers, notes int) {
		for _, tk := range e.tickets.All() {
			tags := strings.Join(tk.Tags, " ")
			switch {
			case strings.Contains(tags, TagTriage):
				triage++
				notes += len(tk.Comments)
			case strings.Contains(tags, TagNotOurs):
				answers++
			}
		}
		return
	}
	if triage, answers, notes := count(); triage != 1 || answers != 1 || notes != 50 {
		t.Errorf("one reporter, 50 messages: %d triage tickets with %d notes, %d answers; want 1 with 50, and 1", triage, notes, answers)
	}
	e.in.notOurs.perHour = 3 // one answer went out already
	for i, from := range []string{"a@one.example", "b@two.example", "c@three.example"} {
		if _, err := e.in.Ingest(context.Background(), mail(from, i), Source{Channel: "imap"}); err != nil {
			t.Fatal(err)
		}
	}
	if triage, answers, _ := count(); triage != 4 || answers != 3 {
		t.Errorf("three more reporters with a cap of 3 answers an hour: %d triage tickets, %d answers; want 4 and 3", triage, answers)
	}
}

// TestEachLegalRequestIsItsOwnCase: two police requests about one account are two matters (each
// with its own due time and decisions); two spam complaints share the account's case.
func TestEachLegalRequestIsItsOwnCase(t *testing.T) {
	e := setup(t, 0)
	var ids []string
	for i, mail := range []string{
		"From: cyber@police.example\nSubject: Preservation request\nMessage-ID: <lr-a@police.example>\n\nUnder 18 U.S.C. 2703(f) preserve the records of 192.0.2.77.\n",
		"From: court@court.example\nSubject: Court order\nMessage-ID: <lr-b@court.example>\n\nThis court order requires the subscriber records of 192.0.2.77.\n",
		"From: a@victim.example\nSubject: spam\nMessage-ID: <sp-a@victim.example>\n\nSpam from 192.0.2.77 again.\n",
		"From: b@victim.example\nSubject: spam\nMessage-ID: <sp-b@victim.example>\n\nMore spam from 192.0.2.77.\n",
		// The same detective's production order, weeks later: it joins the open matter.
		"From: Cyber Unit <Cyber@Police.example>\nSubject: Production order\nMessage-ID: <lr-c@police.example>\n\nThe court order for the records of 192.0.2.77 you preserved is attached.\n",
	} {
		out, err := e.in.Ingest(context.Background(), []byte(mail), Source{Channel: "imap"})
		if err != nil || len(out.Accepted) != 1 {
			t.Fatalf("mail %d: %+v %v", i, out, err)
		}
		ids = append(ids, out.Accepted[0].CaseID)
	}
	if ids[0] == ids[1] || !strings.HasPrefix(ids[0], workflows.CaseWorkflowID("acct-shop", abuse.LegalRequest)+"/") {
		t.Errorf("legal requests went to %s and %s, want a case each", ids[0], ids[1])
	}
	if ids[2] != ids[3] || ids[2] != workflows.CaseWorkflowID("acct-shop", abuse.Spam) {
		t.Errorf("spam went to %s and %s, want the account's one spam case", ids[2], ids[3])
	}
	if ids[4] != ids[0] || strings.Contains(ids[0], "police") {
		t.Errorf("the same sender's order went to %s, the request to %s; want one matter, its ID naming no one", ids[4], ids[0])
	}
	e.settle(t)
	for id, want := range map[string]int{ids[0]: 2, ids[1]: 1} {
		if _, total, _ := e.cases.reports(id); total != want {
			t.Errorf("%s got %d reports, want %d", id, total, want)
		}
	}
	if acct, cat, ok := workflows.ParseCaseWorkflowID(ids[0]); !ok || acct != "acct-shop" || cat != abuse.LegalRequest {
		t.Errorf("ParseCaseWorkflowID(%s) = %s %s %v", ids[0], acct, cat, ok)
	}
}

// TestLegalReporterStaysWithTheLegalTeam: a reporter whose message reads as a legal matter is
// marked so (the dashboard shows it to the legal team only) and counted on /metrics under
// "legal", never under its own name.
func TestLegalReporterStaysWithTheLegalTeam(t *testing.T) {
	m := metrics.New("test")
	rs, err := OpenReporters(filepath.Join(t.TempDir(), "reporters.json"), nil, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	res := reports.New(reports.Options{}).Parse([]byte("From: Det. Jane Roe <jane.roe@police.example>\nSubject: Preservation request - reference 2026-7001\n\n" +
		"Pursuant to 18 U.S.C. 2703(f) we request that you preserve all records associated with the IP address 192.0.2.10\n" +
		"for the period 1 to 28 February 2026, pending legal process. Please do NOT disclose this request to the subscriber.\n"))
	if len(res.Reports) == 0 || res.Reports[0].Category.Track() != abuse.TrackLegal {
		t.Fatalf("the police request reads as %+v, want a legal matter", res.Reports)
	}
	rs.record(context.Background(), res, outcomeParsed, time.Now())
	if snap := rs.Snapshot(); len(snap) != 1 || !snap[0].Legal {
		t.Errorf("records %+v, want the police force marked legal", snap)
	}
	families, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var series []string
	for _, f := range families {
		if f.GetName() != "desk_reporter_messages_total" {
			continue
		}
		for _, s := range f.GetMetric() {
			for _, l := range s.GetLabel() {
				if l.GetName() == "reporter" {
					series = append(series, fmt.Sprintf("%s=%v", l.GetValue(), s.GetCounter().GetValue()))
				}
			}
		}
	}
	if len(series) != 1 || series[0] != "legal=1" {
		t.Errorf("reporter series on /metrics %v, want one message under legal and no police force", series)
	}
}

// TestOneCustomerPerReport: a notice naming sources of two customers is split: each customer's
// case gets a report with its own addresses only, and a summary that names no other
// customer's address; nothing is held back as "sources of several accounts".
func TestOneCustomerPerReport(t *testing.T) {
	e := setup(t, 0)
	out, err := e.in.Ingest(context.Background(), []byte("From: CERT <cert@cert.example>\nSubject: Compromised hosts in your network\nMessage-ID: <cert-2@cert.example>\n\n"+
		"The following hosts in your network are compromised and send spam: 192.0.2.25 and 198.51.100.20 (seen 2026-12-06 23:10 UTC).\n"), Source{Channel: "imap"})
	if err != nil {
		t.Fatal(err)
	}
	byAcct := map[string]string{}
	for _, a := range out.Accepted {
		byAcct[a.AccountID] = a.CaseID
	}
	if len(byAcct) != 2 || byAcct["acct-shop"] == "" || byAcct["acct-bank"] == "" {
		t.Fatalf("accepted %+v; want one report for acct-shop and one for acct-bank", out.Accepted)
	}
	e.settle(t)
	for acct, own := range map[string]string{"acct-shop": "192.0.2.25", "acct-bank": "198.51.100.20"} {
		e.cases.mu.Lock()
		batches := e.cases.submits[byAcct[acct]]
		e.cases.mu.Unlock()
		if len(batches) != 1 || len(batches[0]) != 1 {
			t.Fatalf("%s got %v, want one report", acct, batches)
		}
		r := batches[0][0]
		other := map[string]string{"192.0.2.25": "198.51.100.20", "198.51.100.20": "192.0.2.25"}[own]
		if !slices.Equal(r.Subjects, []abuse.Subject{{Kind: abuse.SubjectIP, Value: own}}) || strings.Contains(r.Summary, other) || len(r.OtherAccounts) != 0 {
			t.Errorf("%s's report: subjects %v, summary %q, others %v; want its own address only", acct, r.Subjects, r.Summary, r.OtherAccounts)
		}
		// Every customer-facing text, rendered for the case this report is in, names this
		// customer's address and never the other's.
		tmpl, err := templates.New()
		if err != nil {
			t.Fatal(err)
		}
		at := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
		d := workflows.NoticeData{CaseID: byAcct[acct], CaseNumber: "TS-7F3K2QXM4B", Account: abuse.Account{ID: acct, Name: acct, ContactEmail: "ops@" + acct + ".example"},
			Category: r.Category, CategoryTitle: r.Category.Title(), Track: "standard", Deadline: at.Add(72 * time.Hour), Window: 72 * time.Hour,
			Reports:     workflows.ReportDigest{Count: 1, FirstSeen: at, LastSeen: at, Reporters: 1, Examples: []workflows.ReportSummary{r}},
			Action:      workflows.ActionView{Type: abuse.ActionThrottle, Level: 1, Description: abuse.ActionThrottle.Describe(1), ID: "act-1", AppliedAt: at},
			AppealUntil: at.Add(14 * 24 * time.Hour), Reasons: workflows.StatementReasons{Ground: "our terms", OutOfCourt: "a board", Judicial: "the courts", Detected: true, Notices: 1},
			Reinstatement: &workflows.ReinstatementNotice{RequestedAt: at, Due: at.Add(72 * time.Hour)}}
		rendered := 0
		for _, name := range tmpl.Names() {
			kind, _, _ := strings.Cut(name, "/")
			if slices.ContainsFunc([]string{"note_", "macro_", "intake_", "partials", "slack_", "legal_", "reporter_ack", "triage_"}, func(p string) bool { return strings.HasPrefix(kind, p) }) {
				continue // internal, the authority's or the reporter's: not the customer's
			}
			out, err := tmpl.Render(kind, string(r.Category), "en", d)
			if err != nil {
				continue // a kind this data does not fit (its own tests render it)
			}
			rendered++
			if strings.Contains(out, other) {
				t.Errorf("%s's %s names the other customer's address %s:\n%s", acct, kind, other, out)
			}
		}
		t.Logf("%s: %d customer-facing templates rendered", acct, rendered)
		if rendered < 10 {
			t.Errorf("only %d customer-facing templates rendered", rendered)
		}
	}
}

// TestEveryOwnURLIsKept: a report listing several URLs keeps each one on the account's own hosts
// (names or addresses) for its case — a takedown removes each, a check looks at each — and
// leaves out those on another customer's host or on nobody's.
func TestEveryOwnURLIsKept(t *testing.T) {
	e := setup(t, 0)
	out, err := e.in.Ingest(context.Background(), []byte("From: Hotline <analyst@hotline.example>\nSubject: Phishing pages on your network\nMessage-ID: <urls-1@hotline.example>\n\n"+
		"We found phishing pages at these locations:\n"+
		"http://www.shop.example/a/login.php\nhttp://192.0.2.10/b/login.php\nhttps://bank.example/c/login.php\nhttp://nobody.invalid/d\nhttp://www.shop.example/e/verify\n"), Source{Channel: "imap"})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Accepted) != 1 || out.Accepted[0].AccountID != "acct-shop" {
		t.Fatalf("accepted %+v; want one report for acct-shop", out.Accepted)
	}
	e.settle(t)
	e.cases.mu.Lock()
	batches := e.cases.submits[out.Accepted[0].CaseID]
	e.cases.mu.Unlock()
	if len(batches) != 1 || len(batches[0]) != 1 {
		t.Fatalf("got %v, want one report", batches)
	}
	var urls []string
	for _, s := range batches[0][0].Subjects {
		if s.Kind == abuse.SubjectURL {
			urls = append(urls, s.Value)
		}
	}
	want := []string{"http://www.shop.example/a/login.php", "http://192.0.2.10/b/login.php", "http://www.shop.example/e/verify"}
	if !slices.Equal(urls, want) {
		t.Errorf("the case keeps URLs %v, want the shop's own %v", urls, want)
	}
}

// TestSameEvidenceHasOneContentKey: the same complaint sent again with a new Message-ID and a
// "Fwd:" subject carries the same content key; another time, another address or another
// subject does not.
func TestSameEvidenceHasOneContentKey(t *testing.T) {
	e := setup(t, 0)
	key := func(msgID, subject, body string) string {
		t.Helper()
		out, err := e.in.Ingest(context.Background(), []byte("From: Abuse Desk <abuse@isp.example>\nSubject: "+subject+"\nMessage-ID: <"+msgID+">\n\n"+body), Source{Channel: "imap"})
		if err != nil || len(out.Accepted) != 1 {
			t.Fatalf("%s: %+v %v", msgID, out, err)
		}
		e.settle(t)
		e.cases.mu.Lock()
		defer e.cases.mu.Unlock()
		for _, batch := range e.cases.submits[out.Accepted[0].CaseID] {
			for _, r := range batch {
				if r.ID == msgID {
					return r.Content
				}
			}
		}
		t.Fatalf("%s never reached its case", msgID)
		return ""
	}
	body := "Spam from 192.0.2.25 at 2026-12-06 23:10:00 UTC to our users.\n"
	first := key("k-1@isp.example", "Spam from your network", body)
	again := key("k-2@isp.example", "Fwd: Spam from your network", body)
	later := key("k-3@isp.example", "Spam from your network", "Spam from 192.0.2.25 at 2026-12-06 23:40:00 UTC to our users.\n")
	other := key("k-4@isp.example", "Spam from your network", "Spam from 192.0.2.26 at 2026-12-06 23:10:00 UTC to our users.\n")
	retitled := key("k-5@isp.example", "More spam from your network", body)
	if first == "" || again != first {
		t.Errorf("the same evidence re-sent: keys %q and %q, want one", first, again)
	}
	if later == first || other == first || retitled == first {
		t.Errorf("other evidence shares the key: later %q, other %q, another subject %q, first %q", later, other, retitled, first)
	}
}
