package slack

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"abusedesk/domain/approval"
)

// Decider hands a lead's decision to the case (as an Update, so the answer says at once
// whether the click counted) and returns the sentence to show the lead. When the case refuses
// it, the error has a Refused() reason.
type Decider interface {
	DecideApproval(ctx context.Context, caseID string, d approval.Decision) (message string, err error)
}

// HandOffs hand a team's answer to a hand-off (as an Update) and return the sentence to show
// who answered; a refusal has a Refused() reason.
type HandOffs interface {
	AnswerHandOff(ctx context.Context, workflowID string, a approval.TeamAnswer) (message string, err error)
}

// Queue keeps a verified interaction's payload (JSON) for Process.
type Queue interface {
	Put(payload []byte) error
}

// refusal is an error by which a case declined a decision (already decided, not pending…).
type refusal interface{ Refused() string }

// Interactions handles clicks on approval requests — from the HTTP endpoint or Socket Mode,
// the same way.
type Interactions struct {
	API     *slack.Client
	Decider Decider
	// HandOffs takes answers to hand-offs (nil: their buttons are refused).
	HandOffs  HandOffs
	Approvers approval.Approvers
	Log       *slog.Logger
	// Queue, when set, keeps the clicks that need no answer in the moment (Approve, Extend, a
	// deny with its reason) durably, so Slack is answered at once — within its 3 s, whatever
	// Temporal and Slack's API take — and Process does them after; a crash between the answer
	// and the work loses nothing. Without it every click is handled before Slack is answered.
	Queue Queue

	mu     sync.Mutex
	groups map[string]groupMembers
}

type groupMembers struct {
	users   []string
	fetched time.Time
}

// groupTTL is how long user-group membership is cached.
const groupTTL = 5 * time.Minute

// Handle processes one interaction and returns the response body Slack expects (nil for
// none): block actions answer through ephemeral messages; the deny modal's submission
// answers with errors to show in the modal when the case refuses.
func (h *Interactions) Handle(ctx context.Context, cb slack.InteractionCallback) any {
	resp, _ := h.handle(ctx, cb, false)
	return resp
}

// Process does a click Queue kept (its payload as Slack sent it). A case's refusal is told
// the lead and done with; an error means the case could not be reached, and the click is
// to be tried again (the same click decides once: its decision carries a request ID).
func (h *Interactions) Process(ctx context.Context, payload []byte) error {
	var cb slack.InteractionCallback
	if err := json.Unmarshal(payload, &cb); err != nil {
		return permanentError{fmt.Errorf("a kept interaction is unreadable: %w", err)}
	}
	_, err := h.handle(ctx, cb, true)
	return err
}

// permanentError is a kept interaction that cannot be done, however often it is tried (an
// Inbox sets it aside).
type permanentError struct{ error }

func (permanentError) Permanent() bool { return true }

// GiveUp tells the lead that a kept click could not be delivered and was not applied.
func (h *Interactions) GiveUp(ctx context.Context, payload []byte, cause error) {
	var cb slack.InteractionCallback
	if json.Unmarshal(payload, &cb) != nil {
		return
	}
	if cb.Type == slack.InteractionTypeViewSubmission {
		if cb.View.CallbackID == CallbackHandOff {
			if parts := strings.SplitN(cb.View.PrivateMetadata, "\n", 4); len(parts) == 4 {
				cb.Channel.ID = parts[2]
			}
		} else {
			_, cb = denyDialog(cb)
		}
	}
	h.ephemeral(ctx, cb, "Your decision could not be delivered to the case and was not applied ("+cause.Error()+"). Please click again.")
}

// deferrable reports whether a click can be answered before it is done: Approve and Extend
// (answered by an ephemeral message anyway) and a deny with its reason. Deny's click opens a
// dialog, which Slack allows only within 3 s of it, and a deny without a reason is answered
// in the dialog.
func (h *Interactions) deferrable(cb slack.InteractionCallback) bool {
	if h.Queue == nil {
		return false
	}
	switch cb.Type {
	case slack.InteractionTypeBlockActions:
		for _, a := range cb.ActionCallback.BlockActions {
			if a.ActionID != ActionApprove && a.ActionID != ActionExtend {
				return false
			}
		}
		return len(cb.ActionCallback.BlockActions) > 0
	case slack.InteractionTypeViewSubmission:
		return (cb.View.CallbackID == CallbackDeny && denyReason(cb) != "") || (cb.View.CallbackID == CallbackHandOff && handOffReady(cb))
	}
	return false
}

// keep puts a click that can be answered before it is done (deferrable) in the Queue and
// reports whether it did; a click it could not keep is handled at once, as without a Queue.
func (h *Interactions) keep(cb slack.InteractionCallback, payload []byte) bool {
	if !h.deferrable(cb) || len(payload) == 0 {
		return false
	}
	if err := h.Queue.Put(payload); err != nil {
		h.log().Warn("click not kept for later; handling it now", "error", err)
		return false
	}
	return true
}

// handle processes one interaction; deferred (from Queue) it returns the error of a case that
// could not be reached instead of asking the lead to click again.
func (h *Interactions) handle(ctx context.Context, cb slack.InteractionCallback, deferred bool) (any, error) {
	switch cb.Type {
	case slack.InteractionTypeBlockActions:
		var errs []error
		for _, a := range cb.ActionCallback.BlockActions {
			errs = append(errs, h.blockAction(ctx, cb, a, deferred))
		}
		return nil, errors.Join(errs...)
	case slack.InteractionTypeViewSubmission:
		switch cb.View.CallbackID {
		case CallbackDeny:
			return h.denySubmitted(ctx, cb, deferred)
		case CallbackHandOff:
			return h.handOffSubmitted(ctx, cb, deferred)
		}
	}
	return nil, nil
}

func (h *Interactions) blockAction(ctx context.Context, cb slack.InteractionCallback, a *slack.BlockAction, deferred bool) error {
	var decision string
	switch a.ActionID {
	case ActionApprove:
		decision = approval.Approve
	case ActionExtend:
		decision = approval.Extend
	case ActionDeny:
		decision = approval.Deny
	case ActionUndo:
		decision = approval.Undo // a bulk action's: the action refuses it elsewhere
	default:
		if action, ok := handOffActions[a.ActionID]; ok {
			// Anyone in the team's channel may answer; who did is recorded.
			h.openHandOffDialog(ctx, cb, a.Value, action)
		}
		return nil
	}
	caseID := a.Value
	if !h.isApprover(ctx, cb.User.ID) {
		h.ephemeral(ctx, cb, "You are not one of the approvers for abuse escalations, so this click was not counted.")
		h.log().Info("approval click refused: not an approver", "user_id", cb.User.ID, "case_id", caseID)
		return nil
	}
	if decision == approval.Deny {
		h.openDenyModal(ctx, cb, caseID)
		return nil
	}
	err := h.decide(ctx, cb, caseID, approval.Decision{Decision: decision, RequestID: requestID(cb.User.ID, a.ActionTs)}, deferred)
	var r refusal
	if errors.As(err, &r) {
		return nil
	}
	return err
}

func (h *Interactions) decide(ctx context.Context, cb slack.InteractionCallback, caseID string, d approval.Decision, deferred bool) error {
	d.UserID = cb.User.ID
	d.UserName = cmp.Or(cb.User.Name, cb.User.ID)
	if u, err := h.API.GetUserInfoContext(ctx, cb.User.ID); err == nil {
		d.UserName = cmp.Or(u.RealName, u.Name, d.UserName)
		d.UserEmail = strings.ToLower(u.Profile.Email)
	} else {
		h.log().Warn("user info unavailable; deciding without the email", "user_id", cb.User.ID, "error", err)
	}
	msg, err := h.Decider.DecideApproval(ctx, caseID, d)
	var r refusal
	switch {
	case errors.As(err, &r):
		h.ephemeral(ctx, cb, "Not applied: "+r.Refused())
		return err
	case err != nil && deferred:
		return err // kept: tried again, the lead is told only if it never goes through
	case err != nil:
		h.log().Error("approval decision failed", "case_id", caseID, "user_id", cb.User.ID, "error", err)
		h.ephemeral(ctx, cb, "The decision could not be delivered to the case ("+err.Error()+"). Please try again.")
		return err
	}
	h.ephemeral(ctx, cb, msg)
	return nil
}

func (h *Interactions) openDenyModal(ctx context.Context, cb slack.InteractionCallback, caseID string) {
	title, hint := "Deny escalation", "Why not? The agents see this."
	if strings.HasPrefix(caseID, approval.BulkIDPrefix) {
		title, hint = "Deny bulk action", "Why not? The leads and the record keep this."
	}
	input := slack.NewPlainTextInputBlockElement(slack.NewTextBlockObject(slack.PlainTextType, hint, false, false), actionReasonID)
	input.Multiline = true
	view := slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      CallbackDeny,
		Title:           slack.NewTextBlockObject(slack.PlainTextType, title, false, false),
		Submit:          slack.NewTextBlockObject(slack.PlainTextType, "Deny", false, false),
		Close:           slack.NewTextBlockObject(slack.PlainTextType, "Cancel", false, false),
		PrivateMetadata: strings.Join([]string{caseID, cb.Channel.ID, cb.User.ID}, "\n"),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewInputBlock(blockReason, slack.NewTextBlockObject(slack.PlainTextType, "Reason", false, false), nil, input),
		}},
	}
	if _, err := h.API.OpenViewContext(ctx, cb.TriggerID, view); err != nil {
		h.log().Error("cannot open the deny dialog", "case_id", caseID, "error", err)
		h.ephemeral(ctx, cb, "Could not open the dialog to deny ("+err.Error()+").")
	}
}

func (h *Interactions) denySubmitted(ctx context.Context, cb slack.InteractionCallback, deferred bool) (any, error) {
	caseID, cb := denyDialog(cb)
	reason := denyReason(cb)
	if reason == "" {
		return viewErrors("Please give a reason: the agents will read it."), nil
	}
	if !h.isApprover(ctx, cb.User.ID) {
		if deferred {
			h.ephemeral(ctx, cb, "You are not one of the approvers for abuse escalations, so your deny was not counted.")
			return nil, nil
		}
		return viewErrors("You are not one of the approvers for abuse escalations."), nil
	}
	err := h.decide(ctx, cb, caseID, approval.Decision{Decision: approval.Deny, Reason: reason, RequestID: requestID(cb.User.ID, cb.View.ID)}, deferred)
	var r refusal
	switch {
	case errors.As(err, &r) && deferred:
		return nil, nil // told by an ephemeral message
	case errors.As(err, &r):
		return viewErrors(r.Refused()), nil
	case err != nil && deferred:
		return nil, err
	case err != nil:
		return viewErrors("Could not reach the case: " + err.Error()), nil
	}
	return nil, nil
}

// denyDialog reads what openDenyModal put in the dialog's private metadata: the case, and
// the channel of the approval message (returned in cb, where ephemeral answers go).
func denyDialog(cb slack.InteractionCallback) (caseID string, _ slack.InteractionCallback) {
	parts := strings.SplitN(cb.View.PrivateMetadata, "\n", 3)
	if len(parts) == 3 {
		cb.Channel.ID = parts[1]
	}
	return parts[0], cb
}

// requestID names one click (a user and Slack's ID of the action or dialog), so that delivering
// it twice decides once; without Slack's ID it is "" (a fresh one each time).
func requestID(user, id string) string {
	if id == "" {
		return ""
	}
	return "slack/" + user + "/" + id
}

// handOffReady says a hand-off dialog was filled in as its answer needs (a resolution may be
// empty; a question or a team may not).
func handOffReady(cb slack.InteractionCallback) bool {
	parts := strings.SplitN(cb.View.PrivateMetadata, "\n", 4)
	return len(parts) == 4 && (parts[1] == approval.HandOffResolve || denyReason(cb) != "")
}

// denyReason is the reason typed in the deny dialog (and in a hand-off's).
func denyReason(cb slack.InteractionCallback) string {
	if cb.View.State == nil {
		return ""
	}
	return strings.TrimSpace(cb.View.State.Values[blockReason][actionReasonID].Value)
}

func viewErrors(msg string) map[string]any {
	return map[string]any{"response_action": "errors", "errors": map[string]string{blockReason: msg}}
}

// isApprover checks the configured users and user groups, so that a bystander's click is
// answered at once; the case itself accepts a decision only from the deciders it resolved.
func (h *Interactions) isApprover(ctx context.Context, user string) bool {
	var in []string
	for _, g := range h.Approvers.Groups {
		if slices.Contains(h.members(ctx, g), user) {
			in = append(in, g)
		}
	}
	return h.Approvers.IsApprover(user, in)
}

func (h *Interactions) members(ctx context.Context, group string) []string {
	h.mu.Lock()
	cached, ok := h.groups[group]
	h.mu.Unlock()
	if ok && time.Since(cached.fetched) < groupTTL {
		return cached.users
	}
	users, err := h.API.GetUserGroupMembersContext(ctx, group)
	if err != nil {
		h.log().Warn("user group members unavailable", "group", group, "error", err)
		return cached.users
	}
	h.mu.Lock()
	if h.groups == nil {
		h.groups = map[string]groupMembers{}
	}
	h.groups[group] = groupMembers{users: users, fetched: time.Now()}
	h.mu.Unlock()
	return users
}

func (h *Interactions) ephemeral(ctx context.Context, cb slack.InteractionCallback, text string) {
	if cb.Channel.ID == "" {
		return
	}
	if _, err := h.API.PostEphemeralContext(ctx, cb.Channel.ID, cb.User.ID, slack.MsgOptionText(Escape(text), false)); err != nil {
		h.log().Warn("ephemeral message not sent", "user_id", cb.User.ID, "error", err)
	}
}

func (h *Interactions) log() *slog.Logger {
	if h.Log == nil {
		return slog.Default()
	}
	return h.Log
}

// maxBody bounds an interaction request.
const maxBody = 1 << 20

// HTTPHandler serves Slack's interactivity requests: the signing secret is checked (a forged
// or stale request gets 401 and changes nothing), then the payload is handled.
func (h *Interactions) HTTPHandler(signingSecret string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
		if err != nil || len(body) > maxBody {
			http.Error(w, "request body too large or unreadable", http.StatusRequestEntityTooLarge)
			return
		}
		v, err := slack.NewSecretsVerifier(r.Header, signingSecret)
		if err == nil {
			_, _ = v.Write(body)
			err = v.Ensure()
		}
		if err != nil {
			h.log().Warn("slack interaction refused", "reason", err.Error(), "remote", r.RemoteAddr)
			http.Error(w, "invalid Slack signature: "+err.Error(), http.StatusUnauthorized)
			return
		}
		form, err := url.ParseQuery(string(body))
		if err != nil || form.Get("payload") == "" {
			http.Error(w, "no payload", http.StatusBadRequest)
			return
		}
		var cb slack.InteractionCallback
		if err := json.Unmarshal([]byte(form.Get("payload")), &cb); err != nil {
			http.Error(w, "payload is not an interaction: "+err.Error(), http.StatusBadRequest)
			return
		}
		if h.keep(cb, []byte(form.Get("payload"))) {
			w.WriteHeader(http.StatusOK)
			return
		}
		resp := h.Handle(r.Context(), cb)
		if resp == nil {
			w.WriteHeader(http.StatusOK)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(resp)
	})
}

// RunSocketMode receives interactions over Socket Mode until ctx ends. api must carry the
// app-level token.
func (h *Interactions) RunSocketMode(ctx context.Context, api *slack.Client) error {
	smc := socketmode.New(api)
	errc := make(chan error, 1)
	go func() { errc <- smc.RunContext(ctx) }()
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-errc:
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("slack socket mode: %w", err)
		case evt, ok := <-smc.Events:
			if !ok {
				return nil
			}
			switch evt.Type {
			case socketmode.EventTypeInteractive:
				cb, ok := evt.Data.(slack.InteractionCallback)
				if !ok || evt.Request == nil {
					continue
				}
				if h.keep(cb, evt.Request.Payload) {
					_ = smc.Ack(*evt.Request)
					continue
				}
				resp := h.Handle(ctx, cb)
				if resp != nil {
					_ = smc.Ack(*evt.Request, resp)
				} else {
					_ = smc.Ack(*evt.Request)
				}
			case socketmode.EventTypeConnectionError, socketmode.EventTypeInvalidAuth:
				h.log().Warn("slack socket mode", "event", string(evt.Type), "data", fmt.Sprint(evt.Data))
			case socketmode.EventTypeConnected:
				h.log().Info("slack socket mode connected")
			}
		}
	}
}
