package activities

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"

	"abusedesk/domain/abuse"
	"abusedesk/domain/approval"
	"abusedesk/domain/fault"
	"abusedesk/domain/ticket"
	"abusedesk/templates"
	"abusedesk/workflows"
)

// Error types at the activity boundary (besides the fault kinds' names).
const (
	ErrTemplate     = "Template"
	ErrNotVerified  = "NotVerified"
	ErrActionFailed = "ActionFailed"
)

// Activities are the Case and Appeal workflows' activities.
type Activities struct {
	Tickets     Tickets
	Accounts    Accounts
	Enforcement Enforcement
	// Messaging reads the messaging records behind a messaging case (nil: the case goes on
	// without them, noted).
	Messaging Messaging
	Approvals Approvals
	Evidence  Evidence
	// Incidents reads a case's earlier incidents (nil: none are known).
	Incidents Incidents
	// Alerts reaches the leads' channel (nil: alerts fail, and the case records that), and
	// LegalChannel the legal team's ("": the leads').
	Alerts       Alerts
	LegalChannel string
	// LegalGroupID and SupportGroupID place legal-track and customer-track tickets (0: the
	// desk's group).
	LegalGroupID, SupportGroupID int64
	// LegalAddress is the support address a legal ticket's mail goes from ("": the default).
	LegalAddress string
	// Reports takes reports an agent moved to another case (nil: reclassifying fails, and the
	// case records that).
	Reports Reports
	// Ledger keeps every case event for metrics and reports (nil: none is kept; tests only —
	// the desk always has one).
	Ledger Ledger
	// Probes check a customer's fix (nil: every check could not tell, and the case goes to an
	// agent rather than closing unverified).
	Probes Probes
	// Probations find accounts on probation after a reinstatement (nil: none is).
	Probations Probations
	// HandOffs reach teams' channels (nil: hand-offs fail, and the case records that).
	HandOffs  HandOffs
	Templates *templates.Renderer
	// Spikes posts the current window's report spikes to the leads and says how many it told
	// of (the TrendWatch schedule's work; nil: there is nothing to watch — no ledger, or no
	// Slack).
	Spikes func(ctx context.Context) (int, error)
	// DashboardURL is the base URL of the dashboard, for links in Slack and notes ("" for none).
	DashboardURL string
	// VerifyWait bounds how long Enforce and LiftAction poll for an action to take effect
	// before retrying the activity; default 20s.
	VerifyWait time.Duration

	team teamCache
}

// teamCache keeps the desk team's last read for a few minutes, so cases that need it at
// once ask the ticketing system once.
type teamCache struct {
	mu     sync.Mutex
	agents map[string]string
	at     time.Time
}

// deskTeamTTL is how long a read of the desk team serves other cases; a fresh read (someone
// the case's last read did not list) always asks the ticketing system.
const deskTeamTTL = 5 * time.Minute

// Register registers every activity under the name the workflows call it by.
func (a *Activities) Register(r worker.ActivityRegistry) {
	for name, fn := range map[string]any{
		workflows.ActivityLoadAccount:         a.LoadAccount,
		workflows.ActivityMessagingRecords:    a.MessagingRecords,
		workflows.ActivityOpenCase:            a.OpenCase,
		workflows.ActivityNotify:              a.Notify,
		workflows.ActivityRequestApproval:     a.RequestApproval,
		workflows.ActivityUpdateApproval:      a.UpdateApproval,
		workflows.ActivityEnforce:             a.Enforce,
		workflows.ActivityLiftAction:          a.LiftAction,
		workflows.ActivityCloseCase:           a.CloseCase,
		workflows.ActivityAcknowledgeReporter: a.AcknowledgeReporters,
		workflows.ActivityPreviousIncident:    a.PreviousIncident,
		workflows.ActivityOpenTriage:          a.OpenTriage,
		workflows.ActivityForwardReports:      a.ForwardReports,
		workflows.ActivityAlert:               a.Alert,
		workflows.ActivityHoldEvidence:        a.HoldEvidence,
		workflows.ActivityRecordEvents:        a.RecordEvents,
		workflows.ActivityVerifyRemediation:   a.VerifyRemediation,
		workflows.ActivityProbation:           a.Probation,
		workflows.ActivityResolveDeciders:     a.ResolveDeciders,
		workflows.ActivityResolveLegalTeam:    a.ResolveLegalTeam,
		workflows.ActivityResolveDeskTeam:     a.ResolveDeskTeam,
		workflows.ActivityRedactTicket:        a.RedactTicket,
		workflows.ActivityAssignTicket:        a.AssignTicket,
		workflows.ActivityOpenHandOff:         a.OpenHandOff,
		workflows.ActivityHandOffNote:         a.HandOffNote,
		workflows.ActivityAlertSpikes:         a.AlertSpikes,
	} {
		r.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name})
	}
}

// AlertSpikes is one turn of the spike watch (the TrendWatch schedule's).
func (a *Activities) AlertSpikes(ctx context.Context) (int, error) {
	if a.Spikes == nil {
		return 0, nil
	}
	n, err := a.Spikes(ctx)
	if err != nil {
		return 0, boundary("post the spike alerts", err)
	}
	return n, nil
}

// PreviousIncident reads the case's last completed incident (a local activity: one read).
func (a *Activities) PreviousIncident(ctx context.Context, in workflows.PreviousIncidentInput) (*workflows.PreviousIncidentResult, error) {
	if a.Incidents == nil {
		return &workflows.PreviousIncidentResult{}, nil
	}
	res, err := a.Incidents.LastClosed(ctx, in.CaseID)
	if err != nil {
		return nil, boundary("read the previous incident of "+in.CaseID, err)
	}
	if res == nil {
		return &workflows.PreviousIncidentResult{}, nil
	}
	return &workflows.PreviousIncidentResult{Found: true, Result: *res}, nil
}

// LoadAccount reads the account behind a case. It runs as a local activity: short, read-only,
// safe to repeat.
func (a *Activities) LoadAccount(ctx context.Context, in workflows.LoadAccountInput) (*abuse.Account, error) {
	if in.AccountID == "" {
		return nil, temporal.NewNonRetryableApplicationError("no account ID", fault.Invalid.String(), nil)
	}
	acct, err := a.Accounts.GetAccount(ctx, in.AccountID)
	if err != nil {
		return nil, boundary("load account "+in.AccountID, err)
	}
	if acct.Locale == "" {
		acct.Locale = templates.DefaultLocale
	}
	return acct, nil
}

// MessagingRecords reads what the platform recorded of one of an account's sending identities,
// keeps the records as evidence, and returns them with their last 48 hours.
func (a *Activities) MessagingRecords(ctx context.Context, in workflows.MessagingRecordsInput) (*abuse.Traffic, error) {
	if a.Messaging == nil {
		return nil, temporal.NewNonRetryableApplicationError("no messaging platform to read records from", fault.Invalid.String(), nil)
	}
	t, raw, err := a.Messaging.Messaging(ctx, in.AccountID, in.Identity, in.Since, in.Until)
	if err != nil {
		return nil, boundary("read the messaging records of "+in.Identity.String(), err)
	}
	if t.Evidence, err = a.Evidence.Keep(ctx, raw); err != nil {
		return nil, boundary("keep the messaging records as evidence", err)
	}
	t.LastHours(48)
	return t, nil
}

// OpenCase opens the case ticket with the violation notice as its first (public) comment,
// then attaches the raw evidence with an internal note for agents. A retry finds the ticket by
// its external ID instead of opening a second one, and skips the note if it is there.
func (a *Activities) OpenCase(ctx context.Context, in workflows.OpenCaseInput) (*workflows.OpenCaseResult, error) {
	d := in.Notice
	if d.Account.ContactEmail == "" {
		return nil, temporal.NewNonRetryableApplicationError("account "+d.Account.ID+" has no contact email to send the notice to", fault.Invalid.String(), nil)
	}
	subject, err := a.render(cmp.Or(in.SubjectKind, "subject"), d)
	if err != nil {
		return nil, err
	}
	notice, err := a.render(cmp.Or(in.NoticeKind, workflows.NoticeViolation), d)
	if err != nil {
		return nil, err
	}
	note, err := a.render(workflows.NoteEvidence, d)
	if err != nil {
		return nil, err
	}
	var t *ticket.Ticket
	if activity.GetInfo(ctx).Attempt > 1 {
		if t, err = a.Tickets.FindTicket(ctx, in.ExternalID); err != nil {
			return nil, boundary("find the case ticket", err)
		}
	}
	if t == nil {
		t, err = a.Tickets.CreateTicket(ctx, ticket.New{
			ExternalID:     in.ExternalID,
			Subject:        subject,
			RequesterEmail: d.Account.ContactEmail,
			RequesterName:  d.Account.Name,
			Comment:        ticket.Comment{Body: notice, Public: true},
			Status:         workflows.TicketPending,
			Tags:           []string{ticket.TagCase, "abusedesk_" + sanitizeTag(string(d.Category)), stepTag("notice")},
			Fields:         caseFields(d),
		})
		if err != nil {
			return nil, boundary("create the case ticket", err)
		}
	}
	if !slices.Contains(t.Tags, stepTag("evidence")) {
		uploads, err := a.uploadEvidence(ctx, in.Evidence)
		if err != nil {
			return nil, err
		}
		if err := a.Tickets.UpdateTicket(ctx, t.Ref, ticket.Update{
			Comment: &ticket.Comment{Body: note, Uploads: uploads},
			AddTags: []string{stepTag("evidence")},
		}); err != nil {
			return nil, boundary("post the evidence note", err)
		}
	}
	return &workflows.OpenCaseResult{Ticket: t.Ref, NoticeSentAt: time.Now().UTC()}, nil
}

// Notify posts a customer-facing message and/or an internal note on the case ticket, keeps the
// case fields current, and marks the step with a tag so a retry does not post it twice.
func (a *Activities) Notify(ctx context.Context, in workflows.NotifyInput) (*workflows.NotifyResult, error) {
	if in.Ticket.IsZero() || in.Step == "" {
		return nil, temporal.NewNonRetryableApplicationError("notify needs a ticket and a step", fault.Invalid.String(), nil)
	}
	var public, note string
	var err error
	if in.Public != "" {
		if public, err = a.render(in.Public, in.Data); err != nil {
			return nil, err
		}
	}
	if in.Note != "" {
		if note, err = a.render(in.Note, in.Data); err != nil {
			return nil, err
		}
	}
	done, err := a.doneSteps(ctx, in.Ticket)
	if err != nil {
		return nil, err
	}
	if public != "" {
		// The last line of defence of the legal track: whatever the workflow asked, a legal
		// matter's ticket never gets a public comment (an email to its requester). One read of
		// the ticket per customer-facing message.
		t, err := a.Tickets.GetTicket(ctx, in.Ticket)
		if err != nil {
			return nil, boundary("read the ticket", err)
		}
		if slices.Contains(t.Tags, ticket.TagLegal) && !authorityNotice(in) {
			return nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf("refused to post %s on legal ticket #%s: a legal matter never gets a public comment but the authority's receipt and answer", in.Public, in.Ticket.ID), fault.Invalid.String(), nil)
		}
	}
	posted := false
	if public != "" && !done(stepTag(in.Step)) {
		if err := a.Tickets.UpdateTicket(ctx, in.Ticket, ticket.Update{
			Comment: &ticket.Comment{Body: public, Public: true},
			Status:  in.Status,
			AddTags: []string{stepTag(in.Step)},
			Fields:  caseFields(in.Data),
		}); err != nil {
			return nil, boundary("post "+in.Public, err)
		}
		posted = true
	}
	if note != "" && !done(stepTag(in.Step+"-note")) {
		u := ticket.Update{Comment: &ticket.Comment{Body: note}, AddTags: []string{stepTag(in.Step + "-note")}}
		if public == "" {
			u.Status, u.Fields = in.Status, caseFields(in.Data)
		}
		if err := a.Tickets.UpdateTicket(ctx, in.Ticket, u); err != nil {
			return nil, boundary("post "+in.Note, err)
		}
		posted = true
	}
	return &workflows.NotifyResult{Posted: posted}, nil
}

// doneSteps returns a check for step tags already on the ticket. The first attempt assumes
// none (it is the first time), so only retries pay for reading the ticket.
func (a *Activities) doneSteps(ctx context.Context, ref ticket.Ref) (func(string) bool, error) {
	if activity.GetInfo(ctx).Attempt <= 1 {
		return func(string) bool { return false }, nil
	}
	t, err := a.Tickets.GetTicket(ctx, ref)
	if err != nil {
		return nil, boundary("read the ticket", err)
	}
	return func(tag string) bool { return slices.Contains(t.Tags, tag) }, nil
}

// internalTickets are the internal tickets OpenTriage opens: their subject and note templates,
// their tag.
var internalTickets = map[workflows.TicketKind]struct{ subject, note, tag string }{
	workflows.TicketTriage:  {"triage_subject", workflows.NoteTriage, ticket.TagNeedsTriage},
	workflows.TicketLegal:   {"legal_subject", workflows.NoteLegal, ticket.TagLegal},
	workflows.TicketSupport: {"support_subject", workflows.NoteSupport, ticket.TagSupport},
}

// OpenTriage opens an internal ticket of a case: its note (why, the reports, what to decide)
// as a private comment with the raw reports attached, open — a triage ticket in the desk's
// group, a legal matter in the restricted legal group, a customer's request for help in the
// support group. The customer hears nothing from the bot; the requester is the first reporter
// (or a placeholder), so an agent can answer them.
func (a *Activities) OpenTriage(ctx context.Context, in workflows.OpenTriageInput) (*workflows.TicketRef, error) {
	kind, ok := internalTickets[in.Kind]
	if !ok {
		return nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf("unknown internal ticket kind %q", in.Kind), fault.Invalid.String(), nil)
	}
	subject, err := a.render(kind.subject, in.Data)
	if err != nil {
		return nil, err
	}
	note, err := a.render(kind.note, in.Data)
	if err != nil {
		return nil, err
	}
	group, recipient := int64(0), ""
	switch in.Kind {
	case workflows.TicketLegal:
		group, recipient = a.LegalGroupID, a.LegalAddress
	case workflows.TicketSupport:
		group = a.SupportGroupID
	}
	if t, err := a.Tickets.FindTicket(ctx, in.ExternalID); err != nil {
		return nil, boundary("find the triage ticket", err)
	} else if t != nil {
		return &t.Ref, nil
	}
	uploads, err := a.uploadEvidence(ctx, in.Evidence)
	if err != nil {
		return nil, err
	}
	requester := in.Requester
	if !strings.Contains(requester, "@") {
		requester = "unknown-sender@abusedesk.invalid"
	}
	t, err := a.Tickets.CreateTicket(ctx, ticket.New{
		ExternalID:     in.ExternalID,
		Subject:        strings.TrimSpace(subject),
		RequesterEmail: requester,
		Comment:        ticket.Comment{Body: note, Public: false, Uploads: uploads},
		Status:         workflows.TicketOpen,
		Tags:           []string{ticket.TagCase, kind.tag, "abusedesk_" + sanitizeTag(string(in.Data.Category))},
		Fields:         caseFields(in.Data),
		GroupID:        group,
		Recipient:      recipient,
	})
	if err != nil {
		return nil, boundary("create the "+cmp.Or(string(in.Kind), "triage")+" ticket", err)
	}
	return &t.Ref, nil
}

// uploadEvidence attaches raw reports from the evidence store to the ticketing system and
// returns the upload tokens; a report the store cannot give is left out (and logged).
func (a *Activities) uploadEvidence(ctx context.Context, digests []string) ([]string, error) {
	var uploads []string
	for _, digest := range digests {
		raw, err := a.Evidence.Get(ctx, digest)
		if err != nil {
			activity.GetLogger(ctx).Warn("evidence not attached", "digest", digest, "error", err)
			continue
		}
		tok, err := a.Tickets.Upload(ctx, ticket.EvidencePrefix+digest[:min(12, len(digest))]+".eml", "message/rfc822", raw)
		if err != nil {
			return nil, boundary("attach evidence", err)
		}
		uploads = append(uploads, tok)
	}
	return uploads, nil
}

// HoldEvidence records a legal hold on a case's evidence.
func (a *Activities) HoldEvidence(ctx context.Context, in workflows.HoldInput) error {
	if err := a.Evidence.Hold(ctx, in.Key, in.Digests, in.Reason); err != nil {
		return boundary(fmt.Sprintf("hold %d piece(s) of evidence", len(in.Digests)), err)
	}
	return nil
}

// RecordEvents appends a case's events to the ledger; each event is kept once however often
// it is sent.
func (a *Activities) RecordEvents(ctx context.Context, in workflows.RecordEventsInput) error {
	if a.Ledger == nil {
		return nil
	}
	if err := a.Ledger.Record(ctx, in); err != nil {
		return boundary(fmt.Sprintf("record %d event(s) of %s in the ledger", len(in.Events), in.Case.Number), err)
	}
	return nil
}

// Probation says whether an account is on probation after a reinstatement (a local activity:
// one visibility read).
func (a *Activities) Probation(ctx context.Context, in workflows.ProbationInput) (*workflows.ProbationResult, error) {
	if a.Probations == nil {
		return &workflows.ProbationResult{}, nil
	}
	p, err := a.Probations.OnProbation(ctx, in.AccountID)
	if err != nil {
		return nil, boundary("look up the probation of "+in.AccountID, err)
	}
	return p, nil
}

// probeParallel bounds the checks of one verification that run at once.
const probeParallel = 4

// VerifyRemediation runs the outside checks of a fix: each URL fetched, each address asked of
// each blocklist zone, a few at a time. Results come in the input's order.
func (a *Activities) VerifyRemediation(ctx context.Context, in workflows.VerifyInput) (*workflows.VerifyResult, error) {
	type job struct {
		check, subject string
		run            func(context.Context) (string, string)
	}
	var jobs []job
	for _, u := range in.URLs {
		jobs = append(jobs, job{workflows.CheckHTTP, u, func(ctx context.Context) (string, string) { return a.Probes.URL(ctx, u) }})
	}
	for _, ip := range in.Addresses {
		for _, zone := range in.Blocklists {
			jobs = append(jobs, job{workflows.CheckBlocklist, ip + " on " + zone, func(ctx context.Context) (string, string) { return a.Probes.Listed(ctx, ip, zone) }})
		}
	}
	out := &workflows.VerifyResult{Results: make([]workflows.CheckResult, len(jobs))}
	if a.Probes == nil {
		for i, j := range jobs {
			out.Results[i] = workflows.CheckResult{Check: j.check, Subject: j.subject, Verdict: workflows.VerdictUnknown, Detail: "no remediation checks are configured"}
		}
		return out, nil
	}
	sem := make(chan struct{}, probeParallel)
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			verdict, detail := j.run(ctx)
			out.Results[i] = workflows.CheckResult{Check: j.check, Subject: j.subject, Verdict: verdict, Detail: detail}
		}()
	}
	wg.Wait()
	return out, nil
}

// ForwardReports hands an agent's reclassified reports to their new case.
func (a *Activities) ForwardReports(ctx context.Context, in workflows.ForwardReportsInput) error {
	if a.Reports == nil {
		return temporal.NewNonRetryableApplicationError("no intake is configured to move reports to another case", fault.Invalid.String(), nil)
	}
	if err := a.Reports.Forward(ctx, in.Account, in.Category, in.Reports); err != nil {
		return boundary(fmt.Sprintf("move %d report(s) to the %s case of %s", len(in.Reports), in.Category, in.Account), err)
	}
	return nil
}

// AssignTicket makes an agent the assignee of a case's ticket (none: nobody).
func (a *Activities) AssignTicket(ctx context.Context, in workflows.AssignTicketInput) error {
	var id int64
	if in.Assignee != "" {
		var err error
		if id, err = strconv.ParseInt(in.Assignee, 10, 64); err != nil || id <= 0 {
			return temporal.NewNonRetryableApplicationError(fmt.Sprintf("assignee %q is no ticketing user ID", in.Assignee), fault.Invalid.String(), nil)
		}
	}
	if in.Ticket.IsZero() {
		return temporal.NewNonRetryableApplicationError("assign needs a ticket", fault.Invalid.String(), nil)
	}
	if err := a.Tickets.UpdateTicket(ctx, in.Ticket, ticket.Update{Assign: &id}); err != nil {
		return boundary("set the ticket's assignee", err)
	}
	return nil
}

// RedactTicket removes texts and the desk's evidence files from a ticket.
func (a *Activities) RedactTicket(ctx context.Context, in workflows.RedactInput) (*workflows.RedactResult, error) {
	n, err := a.Tickets.Redact(ctx, in.Ticket, in.Texts)
	if err != nil {
		return nil, boundary(fmt.Sprintf("redact ticket #%s", in.Ticket.ID), err)
	}
	return &workflows.RedactResult{Removed: n}, nil
}

// Alert posts a message for the leads. Slack has no idempotency key: a retried post may show
// twice, which beats an alert that is lost.
func (a *Activities) Alert(ctx context.Context, in workflows.AlertInput) error {
	if a.Alerts == nil {
		return temporal.NewNonRetryableApplicationError("no alert channel is configured", fault.Invalid.String(), nil)
	}
	channel := ""
	if in.Channel == workflows.AlertChannelLegal {
		channel = a.LegalChannel
	}
	if err := a.Alerts.PostAlertTo(ctx, channel, in.Text, in.Page); err != nil {
		return boundary("alert the leads", err)
	}
	return nil
}

// RequestApproval posts an approval request to the leads, or re-pings an existing one.
func (a *Activities) RequestApproval(ctx context.Context, in workflows.ApprovalRequest) (*approval.Message, error) {
	text, err := a.render("slack_approval", in.Data)
	if err != nil {
		return nil, err
	}
	p := approval.Post{
		Step: in.Step, CaseID: in.Data.CaseID, CaseNumber: in.Data.CaseNumber, CaseURL: a.caseURL(in.Data.CaseNumber),
		Account: in.Data.Account, Category: in.Data.Category,
		Reports: approval.Reports{Count: in.Data.Reports.Count, FirstSeen: in.Data.Reports.FirstSeen, LastSeen: in.Data.Reports.LastSeen},
		Action:  in.Data.Action.Description, Reason: in.Data.ApprovalNeeds, Deadline: in.Deadline, Ping: in.Ping, Text: text,
		Mention: in.Managers.Mention(),
	}
	if in.Legal {
		p.Channel = a.LegalChannel // a legal matter is asked where only the legal team reads
	}
	if in.Ping > 0 {
		if err := a.Approvals.PingApproval(ctx, in.Existing, p); err != nil {
			return nil, boundary("re-ping the approval request", err)
		}
		m := in.Existing
		return &m, nil
	}
	if activity.GetInfo(ctx).Attempt > 1 {
		m, err := a.Approvals.FindApproval(ctx, p.Channel, in.Step)
		if err != nil {
			return nil, boundary("find the approval request", err)
		}
		if m != nil {
			return m, nil
		}
	}
	m, err := a.Approvals.PostApproval(ctx, p)
	if err != nil {
		return nil, boundary("post the approval request", err)
	}
	return m, nil
}

// ResolveDeciders reads from Slack who may decide an approval: the users the policy names and
// the members of its user groups now.
func (a *Activities) ResolveDeciders(ctx context.Context, in workflows.ResolveDecidersInput) (*workflows.ResolveDecidersResult, error) {
	users := slices.Clone(in.Approvers.Users)
	for _, g := range in.Approvers.Groups {
		members, err := a.Approvals.GroupMembers(ctx, g)
		if err != nil {
			return nil, boundary("read the members of user group "+g, err)
		}
		users = append(users, members...)
	}
	slices.Sort(users)
	return &workflows.ResolveDecidersResult{Users: slices.Compact(users)}, nil
}

// ResolveLegalTeam lists the agents of the legal group (LegalGroupID; 0: the desk's group).
func (a *Activities) ResolveLegalTeam(ctx context.Context, _ workflows.ResolveLegalTeamInput) (*workflows.ResolveLegalTeamResult, error) {
	ids, err := a.Tickets.GroupMembers(ctx, a.LegalGroupID)
	if err != nil {
		return nil, boundary("list the legal team", err)
	}
	out := &workflows.ResolveLegalTeamResult{Agents: []string{}}
	for _, id := range ids {
		out.Agents = append(out.Agents, strconv.FormatInt(id, 10))
	}
	slices.Sort(out.Agents)
	out.Agents = slices.Compact(out.Agents)
	return out, nil
}

// authorityNotice says a public post is a message to the authority that sent a legal request
// (its receipt or answer), addressed to that authority, which is not the customer: the only
// public comment a legal ticket ever gets.
func authorityNotice(in workflows.NotifyInput) bool {
	d := in.Data
	if !slices.Contains(workflows.AuthorityNotices, in.Public) || d.Authority == "" || d.Category.Track() != abuse.TrackLegal {
		return false
	}
	return !workflows.KnownContact(d.Authority, d.Account.ContactEmail)
}

// ResolveDeskTeam lists who may take agent decisions: the agents of the desk's group and of
// the legal group, each with the e-mail address the ticketing system knows. A desk with no
// group configured has no team, and the error says so.
func (a *Activities) ResolveDeskTeam(ctx context.Context, in workflows.ResolveDeskTeamInput) (*workflows.ResolveDeskTeamResult, error) {
	c := &a.team
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.agents != nil && !in.Fresh && time.Since(c.at) < deskTeamTTL {
		return &workflows.ResolveDeskTeamResult{Agents: maps.Clone(c.agents)}, nil
	}
	agents, err := DeskTeam(ctx, a.Tickets, a.LegalGroupID)
	if err != nil {
		return nil, err
	}
	c.agents, c.at = agents, time.Now()
	return &workflows.ResolveDeskTeamResult{Agents: maps.Clone(agents)}, nil
}

// DeskTeam lists the agents of the desk's group and of the legal group (legalGroup; 0: none),
// each ticketing user ID with the e-mail address the ticketing system knows. The case's
// decisions and the dashboard's actions are taken only by them.
func DeskTeam(ctx context.Context, tickets Tickets, legalGroup int64) (map[string]string, error) {
	var ids []int64
	for _, g := range slices.Compact([]int64{0, legalGroup}) {
		members, err := tickets.GroupMembers(ctx, g)
		if err != nil {
			return nil, boundary("list the desk's agents", err)
		}
		ids = append(ids, members...)
	}
	slices.Sort(ids)
	agents := map[string]string{}
	for _, id := range slices.Compact(ids) {
		email, err := tickets.AgentEmail(ctx, id)
		if err != nil {
			return nil, boundary(fmt.Sprintf("read agent %d", id), err)
		}
		agents[strconv.FormatInt(id, 10)] = email
	}
	return agents, nil
}

// UpdateApproval rewrites the approval message to show who decided, when and what, without
// buttons.
func (a *Activities) UpdateApproval(ctx context.Context, in workflows.ApprovalOutcome) (*workflows.ApprovalUpdateResult, error) {
	text, err := a.render("slack_approval", in.Data)
	if err != nil {
		return nil, err
	}
	err = a.Approvals.ShowDecision(ctx, in.Message, approval.Show{
		CaseNumber: in.Data.CaseNumber, CaseURL: a.caseURL(in.Data.CaseNumber), Text: text,
		Decision: in.Decision, DecidedBy: in.DecidedBy, DecidedAt: in.DecidedAt, Reason: in.Reason,
	})
	if err != nil {
		return nil, boundary("show the decision in Slack", err)
	}
	return &workflows.ApprovalUpdateResult{}, nil
}

// Enforce applies the action with the case's idempotency key and verifies it took effect.
// A retry with the same key gets the same action back, so an action is applied once however
// often this runs.
func (a *Activities) Enforce(ctx context.Context, in workflows.EnforceInput) (*workflows.ActionResult, error) {
	if in.Key == "" || in.AccountID == "" {
		return nil, temporal.NewNonRetryableApplicationError("enforce needs a key and an account", fault.Invalid.String(), nil)
	}
	req := abuse.ActionRequest{AccountID: in.AccountID, Type: in.Type, Level: in.Level, Reason: in.Reason, CaseID: in.CaseID, Scope: in.Scope}
	if in.For > 0 {
		req.ExpiresAt = time.Now().Add(in.For).UTC()
	}
	st, err := a.Enforcement.Apply(ctx, req, in.Key)
	if err != nil {
		return nil, boundary("apply "+string(in.Type)+" to "+in.AccountID, err)
	}
	st, err = a.waitFor(ctx, st, abuse.StateActive)
	if err != nil {
		return nil, err
	}
	return &workflows.ActionResult{ActionID: st.ID, State: st.State, AppliedAt: st.AppliedAt, VerifiedAt: time.Now().UTC(), ExpiresAt: st.ExpiresAt}, nil
}

// LiftAction lifts an action (idempotently) and verifies it is gone.
func (a *Activities) LiftAction(ctx context.Context, in workflows.LiftInput) (*workflows.ActionResult, error) {
	if in.Key == "" || in.ActionID == "" {
		return nil, temporal.NewNonRetryableApplicationError("lift needs a key and an action", fault.Invalid.String(), nil)
	}
	st, err := a.Enforcement.Lift(ctx, abuse.LiftRequest{ActionID: in.ActionID, Reason: in.Reason, Overturned: in.Overturned}, in.Key)
	if err != nil {
		return nil, boundary("lift action "+in.ActionID, err)
	}
	st, err = a.waitFor(ctx, st, abuse.StateLifted)
	if err != nil {
		return nil, err
	}
	return &workflows.ActionResult{ActionID: st.ID, State: st.State, AppliedAt: st.AppliedAt, VerifiedAt: time.Now().UTC(), LiftedAt: st.LiftedAt}, nil
}

// waitFor polls the action until it reaches want, heartbeating, for at most VerifyWait; then
// it fails retryably (the next attempt applies or lifts again, idempotently, and polls again).
func (a *Activities) waitFor(ctx context.Context, st *abuse.ActionState, want string) (*abuse.ActionState, error) {
	limit := a.VerifyWait
	if limit <= 0 {
		limit = 20 * time.Second
	}
	deadline := time.Now().Add(limit)
	delay := 200 * time.Millisecond
	for {
		switch {
		case st.State == want:
			return st, nil
		case st.State == abuse.StateFailed:
			return nil, temporal.NewNonRetryableApplicationError(
				fmt.Sprintf("the enforcement API reports action %s failed: %s", st.ID, st.Error), ErrActionFailed, nil)
		case time.Now().After(deadline):
			return nil, temporal.NewApplicationError(fmt.Sprintf("action %s is %s, not yet %s", st.ID, st.State, want), ErrNotVerified)
		}
		activity.RecordHeartbeat(ctx, st.State)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(delay):
		}
		delay = min(2*delay, 2*time.Second)
		next, err := a.Enforcement.GetAction(ctx, st.ID)
		if err != nil {
			return nil, boundary("verify action "+st.ID, err)
		}
		st = next
	}
}

// CloseCase posts the closing message and solves the ticket.
func (a *Activities) CloseCase(ctx context.Context, in workflows.CloseCaseInput) (*workflows.CloseCaseResult, error) {
	if in.Notified {
		// The agent's macro answered the customer; only solve the ticket and keep the fields.
		err := a.Tickets.UpdateTicket(ctx, in.Ticket, ticket.Update{Status: workflows.TicketSolved, AddTags: []string{stepTag(in.Step)}, Fields: caseFields(in.Data)})
		if err != nil {
			return nil, boundary("solve the ticket", err)
		}
		return &workflows.CloseCaseResult{}, nil
	}
	if _, err := a.Notify(ctx, workflows.NotifyInput{Ticket: in.Ticket, Step: in.Step, Public: workflows.NoticeClosed, Status: workflows.TicketSolved, Data: in.Data}); err != nil {
		return nil, err
	}
	return &workflows.CloseCaseResult{}, nil
}

// Reachable says whether a reporter is an address the desk can write to: an e-mail address
// outside the reserved .invalid domain (an anonymous notice form's notifier is there).
func Reachable(reporter string) bool {
	at := strings.LastIndex(reporter, "@")
	return at > 0 && !strings.HasSuffix(strings.ToLower(strings.TrimSpace(reporter)), ".invalid")
}

// AcknowledgeReporters tells each reporter the outcome, in a solved ticket of its own (so the
// email goes out through Zendesk and is on record). A retry skips reporters already told.
func (a *Activities) AcknowledgeReporters(ctx context.Context, in workflows.AcknowledgeInput) (*workflows.AcknowledgeResult, error) {
	body, err := a.render(workflows.NoticeReporterAck, in.Data)
	if err != nil {
		return nil, err
	}
	sent := 0
	for _, rep := range in.Reporters {
		if !Reachable(rep) {
			continue
		}
		ext := in.Data.CaseID + "#" + in.Step + "#" + strings.ToLower(rep)
		if activity.GetInfo(ctx).Attempt > 1 {
			t, err := a.Tickets.FindTicket(ctx, ext)
			if err != nil {
				return nil, boundary("find the reporter ticket", err)
			}
			if t != nil {
				sent++
				continue
			}
		}
		_, err := a.Tickets.CreateTicket(ctx, ticket.New{
			ExternalID:     ext,
			Subject:        "[" + in.Data.CaseNumber + "] Your abuse report: " + string(in.Data.Outcome),
			RequesterEmail: rep,
			Comment:        ticket.Comment{Body: body, Public: true},
			Status:         workflows.TicketSolved,
			Tags:           []string{ticket.TagCase, ticket.TagReporter},
		})
		if err != nil {
			if fault.Is(err, fault.Invalid) {
				activity.GetLogger(ctx).Warn("reporter not acknowledged", "reporter", rep, "error", err)
				continue
			}
			return nil, boundary("acknowledge "+rep, err)
		}
		sent++
	}
	return &workflows.AcknowledgeResult{Sent: sent}, nil
}

func (a *Activities) render(kind string, d workflows.NoticeData) (string, error) {
	locale := d.Account.Locale
	if slices.Contains(workflows.AuthorityNotices, kind) {
		locale = d.AuthorityLocale // the authority's language, never the customer's
	}
	var s string
	var err error
	if kind == workflows.NoticeEnforced {
		// A statement of reasons goes out whole or not at all (DSA Art. 17(3)): the case notes
		// the refusal and a person sends it.
		want := templates.Statement{Measure: d.Action.Description, Ground: d.Reasons.Ground, OutOfCourt: d.Reasons.OutOfCourt, Judicial: d.Reasons.Judicial}
		s, err = a.Templates.RenderStatement(kind, string(d.Category), locale, d, want)
	} else {
		s, err = a.Templates.Render(kind, string(d.Category), locale, d)
	}
	if err != nil {
		return "", temporal.NewNonRetryableApplicationError(err.Error(), ErrTemplate, err)
	}
	return s, nil
}

// caseURL is the dashboard page of one incident, by its case number.
func (a *Activities) caseURL(number string) string {
	if a.DashboardURL == "" || number == "" {
		return ""
	}
	return strings.TrimRight(a.DashboardURL, "/") + "/cases/" + number
}

// caseFields are the ticket's case fields for the data.
func caseFields(d workflows.NoticeData) map[string]string {
	f := map[string]string{
		ticket.FieldCaseID:      d.CaseID,
		ticket.FieldCaseNumber:  d.CaseNumber,
		ticket.FieldStatus:      string(d.Status),
		ticket.FieldCategory:    string(d.Category),
		ticket.FieldAccount:     d.Account.ID,
		ticket.FieldReportCount: strconv.Itoa(d.Reports.Count),
		ticket.FieldAction:      d.Action.Description,
	}
	if !d.Deadline.IsZero() {
		f[ticket.FieldDeadline] = d.Deadline.UTC().Format("2006-01-02 15:04 UTC")
	}
	if !d.AppealUntil.IsZero() {
		f[ticket.FieldAppealUntil] = d.AppealUntil.UTC().Format("2006-01-02 15:04 UTC")
	}
	return f
}

// stepTag is the ticket tag that marks a step done.
func stepTag(step string) string { return "abusedesk_step_" + sanitizeTag(step) }

func sanitizeTag(s string) string {
	b := []byte(strings.ToLower(s))
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			b[i] = '_'
		}
	}
	return string(b)
}

// boundary turns an integration error into the activity's error: invalid input, not found and
// conflicts are non-retryable; rate limits retry after the service's Retry-After (or the retry
// policy's backoff when it gave none); refused credentials retry slowly (someone has to fix the
// configuration); everything else retries with backoff.
func boundary(op string, err error) error {
	if err == nil {
		return nil
	}
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return err
	}
	msg := op + ": " + err.Error()
	kind := fault.KindOf(err)
	switch kind {
	case fault.Invalid, fault.NotFound, fault.Conflict:
		return temporal.NewNonRetryableApplicationError(msg, kind.String(), err)
	case fault.RateLimited:
		return temporal.NewApplicationErrorWithOptions(msg, kind.String(), temporal.ApplicationErrorOptions{
			Cause: err, NextRetryDelay: fault.RetryAfter(err),
		})
	case fault.Unauthorized:
		return temporal.NewApplicationErrorWithOptions(msg, kind.String(), temporal.ApplicationErrorOptions{
			Cause: err, NextRetryDelay: time.Minute,
		})
	default:
		return temporal.NewApplicationErrorWithCause(msg, kind.String(), err)
	}
}
