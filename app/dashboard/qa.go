package dashboard

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"abusedesk/app/ledger"
	"abusedesk/app/signin"
	"abusedesk/domain/abuse"
	"abusedesk/platform/httpx"
)

// The quality review queue (/qa, /api/v1/qa): decisions the policy's qa.sample_rate picked, for
// a reviewer who did not make them to agree or disagree with.

// QA is what the review pages read and write.
type QA struct {
	Store *ledger.Store
	// OnReview, when set, hears of each review recorded (the desk counts them on /metrics).
	OnReview func(ledger.QAItem)
}

// qaPeriod is how far back the page's agreement figures look.
const qaPeriod = 90 * 24 * time.Hour

// reviewer is who is reviewing: the person signed in; without sign-in, the basic-auth user name
// when there is one, else the name the form or JSON gave.
func reviewer(r *http.Request, given string) string {
	if p, ok := signin.From(r.Context()); ok {
		return p.Email
	}
	if user, _, ok := r.BasicAuth(); ok && strings.TrimSpace(user) != "" {
		return strings.TrimSpace(user)
	}
	return strings.TrimSpace(given)
}

// errNotLead refuses a quality review by someone signed in without the lead role.
var errNotLead = errors.New("quality reviews need the lead role")

type qaPage struct {
	Title, Home, Flash string
	Errors             []string
	Refused            string
	Category           string
	Cats               []abuse.Category
	SignedIn           string
	Waiting, Reviewed  []ledger.QAItem
	Figures            *ledger.QAFigures
	Tables             []qaTable
	Days               int
}

// qaTable is one breakdown of the agreement figures.
type qaTable struct {
	Name string
	Rows []ledger.QAAgreement
}

func (d *Dashboard) qaPage(w http.ResponseWriter, r *http.Request) {
	d.renderQA(w, r, http.StatusOK, "")
}

// renderQA shows the queue, with refused (when set) saying why the last review was not taken.
func (d *Dashboard) renderQA(w http.ResponseWriter, r *http.Request, status int, refused string) {
	store := d.opts.QA.Store
	cat := r.URL.Query().Get("category")
	data := qaPage{Title: "Quality review", Home: d.home(), Flash: flashOf(r), Refused: refused, Category: cat,
		Cats: abuse.Categories, SignedIn: reviewer(r, ""), Days: int(qaPeriod / (24 * time.Hour))}
	var err error
	if data.Waiting, err = store.QAQueue(r.Context(), ledger.QAFilter{Category: cat}); err != nil {
		data.Errors = append(data.Errors, "queue: "+err.Error())
	}
	if data.Reviewed, err = store.QAQueue(r.Context(), ledger.QAFilter{Reviewed: true, Category: cat, Limit: 50}); err != nil {
		data.Errors = append(data.Errors, "reviewed: "+err.Error())
	}
	data.Waiting, data.Reviewed = d.visibleQA(r, data.Waiting), d.visibleQA(r, data.Reviewed)
	now := time.Now()
	if data.Figures, err = store.QA(r.Context(), ledger.Query{From: now.Add(-qaPeriod), To: now, Category: cat}); err != nil {
		data.Errors = append(data.Errors, "agreement: "+err.Error())
	} else {
		f := data.Figures
		data.Tables = []qaTable{{"By category", f.ByCategory}, {"By decider", f.ByDecider}, {"By kind of decision", f.BySubject}}
	}
	if len(data.Errors) > 0 {
		d.log.Error("quality review", "errors", data.Errors)
		status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	d.render(w, "qa.html", data)
}

// reviewStatus is the HTTP status a refused review answers.
func reviewStatus(err error) int {
	switch {
	case errors.Is(err, ledger.ErrNoSuchReview):
		return http.StatusNotFound
	case errors.Is(err, ledger.ErrSelfReview), errors.Is(err, errNotLead):
		return http.StatusForbidden
	case errors.Is(err, ledger.ErrReviewed):
		return http.StatusConflict
	case errors.Is(err, ledger.ErrBadReview):
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}

// review records one, and says what the desk made of it.
// visibleQA leaves out the decisions on legal-track cases the person may not see.
func (d *Dashboard) visibleQA(r *http.Request, items []ledger.QAItem) []ledger.QAItem {
	if d.seesLegal(r) {
		return items
	}
	return slices.DeleteFunc(items, func(it ledger.QAItem) bool { return onLegalTrack(it.Category) })
}

func (d *Dashboard) review(r *http.Request, id, who, verdict, note string) (ledger.QAItem, error) {
	if !d.seesLegal(r) {
		if it, err := d.opts.QA.Store.QAItem(r.Context(), id); err == nil && onLegalTrack(it.Category) {
			return ledger.QAItem{}, fmt.Errorf("%w: %s", ledger.ErrNoSuchReview, id)
		}
	}
	if d.opts.SignIn != nil {
		if p, ok := signin.From(r.Context()); !ok || !p.Has(signin.Lead) {
			return ledger.QAItem{}, fmt.Errorf("%w: %s is signed in without it", errNotLead, p.Email)
		}
	}
	it, err := d.opts.QA.Store.Review(r.Context(), id, who, verdict, note, time.Now())
	if err != nil {
		if reviewStatus(err) == http.StatusInternalServerError {
			d.log.Error("quality review", "item", id, "error", err)
		}
		return it, err
	}
	d.log.Info("quality review recorded", "item", id, "reviewer", who, "verdict", verdict)
	if d.opts.QA.OnReview != nil {
		d.opts.QA.OnReview(it)
	}
	return it, nil
}

// reviewForm answers POST /qa/{id...} from the page: back to the queue with what was recorded,
// or the queue again with why it was refused.
func (d *Dashboard) reviewForm(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	it, err := d.review(r, id, reviewer(r, r.PostFormValue("reviewer")), r.PostFormValue("verdict"), r.PostFormValue("note"))
	if err != nil {
		d.renderQA(w, r, reviewStatus(err), fmt.Sprintf("Review of %s not recorded: %v.", id, err))
		return
	}
	redirect(w, r, "/qa", fmt.Sprintf("Review recorded: you %s with %s's %s decision on %s (%s).", it.Verdict, it.Decider, it.Subject, it.CaseNumber, it.Decision))
}

// qaJSON answers GET /api/v1/qa: the waiting decisions (?reviewed=true: the reviewed ones) and
// the agreement figures of the last 90 days.
func (d *Dashboard) qaJSON(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	items, err := d.opts.QA.Store.QAQueue(r.Context(), ledger.QAFilter{Reviewed: q.Get("reviewed") == "true", Category: q.Get("category")})
	if err != nil {
		d.log.Error("quality review", "error", err)
		httpx.Problem(w, http.StatusInternalServerError, err.Error())
		return
	}
	now := time.Now()
	f, err := d.opts.QA.Store.QA(r.Context(), ledger.Query{From: now.Add(-qaPeriod), To: now, Category: q.Get("category")})
	if err != nil {
		d.log.Error("quality review", "error", err)
		httpx.Problem(w, http.StatusInternalServerError, err.Error())
		return
	}
	if items = d.visibleQA(r, items); items == nil {
		items = []ledger.QAItem{}
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"items": items, "agreement": f})
}

// reviewJSON answers POST /api/v1/qa/{id...} with {"reviewer", "verdict", "note"}: the reviewed
// item, or a problem saying why the review was refused (403 the decider, 409 reviewed before,
// 404 no such item, 400 a bad verdict).
func (d *Dashboard) reviewJSON(w http.ResponseWriter, r *http.Request) {
	var in struct{ Reviewer, Verdict, Note string }
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&in); err != nil {
		httpx.Problem(w, http.StatusBadRequest, "the body is not a JSON review {\"reviewer\", \"verdict\", \"note\"}: "+err.Error())
		return
	}
	it, err := d.review(r, r.PathValue("id"), reviewer(r, in.Reviewer), in.Verdict, in.Note)
	if err != nil {
		httpx.Problem(w, reviewStatus(err), err.Error())
		return
	}
	httpx.WriteJSON(w, http.StatusOK, it)
}
