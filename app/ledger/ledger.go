// Package ledger is the case ledger: an append-only SQL record of every case event (the Case
// workflow's RecordEvents activity writes it) and a row a case summing its events up, which
// metrics, trends, quality review, the transparency report and policy simulation read.
//
// The embedded default is SQLite under the data dir (modernc.org/sqlite, pure Go); production
// uses PostgreSQL (pgx). One schema serves both, migrated on open by goose from the embedded
// migrations/ folder. An event is kept once by its key (case number and the event's key), and
// the case row changes only in the transaction that kept a new event, so appending the same
// events again — a retry, a second delivery, a backfill — changes nothing.
package ledger

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	"github.com/jmoiron/sqlx"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	_ "modernc.org/sqlite" // database/sql driver "sqlite"

	"abusedesk/domain/abuse"
	"abusedesk/domain/fault"
	"abusedesk/workflows"
)

// sqliteConns is how many connections a SQLite ledger keeps (one writes at a time).
const sqliteConns = 4

//go:embed migrations/*.sql
var migrations embed.FS

// Store is an open ledger.
type Store struct {
	db       *sql.DB
	postgres bool
	// Where names the database for messages (a path, or the PostgreSQL host and database;
	// never a password).
	Where string
	// OnKept, when set, hears of each event the ledger kept for the first time, once it is
	// committed (the desk counts them on /metrics).
	OnKept func(workflows.LedgerCase, workflows.LedgerEvent)
	// SampleRate, when set, is the share (0–1) of a category's decisions entered into the
	// quality review queue as their events are kept (the policy's qa section).
	SampleRate func(abuse.Category) float64
	// OwnDomains are the provider's own domains: a host, domain or sender of one of them (or
	// below) links no accounts in Clusters (the policy's trends.own_domains).
	OwnDomains []string

	// stmts are the statements Record runs, prepared once by their SQL.
	stmts sync.Map // string → *sql.Stmt
	// writing serialises appends to SQLite, which takes one writer at a time: waiting here
	// wakes a writer as soon as the last one is done, where SQLite's busy handler sleeps for
	// milliseconds at a time (holding up the worker's workflow tasks meanwhile).
	writing sync.Mutex
}

// stmt is the prepared statement of a query (written with ? placeholders), in tx.
func (s *Store) stmt(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	if st, ok := s.stmts.Load(query); ok {
		return tx.StmtContext(ctx, st.(*sql.Stmt)), nil
	}
	st, err := s.db.PrepareContext(ctx, s.Q(query))
	if err != nil {
		return nil, err
	}
	if old, loaded := s.stmts.LoadOrStore(query, st); loaded {
		_ = st.Close()
		st = old.(*sql.Stmt)
	}
	return tx.StmtContext(ctx, st), nil
}

// exec runs a query in tx through its prepared statement.
func (s *Store) exec(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	st, err := s.stmt(ctx, tx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

// Open opens the ledger at url and brings its schema up to date. A url starting postgres:// or
// postgresql:// is a PostgreSQL database; anything else is the path of a SQLite file
// (an optional "sqlite:" prefix is dropped), created with mode 0600 if missing.
func Open(ctx context.Context, url string) (*Store, error) {
	if strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://") {
		return openPostgres(ctx, url)
	}
	return openSQLite(ctx, strings.TrimPrefix(url, "sqlite:"))
}

func openSQLite(ctx context.Context, path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("ledger: no database given (DESK_LEDGER_URL or a path)")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	// Created here, so that it is the desk's alone (SQLite would create it world-readable).
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	_ = f.Close()
	// WAL with synchronous=NORMAL survives a killed process (not a power cut of the last
	// commits); writers take the lock up front and wait for each other rather than fail.
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(ON)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("ledger %s: %w", path, err)
	}
	db.SetMaxOpenConns(sqliteConns)
	db.SetMaxIdleConns(sqliteConns)
	s := &Store{db: db, Where: path}
	if err := s.migrate(ctx, goose.DialectSQLite3, nil); err != nil {
		_ = db.Close()
		return nil, err
	}
	return s, nil
}

func openPostgres(ctx context.Context, url string) (*Store, error) {
	db, err := sql.Open("pgx", url)
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	s := &Store{db: db, postgres: true, Where: redact(url)}
	// Several workers may start at once: a session lock lets one migrate at a time.
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("ledger: %w", err)
	}
	if err := s.migrate(ctx, goose.DialectPostgres, goose.WithSessionLocker(locker)); err != nil {
		_ = db.Close()
		return nil, err
	}
	return s, nil
}

// redact drops the password of a database URL.
func redact(url string) string {
	scheme, rest, ok := strings.Cut(url, "://")
	if !ok {
		return url
	}
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		user, _, _ := strings.Cut(rest[:at], ":")
		rest = user + "@" + rest[at+1:]
	}
	if q := strings.Index(rest, "?"); q >= 0 {
		rest = rest[:q]
	}
	return scheme + "://" + rest
}

func (s *Store) migrate(ctx context.Context, dialect goose.Dialect, opt goose.ProviderOption) error {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	if opt != nil {
		opts = append(opts, opt)
	}
	p, err := goose.NewProvider(dialect, s.db, sub, opts...)
	if err != nil {
		return fmt.Errorf("ledger %s: %w", s.Where, err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("ledger %s: migrate: %w", s.Where, err)
	}
	return nil
}

// Close closes the database.
func (s *Store) Close() error {
	s.stmts.Range(func(_, st any) bool { _ = st.(*sql.Stmt).Close(); return true })
	return s.db.Close()
}

// DB is the database, for the ledger's readers (metrics) and tests.
func (s *Store) DB() *sql.DB { return s.db }

// Postgres says whether the ledger is on PostgreSQL (else SQLite).
func (s *Store) Postgres() bool { return s.postgres }

// Q rewrites a query written with ? placeholders for the database: PostgreSQL numbers them.
func (s *Store) Q(query string) string {
	if !s.postgres {
		return query
	}
	return sqlx.Rebind(sqlx.DOLLAR, query)
}

// Record appends a case's events; events already kept are skipped. It implements
// activities.Ledger.
func (s *Store) Record(ctx context.Context, in workflows.RecordEventsInput) error {
	c := in.Case
	if c.Number == "" || c.ID == "" {
		return invalid("events without a case number or case ID")
	}
	for _, e := range in.Events {
		if e.Key == "" || e.Kind == "" || e.At.IsZero() {
			return invalid(fmt.Sprintf("case %s: an event without a key, kind or time (%q, %q)", c.Number, e.Key, e.Kind))
		}
	}
	if !s.postgres {
		s.writing.Lock()
		defer s.writing.Unlock()
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("ledger %s: %w", s.Where, err)
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := s.exec(ctx, tx, `INSERT INTO cases (case_number, case_id, account_id, category, track, rules, tier, opened_ms, account_name, account_created_ms)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (case_number) DO UPDATE SET
			track = CASE WHEN excluded.track <> '' THEN excluded.track ELSE cases.track END,
			rules = CASE WHEN excluded.rules <> '' THEN excluded.rules ELSE cases.rules END,
			tier  = CASE WHEN excluded.tier  <> '' THEN excluded.tier  ELSE cases.tier  END,
			account_name = CASE WHEN excluded.account_name <> '' THEN excluded.account_name ELSE cases.account_name END,
			account_created_ms = COALESCE(excluded.account_created_ms, cases.account_created_ms)`,
		c.Number, c.ID, c.Account, string(c.Category), string(c.Track), c.Rules, c.Tier, ms(c.OpenedAt), c.AccountName, nullMS(c.AccountCreated)); err != nil {
		return fmt.Errorf("ledger %s: case %s: %w", s.Where, c.Number, err)
	}
	now := ms(time.Now())
	var kept []workflows.LedgerEvent
	for _, e := range in.Events {
		res, err := s.exec(ctx, tx, `INSERT INTO case_events
			(event_key, case_number, case_id, at_ms, kind, account_id, category, actor, decision, outcome, n, reporters, detail, recorded_ms)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (event_key) DO NOTHING`,
			c.Number+"/"+e.Key, c.Number, c.ID, ms(e.At), e.Kind, c.Account, string(c.Category), e.Actor, e.Decision,
			string(e.Outcome), e.Count, reportersText(e), e.Text, now)
		if err != nil {
			return fmt.Errorf("ledger %s: event %s/%s: %w", s.Where, c.Number, e.Key, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("ledger %s: %w", s.Where, err)
		} else if n == 0 {
			// Kept before; a reports event may come again with more reports (grow).
			if err := s.grow(ctx, tx, c, e); err != nil {
				return err
			}
			continue
		}
		kept = append(kept, e)
		if err := s.sample(ctx, tx, c, e, now); err != nil {
			return err
		}
		if err := s.indicators(ctx, tx, c, e); err != nil {
			return err
		}
		if err := s.traffic(ctx, tx, c, e); err != nil {
			return err
		}
		set, args := summarise(e)
		if set == "" {
			continue
		}
		if _, err := s.exec(ctx, tx, "UPDATE cases SET "+set+" WHERE case_number = ?", append(args, c.Number)...); err != nil {
			return fmt.Errorf("ledger %s: case %s after %s: %w", s.Where, c.Number, e.Kind, err)
		}
	}
	if err := tx.Commit(); err != nil {
		if !s.postgres {
			// A COMMIT that fails for lack of space may leave SQLite's transaction open on
			// the connection database/sql has just taken back, holding the write lock for
			// good: close the idle connections, which rolls it back.
			s.db.SetMaxIdleConns(0)
			s.db.SetMaxIdleConns(sqliteConns)
		}
		return fmt.Errorf("ledger %s: %w", s.Where, err)
	}
	if s.OnKept != nil {
		for _, e := range kept {
			s.OnKept(c, e)
		}
	}
	return nil
}

// grow takes a reports event that comes again under a key already kept with more reports than
// were kept, and adds the difference to the event and its case.
//
// A case's events get their keys in the order the case records them, and a case folds
// consecutive report batches into one event. Its appends run as local activities, so an append
// can happen in a workflow task that is then lost (it timed out, or its completion failed on a
// full disk): the task's next attempt replays the same history plus whatever signals came
// meanwhile, and may fold more batches into the same event, under the same key. Kept once by
// its key, the later batches would be lost. The history only grows between attempts, so under
// a key the reports only grow: keeping the largest count keeps every report once.
func (s *Store) grow(ctx context.Context, tx *sql.Tx, c workflows.LedgerCase, e workflows.LedgerEvent) error {
	if e.Kind != workflows.LedgerReports {
		return nil
	}
	key := c.Number + "/" + e.Key
	var kind string
	var kept int
	if err := tx.QueryRowContext(ctx, s.Q(`SELECT kind, n FROM case_events WHERE event_key = ?`), key).Scan(&kind, &kept); err != nil {
		return fmt.Errorf("ledger %s: event %s: %w", s.Where, key, err)
	}
	if kind != e.Kind || e.Count <= kept {
		return nil
	}
	if _, err := s.exec(ctx, tx, `UPDATE case_events SET n = ?, reporters = ?, at_ms = ? WHERE event_key = ?`, e.Count, reportersText(e), ms(e.At), key); err != nil {
		return fmt.Errorf("ledger %s: event %s: %w", s.Where, key, err)
	}
	if _, err := s.exec(ctx, tx, `UPDATE cases SET reports = reports + ? WHERE case_number = ?`, e.Count-kept, c.Number); err != nil {
		return fmt.Errorf("ledger %s: case %s: %w", s.Where, c.Number, err)
	}
	return s.indicators(ctx, tx, c, e)
}

// indicators keeps what an event's reports name, each once a case.
func (s *Store) indicators(ctx context.Context, tx *sql.Tx, c workflows.LedgerCase, e workflows.LedgerEvent) error {
	for _, in := range indicatorsOf(e.Indicators) {
		if _, err := s.exec(ctx, tx, `INSERT INTO indicators (case_number, account_id, category, kind, value, first_ms)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (case_number, kind, value) DO NOTHING`,
			c.Number, c.Account, string(c.Category), in.kind, in.value, ms(e.At)); err != nil {
			return fmt.Errorf("ledger %s: case %s: indicator: %w", s.Where, c.Number, err)
		}
	}
	return nil
}

// traffic keeps what a traffic event says the platform recorded of a messaging identity.
func (s *Store) traffic(ctx context.Context, tx *sql.Tx, c workflows.LedgerCase, e workflows.LedgerEvent) error {
	t := e.Traffic
	if e.Kind != workflows.LedgerTraffic || t == nil {
		return nil
	}
	stop := 0
	if e.Decision == "stop" {
		stop = 1
	}
	if _, err := s.exec(ctx, tx, `INSERT INTO messaging_traffic (event_key, case_number, account_id, category, identity, since_ms, until_ms, stop,
		sent, delivered, failed, filtered, opt_outs, complaints) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (event_key) DO NOTHING`,
		c.Number+"/"+e.Key, c.Number, c.Account, string(c.Category), t.Identity.Kind+":"+t.Identity.Value, ms(t.Since), ms(t.Until), stop,
		t.Sent, t.Delivered, t.Failed, t.Filtered, t.OptOuts, t.Complaints); err != nil {
		return fmt.Errorf("ledger %s: case %s: traffic: %w", s.Where, c.Number, err)
	}
	return nil
}

// summarise is how a newly kept event changes its case's row. Each change holds in whatever
// order the events arrive: counters add, first times take the earliest, the last decision the
// latest.
func summarise(e workflows.LedgerEvent) (string, []any) {
	at := ms(e.At)
	var sets []string
	var args []any
	add := func(s string, a ...any) { sets, args = append(sets, s), append(args, a...) }
	addFirst := func(col string) {
		add(col+" = CASE WHEN "+col+" IS NULL OR "+col+" > ? THEN ? ELSE "+col+" END", at, at)
	}
	decided := func(by string) {
		add("decided_by = CASE WHEN decided_ms IS NULL OR decided_ms <= ? THEN ? ELSE decided_by END", at, by)
		add("decided_ms = CASE WHEN decided_ms IS NULL OR decided_ms < ? THEN ? ELSE decided_ms END", at, at)
	}
	switch e.Kind {
	case workflows.LedgerOpened:
		addFirst("opened_ms")
	case workflows.LedgerReports:
		add("reports = reports + ?", e.Count)
		add("last_report_ms = CASE WHEN last_report_ms IS NULL OR last_report_ms < ? THEN ? ELSE last_report_ms END", at, at)
		if len(e.Reporters) > 0 {
			add("reporter = CASE WHEN reporter = '' THEN ? ELSE reporter END", e.Reporters[0])
		}
	case workflows.LedgerNoticed:
		add("notices = notices + 1")
		addFirst("first_notice_ms")
	case workflows.LedgerReplied:
		add("replies = replies + 1")
		addFirst("first_reply_ms")
	case workflows.LedgerEscalated:
		addFirst("escalated_ms")
	case workflows.LedgerApprovalAsked:
		add("approvals_asked = approvals_asked + 1")
		addFirst("approval_asked_ms")
	case workflows.LedgerApprovalDecided:
		if e.Decision != workflows.ApprovalWithdrawn {
			addFirst("approval_decided_ms")
		}
		switch e.Decision {
		case workflows.ApprovalTimedOut:
			add("approval_timeouts = approval_timeouts + 1")
		case workflows.ApprovalWithdrawn:
		default:
			if e.Decision == "approve" {
				add("approved_by = ?", e.Actor)
			}
			decided(e.Actor)
		}
	case workflows.LedgerEnforced:
		addFirst("enforced_ms")
		add("action = ?", e.Decision)
	case workflows.LedgerLifted:
		addFirst("lifted_ms")
	case workflows.LedgerAppealed:
		if e.Decision != "late" {
			add("appeals = appeals + 1")
			addFirst("appealed_ms")
		}
	case workflows.LedgerAppealDecided:
		add("appeal_decided_ms = ?", at)
		add("appeal_decision = ?", e.Decision)
		add("appeal_decided_by = ?", e.Actor)
		decided(e.Actor)
	case workflows.LedgerTriaged, workflows.LedgerAgentDecision, workflows.LedgerLegalDecided:
		decided(e.Actor)
		if e.Kind == workflows.LedgerAgentDecision && e.Decision == string(workflows.DecisionAcceptRemediation) {
			add("fixes_accepted = fixes_accepted + 1")
		}
	case workflows.LedgerReopened:
		add("fixes_reopened = fixes_reopened + 1")
	case workflows.LedgerRelisted:
		add("relisted = 1")
	case workflows.LedgerSLABreached:
		add("sla_breaches = sla_breaches + 1")
		switch e.Decision {
		case workflows.SLATriage, workflows.SLAApproval, workflows.SLAAppeal, workflows.SLALegal, workflows.SLAHandoff:
			add(e.Decision + "_breaches = " + e.Decision + "_breaches + 1")
		}
	case workflows.LedgerClosed:
		add("closed_ms = ?", at)
		add("outcome = ?", string(e.Outcome))
	}
	return strings.Join(sets, ", "), args
}

// Event is a kept event as the ledger returns it.
type Event struct {
	Key        string
	CaseNumber string
	At         time.Time
	Kind       string
	Account    string
	Category   string
	Actor      string
	Decision   string
	Outcome    string
	Count      int
}

// Events returns the events of a case in the order they happened.
func (s *Store) Events(ctx context.Context, caseNumber string) ([]Event, error) {
	return s.events(ctx, `SELECT `+eventColumns+` FROM case_events WHERE case_number = ? ORDER BY at_ms, recorded_ms, event_key`, caseNumber)
}

// events runs a query of eventColumns.
func (s *Store) events(ctx context.Context, query string, args ...any) ([]Event, error) {
	rows, err := s.db.QueryContext(ctx, s.Q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("ledger %s: %w", s.Where, err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, fmt.Errorf("ledger %s: %w", s.Where, err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// eventColumns are the columns scanEvent reads, in its order.
const eventColumns = `event_key, case_number, at_ms, kind, account_id, category, actor, decision, outcome, n`

// scanEvent reads a row of eventColumns; the key is the event's within its case.
func scanEvent(r interface{ Scan(...any) error }) (Event, error) {
	var e Event
	var at int64
	if err := r.Scan(&e.Key, &e.CaseNumber, &at, &e.Kind, &e.Account, &e.Category, &e.Actor, &e.Decision, &e.Outcome, &e.Count); err != nil {
		return Event{}, err
	}
	e.Key = strings.TrimPrefix(e.Key, e.CaseNumber+"/")
	e.At = time.UnixMilli(at).UTC()
	return e, nil
}

// Recorded says whether the ledger has the case's first event as the case itself recorded it
// (then the case recorded everything since it opened, and rebuilding its past would count it
// twice).
func (s *Store) Recorded(ctx context.Context, caseNumber string) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, s.Q(`SELECT COUNT(*) FROM case_events WHERE event_key = ?`), caseNumber+"/1").Scan(&n)
	if err != nil {
		return false, fmt.Errorf("ledger %s: %w", s.Where, err)
	}
	return n > 0, nil
}

// Counts returns how many events and cases the ledger keeps.
func (s *Store) Counts(ctx context.Context) (events, cases int, err error) {
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM case_events`).Scan(&events); err != nil {
		return 0, 0, fmt.Errorf("ledger %s: %w", s.Where, err)
	}
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM cases`).Scan(&cases); err != nil {
		return 0, 0, fmt.Errorf("ledger %s: %w", s.Where, err)
	}
	return events, cases, nil
}

func ms(t time.Time) int64 { return t.UnixMilli() }

// nullMS is a time as milliseconds, or NULL for none (a zero time).
func nullMS(t time.Time) sql.NullInt64 {
	return sql.NullInt64{Int64: ms(t), Valid: !t.IsZero()}
}

// reportersText is how case_events.reporters keeps a reports event's reporters: a line each,
// "reporter<TAB>count" when the counts are known, the reporter alone when not.
func reportersText(e workflows.LedgerEvent) string {
	var b strings.Builder
	for i, r := range e.Reporters {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(strings.NewReplacer("\t", " ", "\n", " ").Replace(r))
		if len(e.PerReporter) == len(e.Reporters) {
			b.WriteString("\t" + strconv.Itoa(e.PerReporter[i]))
		}
	}
	return b.String()
}

// parseReporters reads reportersText back: each reporter with its count (-1: not known).
func parseReporters(s string) (names []string, counts []int) {
	if s == "" {
		return nil, nil
	}
	for _, line := range strings.Split(s, "\n") {
		name, n, ok := strings.Cut(line, "\t")
		c := -1
		if ok {
			if v, err := strconv.Atoi(n); err == nil {
				c = v
			}
		}
		names, counts = append(names, name), append(counts, c)
	}
	return names, counts
}

// invalid is input the ledger can never take: the activity does not retry it.
func invalid(msg string) error {
	return &fault.Error{Kind: fault.Invalid, Service: "ledger", Op: "record", Message: msg}
}
