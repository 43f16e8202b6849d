package process

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"abusedesk/app/backpressure"
	"abusedesk/app/inbound"
	"abusedesk/app/intake"
	"abusedesk/app/ledger"
	"abusedesk/domain/abuse"
	"abusedesk/integrations/mailbox"
	"abusedesk/integrations/reports"
	"abusedesk/integrations/zendesk"
	"abusedesk/platform/config"
	"abusedesk/platform/durable"
	"abusedesk/platform/ingress"
	"abusedesk/templates"
)

// startInbox opens <data-dir>/inbox/NAME, where a channel keeps what it acknowledged before
// doing it (durable.Inbox), and works through it until the desk stops: what a crash left is
// done at this start.
func (a *Desk) startInbox(ctx context.Context, name string, handle func(context.Context, []byte) error, giveUp func(context.Context, []byte, error)) (*durable.Inbox, error) {
	log := a.Log.With("component", name+"-inbox")
	q, err := durable.OpenInbox(durable.InboxConfig{Dir: filepath.Join(a.Cfg.DataDir, "inbox", name), Handle: handle, GiveUp: giveUp, Log: log})
	if err != nil {
		return nil, err
	}
	if n := q.Pending(); n > 0 {
		log.Info("doing what the last run acknowledged and did not finish", "entries", n)
	}
	qctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); q.Run(qctx) }()
	a.OnStop(func(context.Context) { cancel(); <-done })
	return q, nil
}

// recordHandOver keeps a message intake handed to a person (or answered "not ours") in the
// ledger for the dashboard's intake page. The ticket is in Zendesk already: a failure here only
// leaves the page short, and is logged.
func (a *Desk) recordHandOver(h intake.HandOver) {
	if a.Ledger == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.Ledger.RecordHandOver(ctx, ledger.HandOver{At: h.At, Kind: h.Kind, Ticket: h.Ticket, Reason: h.Reason,
		Reporter: h.Reporter, Subject: h.Subject, Digest: h.Digest, Legal: h.Legal}); err != nil {
		a.Log.Error("hand-over not listed on the dashboard (the ticket is in the ticketing system)", "ticket", h.Ticket.String(), "kind", h.Kind, "error", err)
	}
}

// recordNotice keeps a notice for the transparency report. The reports are taken already: a
// failure here leaves the report's notice count short, and is logged.
func (a *Desk) recordNotice(n intake.Notice) {
	if a.Ledger == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.Ledger.RecordNotification(ctx, ledger.Notification{Digest: n.Digest, At: n.At, Reporter: n.Reporter, Category: n.Category, Reports: n.Reports}); err != nil {
		a.Log.Error("notice not kept for the transparency report (its reports are in their cases)", "digest", n.Digest, "error", err)
	}
}

// WatchBacklog holds intake back on the server's view of the task queue (and, with a shared
// PostgreSQL ledger, the workers' own waits): for a process that runs intake and no worker.
func (a *Desk) WatchBacklog(ctx context.Context) {
	var shared backpressure.Shared
	if a.Ledger != nil && a.Ledger.Postgres() {
		shared = a.Ledger
	}
	a.gauge.WatchBacklog(ctx, a.Temporal, shared)
	a.Metrics.WatchBacklog(func() float64 { return a.gauge.Behind().Seconds() })
}

// ReportWorkerWait writes this process's worker's task wait to the shared ledger, for the
// processes that run intake and no worker (only with a PostgreSQL ledger: a SQLite one is this
// process's own).
func (a *Desk) ReportWorkerWait(ctx context.Context) {
	if a.Ledger != nil && a.Ledger.Postgres() {
		a.gauge.ReportOwnWait(ctx, a.Ledger)
	}
}

// StartIntake builds the intake pipeline and mounts its routes: the reports API (with a
// token), the Zendesk webhook, and the Zendesk export poll.
func (a *Desk) StartIntake(ctx context.Context, ic config.Intake) error {
	reporters, err := intake.OpenReporters(filepath.Join(a.Cfg.DataDir, "intake", "reporters.json"), a.driftAlert, a.Metrics, a.Log.With("component", "reporters"))
	if err != nil {
		return err
	}
	a.reporters = reporters
	a.OnStop(func(context.Context) { reporters.Close() })
	in, err := intake.New(intake.Config{
		Policy: a.Policy, BatchWindow: ic.BatchWindow, BatchMax: ic.BatchMax, MaxQueued: ic.MaxQueued, MaxInFlight: ic.Concurrency,
		JournalDir: filepath.Join(a.Cfg.DataDir, "intake"),
		Yield:      intake.Yield{Wait: a.gauge.Behind, At: ic.YieldAt},
		Parser:     reports.Options{AccountHeaders: ic.AccountHeaders}, Templates: a.Templates, Reporters: reporters, Log: a.Log, Metrics: a.Metrics,
		OnHandOver: a.recordHandOver, OnNotice: a.recordNotice,
		LegalGroupID: a.Integrations.Zendesk.LegalGroupID, SupportGroupID: a.Integrations.Zendesk.SupportGroupID,
	}, a.enforcement, a.gauge.Cases(a.Cases), a.Zendesk, a.Evidence)
	if err != nil {
		return err
	}
	a.intake = in
	a.OnStop(func(ctx context.Context) { a.intake.Close(ctx) })
	if err := a.StartMonitorWorker(); err != nil {
		return err
	}
	if a.HTTP == nil {
		return nil
	}
	a.HTTP.AddReadyCheck(ingress.DiskCheck(a.Cfg.DataDir, uint64(a.Cfg.MinFreeDisk), in.StorageError))
	a.apiToken = ic.APIToken
	if ic.APIToken != "" {
		opts := inbound.APIOptions{Budget: inbound.Budget(a.Cfg.MemoryLimit, 25<<20), BodyTimeout: ic.BodyTimeout}
		var records inbound.Records = inbound.NoLedger()
		if a.Ledger != nil {
			opts.Records, records = a.Ledger, a.Ledger
		}
		a.HTTP.Handle("/api/v1/reports", inbound.ReportsAPI(a.intake, ic.APIToken, 25<<20, opts, a.Log.With("component", "reports-api")))
		tell := func(c abuse.Category) bool { return a.Policy.Snapshot(c).Rules.AcknowledgeReporters }
		a.HTTP.Handle("GET /api/v1/reports/{id}", inbound.ReportStatusAPI(records, ic.APIToken, tell, a.Log.With("component", "reports-api")))
		a.Endpoints.API = &config.APIEndpoint{URL: a.Endpoints.HTTP + "/api/v1/reports"}
	} else {
		a.Log.Warn("the reports API is off: DESK_API_TOKEN is not set")
	}
	// The notice form (DSA Art. 16): public, no sign-in; its receipts go out as tickets.
	var receipts inbound.ReceiptTickets
	if a.Zendesk != nil {
		receipts = a.Zendesk
	}
	var noticeRecords inbound.Records = inbound.NoLedger()
	if a.Ledger != nil {
		noticeRecords = a.Ledger
	}
	form := &inbound.NoticeForm{Intake: a.intake, Records: noticeRecords, Tickets: receipts, LegalGroupID: a.Integrations.Zendesk.LegalGroupID, Templates: a.Templates, BaseURL: a.PublicURL(),
		TellOutcome: func(c abuse.Category) bool { return a.Policy.Snapshot(c).Rules.AcknowledgeReporters }, Log: a.Log.With("component", "notice-form")}
	form.Routes(a.HTTP.Handle, a.HTTP.HandlePublic)
	zc := a.Integrations.Zendesk
	// Zendesk's channel verifies and reads what happens on tickets; the ticket desk is the
	// desk's side of that port (reports to intake, replies and decisions to cases).
	desk := &inbound.TicketDesk{Intake: a.intake, Cases: a.Cases, Decider: a.Cases, Templates: a.Templates, Log: a.Log.With("component", "ticket-desk")}
	zi := &zendesk.Channel{API: a.Zendesk, Desk: desk, Secret: zc.WebhookSecret, IntakeGroupID: zc.IntakeGroupID, CaseGroupID: zc.GroupID,
		Cursor: inbound.FileCursor(filepath.Join(a.Cfg.DataDir, "zendesk-export-cursor.json")), Log: a.Log.With("component", "zendesk-channel")}
	q, err := a.startInbox(ctx, "zendesk", func(ctx context.Context, body []byte) error {
		if err := zi.Process(ctx, body); zendesk.Permanent(err) {
			return durable.Permanent(err) // set aside: asking again cannot mend it
		} else {
			return err
		}
	}, nil)
	if err != nil {
		return err
	}
	zi.Queue = q
	if zc.WebhookSecret == "" {
		a.Log.Warn("Zendesk webhooks are refused: ZENDESK_WEBHOOK_SECRET is not set (the export poll still catches up)")
	}
	a.HTTP.Handle("POST /webhooks/zendesk", zi.WebhookHandler())
	if ic.ZendeskPoll > 0 {
		pctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); zi.Poll(pctx, ic.ZendeskPoll) }()
		a.OnStop(func(context.Context) { cancel(); <-done })
	}
	return nil
}

// driftAlert tells the leads in Slack that a reporter's reports stopped parsing.
func (a *Desk) driftAlert(ctx context.Context, h intake.ReporterHealth) error {
	text, err := a.Templates.Render("intake_reporter_drift", "", templates.DefaultLocale, templates.ReporterDriftData{
		Reporter: h.Reporter, FailStreak: h.FailStreak, Parsed: h.Parsed, LastError: h.LastError, DashboardURL: a.PublicURL() + "/reporters"})
	if err != nil {
		return err
	}
	return a.slack.PostAlert(ctx, text)
}

// StartIMAP runs the mailbox watcher; a message moves to the processed folder once intake
// accepted it, to the failed folder when it could not be read (it is in triage then).
func (a *Desk) StartIMAP(ctx context.Context, m *config.IMAP) error {
	w, err := mailbox.New(mailbox.Config{Addr: m.Addr, Security: m.Security, Username: m.Username, Password: m.Password,
		Mailbox: m.Mailbox, Processed: m.Processed, Failed: m.Failed, Poll: m.Poll}, inbound.Mailbox(a.intake), a.Log)
	if err != nil {
		return err
	}
	a.watcher = w
	if a.HTTP != nil {
		a.HTTP.AddReadyCheck(ingress.ReadyCheck{Name: "mailbox", Check: func(context.Context) error { return w.Ready() }})
	}
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = w.Run(wctx) }()
	a.OnStop(func(context.Context) { cancel(); <-done })
	a.Log.Info("watching the abuse mailbox", "imap", fmt.Sprintf("%+v", m.Redacted()))
	return nil
}
