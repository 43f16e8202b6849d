// Package intake turns incoming mail — from the IMAP mailbox, the Zendesk intake group or the
// HTTP API — into case traffic: it keeps the raw message in the evidence store, parses it,
// finds the account behind each report through the enforcement API, and delivers the reports
// to their cases in batches (one SignalWithStart per case per batch). A report is accepted once
// it is in the intake journal on disk; delivery follows in the background and survives a
// restart. Customers' replies go to their case; anything that cannot be read or attributed goes
// to a triage ticket with the raw mail attached. Nothing is dropped: Ingest returns an error
// only when the message must be offered again (a service was unavailable, or intake is full),
// and then nothing was half-done that a retry could double.
package intake

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"abusedesk/activities"
	"abusedesk/app/cases"
	"abusedesk/domain/abuse"
	"abusedesk/domain/fault"
	"abusedesk/domain/policy"
	"abusedesk/domain/ticket"
	"abusedesk/integrations/enforcement"
	"abusedesk/integrations/reports"
	"abusedesk/platform/durable"
	"abusedesk/platform/metrics"
	"abusedesk/templates"
	"abusedesk/workflows"
)

// Lookup finds accounts (the enforcement API).
type Lookup interface {
	Lookup(ctx context.Context, q enforcement.Query) (*enforcement.Match, error)
	LookupRange(ctx context.Context, cidr string, at time.Time) ([]enforcement.Match, error)
	GetAccount(ctx context.Context, id string) (*abuse.Account, error)
}

// Cases delivers to cases.
type Cases interface {
	Submit(ctx context.Context, caseID string, in workflows.CaseInput, batch []workflows.ReportSummary) (string, error)
	Reply(ctx context.Context, caseID string, r workflows.CustomerReply) error
	FindByNumber(ctx context.Context, number string) (*cases.Summary, error)
	// Reinstate takes a message about a closed case whose action stands as a request for
	// reinstatement (cases.ErrNotReinstatable when there is nothing to lift).
	Reinstate(ctx context.Context, sum *cases.Summary, msg workflows.CustomerReply) error
}

// Tickets opens triage tickets and notes (the ticketing port; Zendesk in production).
type Tickets interface {
	FindTicket(ctx context.Context, externalID string) (*ticket.Ticket, error)
	CreateTicket(ctx context.Context, t ticket.New) (*ticket.Ticket, error)
	UpdateTicket(ctx context.Context, ref ticket.Ref, u ticket.Update) error
	Upload(ctx context.Context, filename, contentType string, data []byte) (string, error)
}

// Evidence keeps raw messages by digest (evidence.Store): Write stores, Flush makes what was
// written durable.
type Evidence interface {
	Write(raw []byte) (string, error)
	Flush() error
	Get(ctx context.Context, digest string) ([]byte, error)
}

// sharedFlush is an evidence store whose file-system-wide flush can make the journal durable
// too, so a report costs one flush, not two.
type sharedFlush interface {
	Group() *durable.Group
	Dir() string
}

// Config tunes intake.
type Config struct {
	Policy *policy.Policy
	// BatchWindow is how long reports for one case are gathered before they are delivered (0:
	// as soon as a delivery slot is free); BatchMax delivers a batch as soon as it is this big
	// (1: one SignalWithStart per report); MaxInFlight bounds the deliveries under way at
	// once. Defaults: 0, 500, 32.
	BatchWindow time.Duration
	BatchMax    int
	MaxInFlight int
	// Yield holds deliveries back while the worker in this process is behind (zero: never).
	Yield Yield
	// JournalDir holds the journal of accepted, undelivered reports (required).
	JournalDir string
	// MaxQueued is how many undelivered reports intake holds before it answers "busy"
	// (default 200,000).
	MaxQueued int
	// Parser options (limits, account headers).
	Parser reports.Options
	// Templates render the texts intake writes: triage tickets, notes, answers to reporters
	// (required).
	Templates *templates.Renderer
	// Reporters keeps each reporter's parser health (nil: not kept).
	Reporters *Reporters
	// OnHandOver, when set, hears of each message intake handed to a person (a triage ticket,
	// or a note on one) and each "not ours" answer it sent, so the dashboard can list them.
	// It may hear of one twice (a message offered again).
	OnHandOver func(HandOver)
	// OnNotice, when set, hears of each message whose reports went to cases, once it is
	// accepted: the transparency report counts notices by message, whatever its rows. It may
	// hear of one twice (a message offered again).
	OnNotice func(Notice)
	// LegalGroupID and SupportGroupID place the triage tickets of legal-track and
	// customer-track messages that name no customer (0: the desk's group).
	LegalGroupID, SupportGroupID int64
	Log                          *slog.Logger
	Metrics                      *metrics.Metrics
}

// Intake is the intake pipeline. Make it with New.
type Intake struct {
	cfg      Config
	parser   *reports.Parser
	lookup   *resolver
	cases    Cases
	tickets  Tickets
	evidence Evidence
	journal  *journal
	batch    *batcher
	log      *slog.Logger

	notOurs notOursLimit

	fullMu sync.Mutex
	full   time.Time // the last write that failed for lack of space
	fullE  error
}

// fullWindow is how long a write that failed for lack of space keeps the desk not ready (the
// next write that succeeds clears it sooner).
const fullWindow = time.Minute

// StorageError is the last failure to store a report for lack of space, within the last
// minute and not followed by a success; nil otherwise. /readyz reports it.
func (in *Intake) StorageError() error {
	in.fullMu.Lock()
	defer in.fullMu.Unlock()
	if in.fullE == nil || time.Since(in.full) > fullWindow {
		return nil
	}
	return fmt.Errorf("reports cannot be stored (since %s): %w", in.full.UTC().Format(time.RFC3339), in.fullE)
}

// noteStorage records the outcome of storing a message.
func (in *Intake) noteStorage(err error) {
	in.fullMu.Lock()
	defer in.fullMu.Unlock()
	switch {
	case err == nil:
		in.fullE = nil
	case durable.DiskFull(err):
		if in.fullE == nil {
			in.full = time.Now()
		}
		in.fullE = err
	}
}

// New wires the pipeline, opens the journal and starts delivering the reports a previous run
// accepted and did not deliver.
func New(cfg Config, lookup Lookup, c Cases, t Tickets, ev Evidence) (*Intake, error) {
	cfg.BatchWindow = max(cfg.BatchWindow, 0)
	if cfg.BatchMax <= 0 {
		cfg.BatchMax = 500
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = 32
	}
	if cfg.MaxQueued <= 0 {
		cfg.MaxQueued = 200_000
	}
	if cfg.JournalDir == "" {
		return nil, errors.New("intake: no journal directory")
	}
	if cfg.Templates == nil {
		return nil, errors.New("intake: no templates")
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Parser.FindCaseNumber == nil {
		cfg.Parser.FindCaseNumber = workflows.FindCaseNumber
	}
	in := &Intake{cfg: cfg, parser: reports.New(cfg.Parser), lookup: newResolver(lookup), cases: c, tickets: t, evidence: ev, log: cfg.Log.With("component", "intake")}
	var shared *durable.Group
	if sf, ok := ev.(sharedFlush); ok && sf.Group() != nil {
		if err := os.MkdirAll(cfg.JournalDir, 0o750); err == nil && sameFileSystem(sf.Dir(), cfg.JournalDir) {
			shared = sf.Group()
		}
	}
	j, pending, err := openJournal(cfg.JournalDir, shared)
	if err != nil {
		return nil, err
	}
	in.journal = j
	for _, r := range j.Recovered {
		in.log.Error("intake journal repaired on start", "journal", j.path, "found", r)
	}
	input := func(account string, c abuse.Category) workflows.CaseInput {
		return workflows.CaseInput{AccountID: account, Category: c, Policy: cfg.Policy.Snapshot(c)}
	}
	in.batch = newBatcher(c.Submit, input, j, in.refused, cfg.BatchWindow, cfg.BatchMax, cfg.MaxInFlight, cfg.MaxQueued, cfg.Metrics, in.log)
	in.batch.yield = cfg.Yield
	if len(pending) > 0 {
		in.log.Info("delivering reports accepted before the last stop", "reports", len(pending))
		in.batch.enqueue(pending, true)
	}
	return in, nil
}

// refused sends a report Temporal will never take to triage, so a person sees it.
func (in *Intake) refused(q *queued, cause error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	raw, err := in.evidence.Get(ctx, q.Report.Evidence)
	if err != nil {
		in.log.Error("a refused report's raw message is unreadable; the journal and the log keep it", "report_id", q.Report.ID, "error", err)
		return
	}
	res := in.parser.Parse(raw)
	if _, err := in.triage(ctx, raw, res, "Temporal refused the report: "+cause.Error(), q.Report.ID); err != nil {
		in.log.Error("a refused report could not be triaged", "report_id", q.Report.ID, "error", err)
	}
}

// Source says where a message came from.
type Source struct {
	// Channel is "imap", "api" or "zendesk".
	Channel    string
	ReceivedAt time.Time
	// ReportID overrides the report ID (a Zendesk intake ticket is its own report).
	ReportID string
	// Admitted says the caller already passed Admit before reading the message.
	Admitted bool
}

// Accepted is one report accepted for its case: the open case of an account and category
// (CaseID), which the report joins or opens. The incident's case number is given when the case
// opens (in the reporter's acknowledgement and on the case page), not here: a report is accepted
// before it reaches its case.
type Accepted struct {
	ReportID  string         `json:"report_id"`
	CaseID    string         `json:"case_id"`
	AccountID string         `json:"account_id"`
	Category  abuse.Category `json:"category"`
}

// Triaged is a message (or report) handed to a person.
type Triaged struct {
	Ticket   ticket.Ref `json:"ticket"`
	Reason   string     `json:"reason"`
	ReportID string     `json:"report_id,omitempty"`
}

// Outcome is what happened to one message.
type Outcome struct {
	Kind     reports.Kind `json:"kind"`
	Digest   string       `json:"digest"`
	Accepted []Accepted   `json:"accepted,omitempty"`
	Triaged  []Triaged    `json:"triaged,omitempty"`
	// CaseID of a reply delivered to its case.
	ReplyTo string `json:"reply_to,omitempty"`
	// Note says what was done when nothing above says it (an auto-reply recorded, say).
	Note string `json:"note,omitempty"`
}

// Admit says whether a message would be let in now — before it is read: while the cases catch
// up (ErrSlowDown) or the queue is full (ErrBusy), refusing a request before its body is read
// and parsed keeps a storm of clients that ignore Retry-After from eating the time reports
// need. Pass Source.Admitted to Ingest after it.
func (in *Intake) Admit() error {
	if in.batch.full() {
		in.count("held", "api")
		return ErrBusy
	}
	if err := in.batch.admit(); err != nil {
		in.count("held", "api")
		return err
	}
	return nil
}

// Ingest handles one raw message. An error means nothing was lost but the message must be
// offered again later (a service was unavailable); the work already done is idempotent.
func (in *Intake) Ingest(ctx context.Context, raw []byte, src Source) (*Outcome, error) {
	if src.ReceivedAt.IsZero() {
		src.ReceivedAt = time.Now().UTC()
	}
	res := in.parser.Parse(raw)
	if res.Kind == reports.KindReport && !src.Admitted {
		// Reports may be held back while the cases catch up; replies never are.
		if err := in.batch.admit(); err != nil {
			in.count("held", src.Channel)
			return nil, err
		}
	}
	digest, err := in.evidence.Write(raw)
	in.noteStorage(err)
	if err != nil {
		return nil, fmt.Errorf("store the raw message: %w", err)
	}
	// The raw message is durable before anything names its digest: for reports the journal's
	// flush covers it when both share a file system, otherwise it is flushed now.
	if res.Kind != reports.KindReport || in.journal.shared == nil {
		if err := in.evidence.Flush(); err != nil {
			return nil, fmt.Errorf("store the raw message: %w", err)
		}
	}
	out := &Outcome{Kind: res.Kind, Digest: digest}
	in.count(string(res.Kind), src.Channel)
	switch res.Kind {
	case reports.KindReport:
		err = in.reports(ctx, raw, res, src, out)
	case reports.KindReply, reports.KindAutoReply, reports.KindBounce:
		err = in.reply(ctx, raw, res, src, out)
	default:
		var t *Triaged
		if t, err = in.triage(ctx, raw, res, "unparseable: "+res.Error, ""); err == nil {
			out.Triaged = append(out.Triaged, *t)
		}
	}
	if err != nil {
		return nil, err
	}
	outcome := outcomeParsed
	switch {
	case res.Kind == reports.KindUnparseable:
		outcome = outcomeUnparseable
	case len(out.Accepted) == 0:
		outcome = outcomeTriaged
	}
	in.cfg.Reporters.record(ctx, res, outcome, src.ReceivedAt)
	if len(out.Accepted) > 0 && in.cfg.OnNotice != nil {
		first := res.Reports[0]
		in.cfg.OnNotice(Notice{Digest: digest, At: src.ReceivedAt, Reporter: first.Reporter, Category: out.Accepted[0].Category, Reports: len(out.Accepted)})
	}
	return out, nil
}

// Notice is a message whose reports went to cases: one notice, whatever its rows.
type Notice struct {
	Digest   string
	At       time.Time
	Reporter string
	Category abuse.Category
	Reports  int
}

// reports resolves each report of a message and accepts it for its case (in the journal).
func (in *Intake) reports(ctx context.Context, raw []byte, res *reports.Result, src Source, out *Outcome) error {
	var items []*queued
	var accepted []Accepted
	other := map[abuse.Track][]reports.Report{}
	var unresolved []reports.Report // about no customer's address
	var reasons []string
	var ops []operationsItem // the blocklist watch's listings that are no customer's
	known, err := in.lookup.preresolve(ctx, res.Reports)
	if err != nil {
		return err
	}
	for i, r := range res.Reports {
		if src.ReportID != "" {
			r.ID = src.ReportID
			if len(res.Reports) > 1 {
				r.ID = fmt.Sprintf("%s#%d", src.ReportID, i+1)
			}
		}
		if src.Channel == ChannelMonitor && in.infrastructure(r) {
			ops = append(ops, operationsItem{r, "a listing of our own infrastructure (the policy's monitoring.infrastructure)"})
			continue
		}
		accounts, reason, err := in.lookup.resolve(ctx, r, known)
		if err != nil {
			return fmt.Errorf("resolve the account of report %s: %w", r.ID, err)
		}
		if len(accounts) == 0 {
			if src.Channel == ChannelMonitor {
				ops = append(ops, operationsItem{r, "a listing of unassigned space: " + strings.TrimPrefix(reason, "not ours: ")})
				continue
			}
			if r.Track != "" && !r.Track.Violation() {
				// A legal, advisory or customer matter about no customer of ours: a person
				// decides (one ticket per message and track), and nobody is told "not ours".
				other[r.Track] = append(other[r.Track], r)
				continue
			}
			unresolved = append(unresolved, r)
			reasons = append(reasons, reason)
			continue
		}
		// A report naming sources of several customers (a CERT's list in prose) is split per
		// account: each gets its own addresses, and none another's.
		if len(accounts) == 1 && !r.Track.Confidential() {
			parts, err := in.lookup.splitByAccount(ctx, r)
			if err != nil {
				return fmt.Errorf("resolve the accounts of report %s: %w", r.ID, err)
			}
			if len(parts) > 1 {
				for _, part := range parts {
					sum := summary(part.report, src)
					caseID := workflows.CaseIDFor(part.account, part.report.Category, workflows.MatterKey(part.report.Reporter, part.report.ID))
					items = append(items, &queued{Account: part.account, Category: part.report.Category, Report: sum})
					accepted = append(accepted, Accepted{ReportID: part.report.ID, CaseID: caseID, AccountID: part.account, Category: part.report.Category})
				}
				continue
			}
		}
		// Legal, advisory and customer matters go to their account's case too: each track
		// has its own lifecycle there (workflows/case_tracks.go).
		if len(accounts) == 1 {
			if err := in.lookup.ownSenders(ctx, &r, accounts[0]); err != nil {
				return fmt.Errorf("resolve the accounts of report %s: %w", r.ID, err)
			}
		}
		sum := summary(r, src)
		if len(accounts) == 1 {
			if sum.OtherAccounts, err = in.lookup.otherAccounts(ctx, r, accounts[0]); err != nil {
				return fmt.Errorf("resolve the accounts of report %s: %w", r.ID, err)
			}
			// Every reported URL on the account's own hosts, not only the first: a takedown
			// removes each one, a check looks at each one.
			own, err := in.lookup.ownURLs(ctx, r, accounts[0])
			if err != nil {
				return fmt.Errorf("resolve the accounts of report %s: %w", r.ID, err)
			}
			for _, u := range own {
				sum.Subjects = append(sum.Subjects, abuse.Subject{Kind: abuse.SubjectURL, Value: u})
			}
		}
		// A range names every customer in it: the report goes to each one's case.
		for _, account := range accounts {
			caseID := workflows.CaseIDFor(account, r.Category, workflows.MatterKey(r.Reporter, r.ID))
			items = append(items, &queued{Account: account, Category: r.Category, Report: sum})
			accepted = append(accepted, Accepted{ReportID: r.ID, CaseID: caseID, AccountID: account, Category: r.Category})
		}
	}
	if err := in.unresolved(ctx, raw, res, unresolved, reasons, out); err != nil {
		return err
	}
	if err := in.operations(ctx, raw, res, ops, out); err != nil {
		return err
	}
	for _, track := range abuse.Tracks {
		held := other[track]
		if len(held) == 0 {
			continue
		}
		var cats []string
		for _, r := range held {
			if !slices.Contains(cats, string(r.Category)) {
				cats = append(cats, string(r.Category))
			}
		}
		reason := fmt.Sprintf("%s track (%s), %d report(s) about no customer account of ours: a person decides", track, strings.Join(cats, ", "), len(held))
		group := int64(0)
		switch track {
		case abuse.TrackLegal:
			group = in.cfg.LegalGroupID
		case abuse.TrackCustomer:
			group = in.cfg.SupportGroupID
		}
		t, err := in.triageIn(ctx, raw, &reports.Result{Digest: res.Digest, Subject: res.Subject, From: res.From, Reports: held}, reason, "track:"+string(track), group)
		if err != nil {
			return err
		}
		out.Triaged = append(out.Triaged, *t)
	}
	if len(items) == 0 && in.journal.shared != nil {
		return in.evidence.Flush() // no journal write to cover the raw message
	}
	err = in.batch.accept(items)
	in.noteStorage(err)
	if err != nil {
		return err
	}
	out.Accepted = append(out.Accepted, accepted...)
	return nil
}

// summary is what a case keeps of a report.
func summary(r reports.Report, src Source) workflows.ReportSummary {
	var subj []abuse.Subject
	add := func(kind abuse.SubjectKind, vs []string, n int) {
		for i, v := range vs {
			if i == n || len(subj) >= 6 {
				return
			}
			if len(v) > 160 {
				v = reports.OneLine(v, 160)
			}
			subj = append(subj, abuse.Subject{Kind: kind, Value: v})
		}
	}
	add(abuse.SubjectIP, r.SourceIPs, 2)
	add(abuse.SubjectURL, r.URLs, 1)
	add(abuse.SubjectDomain, r.Domains, 2)
	add(abuse.SubjectSender, r.Senders, 1)
	add(abuse.SubjectRange, r.Ranges, 1)
	add(abuse.SubjectPhone, r.Phones, 1)
	add(abuse.SubjectSenderID, r.SenderIDs, 1)
	add(abuse.SubjectCampaign, r.Campaigns, 1)
	add(abuse.SubjectBrand, r.Brands, 1)
	add(abuse.SubjectService, r.Services, 1)
	if r.FeedbackID != "" {
		subj = append(subj, abuse.Subject{Kind: abuse.SubjectFeedbackID, Value: r.FeedbackID})
	}
	received := r.ReceivedAt
	if received.IsZero() {
		received = src.ReceivedAt
	}
	return workflows.ReportSummary{
		ID: r.ID, Format: r.Format, Category: r.Category, Severity: r.Severity, Reporter: r.Reporter,
		ReceivedAt: received.UTC(), EventTime: r.EventTime.UTC(), Subjects: subj, Evidence: r.Digest,
		Summary: reports.OneLine(r.Summary, 160), Confidence: r.Confidence, Language: r.Language, Content: contentKey(r),
		LegalKind: r.LegalKind, Deadline: r.Deadline,
	}
}

// reply delivers a customer's message to its case; one about a closed case is noted on the
// case's ticket; one naming no case we know goes to triage, so nothing is only logged.
func (in *Intake) reply(ctx context.Context, raw []byte, res *reports.Result, src Source, out *Outcome) error {
	r := res.Reply
	if r.CaseNumber == "" && res.Kind == reports.KindAutoReply {
		// An automatic message (an out-of-office, a platform's status mail) that answers none
		// of our cases asks nothing of anyone: it is kept (the evidence store has it) and
		// listed on /intake, without a ticket.
		in.count("noted", "")
		in.log.Info("automatic message noted", "reason", r.Why, "from", res.From, "digest", res.Digest)
		in.handedOver(HandOverNoted, ticket.Ref{}, "an automatic message that answers none of our cases: "+cmp.Or(r.Why, "no case number"), res, "")
		return nil
	}
	if r.CaseNumber == "" {
		t, err := in.triage(ctx, raw, res, string(res.Kind)+" that names none of our cases ("+cmp.Or(r.Why, res.Error, "no case number")+")", "")
		if err == nil {
			out.Triaged = append(out.Triaged, *t)
		}
		return err
	}
	sum, err := in.cases.FindByNumber(ctx, r.CaseNumber)
	if err != nil {
		return fmt.Errorf("find case %s: %w", r.CaseNumber, err)
	}
	if sum == nil {
		t, err := in.triage(ctx, raw, res, "a reply naming case "+r.CaseNumber+", which does not exist", "")
		if err == nil {
			out.Triaged = append(out.Triaged, *t)
		}
		return err
	}
	kind := map[reports.Kind]workflows.ReplyKind{reports.KindReply: workflows.ReplyKindAnswer, reports.KindAutoReply: workflows.ReplyKindAutoReply, reports.KindBounce: workflows.ReplyKindBounce}[res.Kind]
	msg := workflows.CustomerReply{ID: cmp.Or(r.MessageID, "sha256:"+res.Digest[:32]), Kind: kind, From: r.From,
		ReceivedAt: src.ReceivedAt.UTC(), Channel: workflows.ChannelEmail, Excerpt: r.Excerpt}
	// A case whose status is final is closed, even while its run still finishes (its last
	// steps): a message then would reach the case only to be dropped, so it takes the closed
	// case's path (a request for reinstatement, or a note on the ticket).
	if sum.Running && !sum.Status.Final() {
		err := in.cases.Reply(ctx, sum.CaseID, msg)
		if err == nil {
			out.ReplyTo = sum.CaseID
			return nil
		}
		if !errors.Is(err, cases.ErrClosed) {
			return fmt.Errorf("deliver the reply to %s: %w", sum.CaseID, err)
		}
	}
	// The case is closed. With its action still standing, the message asks for reinstatement:
	// a review opens (and the reviewer reads it on the ticket).
	switch err := in.cases.Reinstate(ctx, sum, msg); {
	case err == nil:
		out.ReplyTo = workflows.ReinstatementWorkflowID(r.CaseNumber)
		out.Note = "case " + r.CaseNumber + " is closed with its action standing; the message asks for reinstatement, under review"
		return nil
	case !errors.Is(err, cases.ErrNotReinstatable):
		return fmt.Errorf("open the reinstatement review of %s: %w", r.CaseNumber, err)
	}
	// Otherwise the agents see the message on its ticket.
	if !sum.Ticket.IsZero() {
		if err := in.noteOnTicket(ctx, sum.Ticket, raw, res, templates.LateMessageData{Kind: string(kind), CaseNumber: r.CaseNumber}); err != nil {
			return err
		}
		out.Note = "the case is closed; the message is on ticket " + sum.Ticket.String()
		return nil
	}
	t, err := in.triage(ctx, raw, res, "a reply to closed case "+r.CaseNumber, "")
	if err == nil {
		out.Triaged = append(out.Triaged, *t)
	}
	return err
}

// noteOnTicket puts a message about a closed case on its ticket: an internal note saying what
// arrived, with the raw message attached.
func (in *Intake) noteOnTicket(ctx context.Context, ref ticket.Ref, raw []byte, res *reports.Result, d templates.LateMessageData) error {
	d.From, d.Subject = res.From, res.Subject
	if res.Reply != nil {
		d.Excerpt = res.Reply.Excerpt
	}
	body, err := in.text("intake_late_message", d)
	if err != nil {
		return err
	}
	tok, err := in.tickets.Upload(ctx, "message-"+res.Digest[:12]+".eml", "message/rfc822", raw)
	if err != nil {
		return fmt.Errorf("attach the message to ticket %s: %w", ref, err)
	}
	return in.tickets.UpdateTicket(ctx, ref, ticket.Update{Comment: &ticket.Comment{Body: body, Uploads: []string{tok}}})
}

// Triage tags.
const (
	TagTriage  = "abusedesk_triage"
	TagNotOurs = "abusedesk_not_ours"
	// TagOperations marks the operations queue's tickets: listings of the provider's own
	// infrastructure and of unassigned space.
	TagOperations = "abusedesk_operations"
)

// triage opens (or, on a retry, finds) a ticket for a person with the raw mail attached and an
// internal note saying why.
func (in *Intake) triage(ctx context.Context, raw []byte, res *reports.Result, reason, reportID string) (*Triaged, error) {
	return in.triageIn(ctx, raw, res, reason, reportID, 0)
}

// triageIn is triage into a group (0: the desk's).
func (in *Intake) triageIn(ctx context.Context, raw []byte, res *reports.Result, reason, reportID string, group int64) (*Triaged, error) {
	ext := "abusedesk-triage:" + res.Digest
	if reportID != "" {
		ext += ":" + reportID
	}
	return in.triageAs(ctx, raw, res, reason, ext, reportID, group, HandOverTriage)
}

// triageAs opens the triage ticket with external ID ext (or finds it: a message offered again
// opens nothing new); kind is the hand-over it is (HandOverTriage, or HandOverOperations for
// the operations queue).
func (in *Intake) triageAs(ctx context.Context, raw []byte, res *reports.Result, reason, ext, reportID string, group int64, kind string) (*Triaged, error) {
	if t, err := in.tickets.FindTicket(ctx, ext); err != nil {
		return nil, fmt.Errorf("triage: %w", err)
	} else if t != nil {
		return &Triaged{Ticket: t.Ref, Reason: reason, ReportID: reportID}, nil
	}
	return in.openTriage(ctx, raw, res, reason, ext, reportID, group, kind)
}

// openTriage opens the triage ticket with external ID ext, which the caller found none of.
func (in *Intake) openTriage(ctx context.Context, raw []byte, res *reports.Result, reason, ext, reportID string, group int64, kind string) (*Triaged, error) {
	tok, err := in.tickets.Upload(ctx, "message-"+res.Digest[:12]+".eml", "message/rfc822", raw)
	if err != nil {
		return nil, fmt.Errorf("triage: attach the raw mail: %w", err)
	}
	requester := res.From
	if requester == "" || !strings.Contains(requester, "@") {
		requester = "unknown-sender@abusedesk.invalid"
	}
	subject, err := in.text("intake_triage_subject", triageData(res, reason))
	if err != nil {
		return nil, err
	}
	subject = reports.OneLine(subject, 200)
	body, err := in.triageNote(res, reason)
	if err != nil {
		return nil, err
	}
	tags := []string{ticket.TagCase, TagTriage}
	if kind == HandOverOperations {
		tags = append(tags, TagOperations)
	}
	t, err := in.tickets.CreateTicket(ctx, ticket.New{
		ExternalID: ext, Subject: subject, RequesterEmail: requester,
		Comment: ticket.Comment{Body: body, Public: false, Uploads: []string{tok}},
		Status:  "open", Tags: tags, GroupID: group,
	})
	if err != nil {
		if fault.Is(err, fault.Invalid) && requester != "unknown-sender@abusedesk.invalid" {
			// A requester Zendesk refuses: keep the ticket, without them.
			return in.openTriage(ctx, raw, &reports.Result{Digest: res.Digest, Subject: res.Subject, Reports: res.Reports, From: "unknown"}, reason, ext, reportID, group, kind)
		}
		return nil, fmt.Errorf("triage: open the ticket: %w", err)
	}
	in.count("triaged", "")
	in.log.Info("message triaged", "ticket_id", t.ID, "reason", reason, "digest", res.Digest, "queue", kind)
	in.handedOver(kind, t.Ref, reason, res, "")
	return &Triaged{Ticket: t.Ref, Reason: reason, ReportID: reportID}, nil
}

// triageData is what the triage texts show of a message.
func triageData(res *reports.Result, reason string) templates.TriageData {
	data := templates.TriageData{Reason: reason, From: res.From, Subject: res.Subject, Digest: res.Digest}
	if len(res.Reports) > 0 {
		r := res.Reports[0]
		data.Parsed = &templates.ParsedReport{Format: r.Format, Category: string(r.Category), IPs: r.SourceIPs, Domains: r.Domains, URLs: r.URLs, Senders: r.Senders,
			Ranges: r.Ranges, Phones: slices.Concat(r.Phones, r.SenderIDs, r.Campaigns, r.Brands, r.Services)}
	}
	return data
}

// HandOver is a message intake did not give to a case: handed to a person on a triage ticket,
// or answered "not ours" to its reporter.
type HandOver struct {
	At       time.Time
	Kind     string // HandOverTriage, HandOverNotOurs, HandOverNoted
	Ticket   ticket.Ref
	Reason   string
	Reporter string
	Subject  string
	Digest   string
	// Legal says the message reads as a legal matter (for the legal team's eyes only).
	Legal bool
}

// Kinds of HandOver.
const (
	HandOverTriage  = "triage"
	HandOverNotOurs = "not_ours"
	// HandOverNoted: an automatic message kept and listed, asking nothing of anyone.
	HandOverNoted = "noted"
	// HandOverOperations: a blocklist listing of the provider's own infrastructure or of an
	// address no customer holds, in the operations queue.
	HandOverOperations = "operations"
)

func (in *Intake) handedOver(kind string, ref ticket.Ref, reason string, res *reports.Result, reporter string) {
	if in.cfg.OnHandOver == nil {
		return
	}
	in.cfg.OnHandOver(HandOver{At: time.Now().UTC(), Kind: kind, Ticket: ref, Reason: reason,
		Reporter: cmp.Or(reporter, res.From), Subject: res.Subject, Digest: res.Digest, Legal: legalMessage(res)})
}

// triageNote is the note that tells an agent why a message is theirs and what was parsed.
func (in *Intake) triageNote(res *reports.Result, reason string) (string, error) {
	return in.text("intake_triage", triageData(res, reason))
}

// unresolved hands the reports about no customer's address to a person — one triage ticket
// for the message however many rows it has — and, where the policy says so, answers the
// reporter once.
func (in *Intake) unresolved(ctx context.Context, raw []byte, res *reports.Result, rs []reports.Report, reasons []string, out *Outcome) error {
	if len(rs) == 0 {
		return nil
	}
	reason, reportID := reasons[0], rs[0].ID
	if len(rs) > 1 {
		reportID = "unresolved"
		notOurs := 0
		for _, r := range reasons {
			if strings.HasPrefix(r, "not ours") {
				notOurs++
			}
		}
		reason = fmt.Sprintf("%d of %d reports name addresses no customer holds (%d not ours); first: %s", len(rs), len(res.Reports), notOurs, reasons[0])
	}
	var ours []reports.Report
	for i, r := range rs {
		if strings.HasPrefix(reasons[i], "not ours") {
			ours = append(ours, r)
		}
	}
	// A reporter (or someone forging their address) who sends many messages about addresses
	// nobody here holds gets one triage ticket per hour, each message a note on it, and at
	// most one "not ours" answer per hour — and all reporters together at most
	// notOursPerHour answers — so a flood cannot fan out into tickets and mail.
	sub := &reports.Result{Digest: res.Digest, Subject: res.Subject, From: res.From, Reports: rs}
	var t *Triaged
	var err error
	if reporter := strings.ToLower(rs[0].Reporter); len(ours) == len(rs) && strings.Contains(reporter, "@") {
		t, err = in.triageGrouped(ctx, raw, sub, reason, reporter)
	} else {
		t, err = in.triage(ctx, raw, sub, reason, reportID)
	}
	if err != nil {
		return err
	}
	out.Triaged = append(out.Triaged, *t)
	if len(ours) > 0 && !in.notOurs.allow(strings.ToLower(ours[0].Reporter), time.Now()) {
		in.log.Info("not-ours answer withheld: this reporter was answered within the hour, or the hourly cap is reached", "reporter", ours[0].Reporter)
		return nil
	}
	if err := in.answerNotOurs(ctx, res, ours); err != nil {
		in.log.Warn("not-ours answer not sent", "report_id", reportID, "error", err)
	}
	return nil
}

// triageGrouped adds a message to its reporter's triage ticket of this hour (one ticket per
// reporter and hour for messages about addresses nobody here holds), opening it if needed.
func (in *Intake) triageGrouped(ctx context.Context, raw []byte, res *reports.Result, reason, reporter string) (*Triaged, error) {
	ext := "abusedesk-triage:not-ours:" + reporter + ":" + time.Now().UTC().Format("2006010215")
	t, err := in.tickets.FindTicket(ctx, ext)
	if err != nil {
		return nil, fmt.Errorf("triage: %w", err)
	}
	if t == nil {
		return in.openTriage(ctx, raw, res, reason, ext, "", 0, HandOverTriage)
	}
	tok, err := in.tickets.Upload(ctx, "message-"+res.Digest[:12]+".eml", "message/rfc822", raw)
	if err != nil {
		return nil, fmt.Errorf("triage: attach the raw mail: %w", err)
	}
	note, err := in.triageNote(res, reason)
	if err != nil {
		return nil, err
	}
	if err := in.tickets.UpdateTicket(ctx, t.Ref, ticket.Update{Comment: &ticket.Comment{Body: note, Uploads: []string{tok}}, Status: "open"}); err != nil {
		return nil, fmt.Errorf("triage: add to ticket %s: %w", t.Ref, err)
	}
	in.count("triaged", "")
	in.handedOver(HandOverTriage, t.Ref, reason, res, reporter)
	return &Triaged{Ticket: t.Ref, Reason: reason}, nil
}

// notOursLimit allows one "not ours" answer per reporter per hour, and perHour in all.
type notOursLimit struct {
	mu      sync.Mutex
	last    map[string]time.Time
	hour    time.Time
	sent    int
	perHour int
}

// notOursPerHour bounds the "not ours" answers of all reporters together.
const notOursPerHour = 200

func (l *notOursLimit) allow(reporter string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.last == nil {
		l.last = map[string]time.Time{}
	}
	if h := now.Truncate(time.Hour); !h.Equal(l.hour) {
		l.hour, l.sent = h, 0
		for r, at := range l.last {
			if now.Sub(at) >= time.Hour {
				delete(l.last, r)
			}
		}
	}
	if at, ok := l.last[reporter]; ok && now.Sub(at) < time.Hour {
		return false
	}
	if l.sent >= cmp.Or(l.perHour, notOursPerHour) {
		return false
	}
	l.last[reporter], l.sent = now, l.sent+1
	return true
}

// maxNotOursListed bounds the addresses one not-ours answer lists.
const maxNotOursListed = 50

// answerNotOurs tells the reporter the address is not the provider's, when the policy says so
// and the reporter has an address. Once per report (the ticket's external ID).
func (in *Intake) answerNotOurs(ctx context.Context, res *reports.Result, rs []reports.Report) error {
	if len(rs) == 0 || in.cfg.Policy == nil || !in.cfg.Policy.NotOurs.Reply || !activities.Reachable(rs[0].Reporter) {
		return nil
	}
	r := rs[0]
	ext := "abusedesk-not-ours:" + r.ID
	if len(rs) > 1 {
		ext = "abusedesk-not-ours:" + res.Digest
	}
	if t, err := in.tickets.FindTicket(ctx, ext); err != nil || t != nil {
		return err
	}
	data := templates.NotOursData{ReportID: cmp.Or(res.MessageID, r.ID)}
	if len(rs) == 1 {
		data.ReportID = r.ID
	}
	for _, x := range rs {
		for _, a := range slices.Concat(x.SourceIPs, x.Ranges, x.Domains) {
			if len(data.Addresses) < maxNotOursListed && !slices.Contains(data.Addresses, a) {
				data.Addresses = append(data.Addresses, a)
			}
		}
	}
	subject, err := in.text("intake_not_ours_subject", data)
	if err != nil {
		return err
	}
	body, err := in.text("intake_not_ours", data)
	if err != nil {
		return err
	}
	t, err := in.tickets.CreateTicket(ctx, ticket.New{
		ExternalID: ext, Subject: subject, RequesterEmail: r.Reporter,
		Comment: ticket.Comment{Body: body, Public: true}, Status: "solved", Tags: []string{ticket.TagCase, TagNotOurs},
	})
	if err != nil {
		return err
	}
	in.handedOver(HandOverNotOurs, t.Ref, "answered: "+strings.Join(data.Addresses, ", ")+" not ours", res, r.Reporter)
	return nil
}

// text renders one of intake's texts (kinds intake_*).
func (in *Intake) text(kind string, data any) (string, error) {
	return in.cfg.Templates.Render(kind, "", templates.DefaultLocale, data)
}

func (in *Intake) count(kind, channel string) {
	if in.cfg.Metrics != nil {
		in.cfg.Metrics.IntakeMessages.WithLabelValues(kind, channel).Inc()
	}
}

// Close delivers what is queued and waits for it (bounded by ctx; what is left is delivered
// at the next start), then closes the journal.
func (in *Intake) Close(ctx context.Context) {
	in.batch.close(ctx)
	if err := in.journal.close(); err != nil {
		in.log.Warn("intake journal", "error", err)
	}
}

// Queued is how many accepted reports are not yet in their cases.
func (in *Intake) Queued() int { return in.journal.pending() }

// contentKey identifies a report's evidence whatever its ID (issue 28, item 9): who reported
// it, the subject (without "Re:" or "Fwd:"), when it happened, what the message says (its body
// digest, a report ID in it left out) and the addresses, links and identities this report of
// it names (one row of a list is not another). A reporter that sends the same evidence again
// with a new Message-ID or report ID sends one report; a new complaint about another message,
// another time or another subject is another report. "" when the parser gave no body digest.
func contentKey(r reports.Report) string {
	if r.BodyDigest == "" {
		return ""
	}
	var names []string
	for _, list := range [][]string{r.SourceIPs, r.URLs, r.Domains, r.Senders, r.Ranges, r.Phones, r.SenderIDs, r.Campaigns, r.Brands, r.Services, {r.FeedbackID}} {
		for _, v := range list {
			if v = strings.ToLower(strings.TrimSpace(v)); v != "" {
				names = append(names, v)
			}
		}
	}
	slices.Sort(names)
	names = slices.Compact(names)
	when := ""
	if !r.EventTime.IsZero() {
		when = r.EventTime.UTC().Format(time.RFC3339)
	}
	h := sha256.New()
	for _, part := range []string{strings.ToLower(strings.TrimSpace(r.Reporter)), string(r.Category), reports.BaseSubject(r.Subject), when, r.BodyDigest, strings.Join(names, "\n")} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}
