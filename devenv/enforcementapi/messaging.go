package enforcementapi

import (
	"fmt"
	"hash/fnv"
	"net/http"
	"slices"
	"strings"
	"time"

	"abusedesk/integrations/enforcement/wire"
)

// The messaging records of an account's sending identities, as a messaging platform keeps
// them. The stand-in has no real traffic: it makes a steady, repeatable one up for each
// identity (the same hour always counts the same), and honours the account's actions — a
// suspension of sending on the identity or the account stops it, a throttle slows it — so that
// a check after an action sees the traffic stop.

// messagingRate is an identity's messages an hour, by kind.
var messagingRate = map[string]int{"campaign": 600, "messaging_service": 900, "phone": 120, "sender_id": 300}

// maxMessagingPeriod is the longest period one request may ask for.
const maxMessagingPeriod = 31 * 24 * time.Hour

func (s *Server) messaging(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	kind, value, ok := strings.Cut(q.Get("subject"), ":")
	if !ok || messagingRate[kind] == 0 || strings.TrimSpace(value) == "" {
		problem(w, http.StatusBadRequest, "Bad Request", fmt.Sprintf("subject: %q is not kind:value with kind phone, sender_id, campaign or messaging_service", q.Get("subject")))
		return
	}
	since, err := time.Parse(time.RFC3339, q.Get("since"))
	if err != nil {
		problem(w, http.StatusBadRequest, "Bad Request", fmt.Sprintf("since: %q is not an RFC 3339 time", q.Get("since")))
		return
	}
	until := s.Now().UTC()
	if v := q.Get("until"); v != "" {
		if until, err = time.Parse(time.RFC3339, v); err != nil {
			problem(w, http.StatusBadRequest, "Bad Request", fmt.Sprintf("until: %q is not an RFC 3339 time", v))
			return
		}
	}
	since, until = since.UTC(), until.UTC()
	if !since.Before(until) || until.Sub(since) > maxMessagingPeriod {
		problem(w, http.StatusBadRequest, "Bad Request", fmt.Sprintf("since %s until %s: want a period of up to 31 days", since.Format(time.RFC3339), until.Format(time.RFC3339)))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	acct, ok := s.accounts[r.PathValue("id")]
	if !ok {
		problem(w, http.StatusNotFound, "Not Found", "no account "+r.PathValue("id"))
		return
	}
	held := acct.held(kind)
	i := slices.IndexFunc(held, func(v string) bool { return strings.EqualFold(v, strings.TrimSpace(value)) })
	if i < 0 {
		problem(w, http.StatusUnprocessableEntity, "Unprocessable Entity", fmt.Sprintf("subject: account %s has no %s %s", acct.ID, kind, value))
		return
	}
	value = held[i]
	var acts []*Action
	for _, id := range s.order {
		if a := s.actions[id]; a.AccountID == acct.ID {
			s.advance(a)
			acts = append(acts, a)
		}
	}
	out := wire.MessagingRecords{AccountId: acct.ID, Subject: kind + ":" + value, Since: since, Until: until,
		Hours: []wire.MessagingHour{}, Samples: []wire.MessagingSample{}}
	for from := since; from.Before(until); {
		end := from.Truncate(time.Hour).Add(time.Hour)
		if end.After(until) {
			end = until
		}
		c := hourCounts(kind, value, from, end, restriction(acts, kind, value, from))
		out.Hours = append(out.Hours, wire.MessagingHour{Start: from, Sent: c.Sent, Delivered: c.Delivered, Failed: c.Failed,
			Filtered: c.Filtered, OptOuts: c.OptOuts, Complaints: c.Complaints})
		t := &out.Totals
		t.Sent, t.Delivered, t.Failed, t.Filtered, t.OptOuts, t.Complaints = t.Sent+c.Sent, t.Delivered+c.Delivered, t.Failed+c.Failed,
			t.Filtered+c.Filtered, t.OptOuts+c.OptOuts, t.Complaints+c.Complaints
		if c.Sent > 0 && len(out.Samples) < 3 {
			out.Samples = append(out.Samples, sampleMessage(acct.Name, value, from, len(out.Samples)))
		}
		from = end
	}
	writeJSON(w, http.StatusOK, out)
}

// restriction is how much of an identity's traffic the account's actions let through at a
// time: 0 under a suspension of sending (on the identity or the whole account) or of the
// account, a share under a throttle, 1 with none.
func restriction(acts []*Action, kind, value string, at time.Time) float64 {
	through := 1.0
	for _, a := range acts {
		if a.AppliedAt == nil || at.Before(*a.AppliedAt) || (a.LiftedAt != nil && !at.Before(*a.LiftedAt)) {
			continue
		}
		if a.Scope != nil && (a.Scope.Kind != kind || !strings.EqualFold(a.Scope.Value, value)) {
			continue // another identity's action
		}
		switch a.Type {
		case "suspend_sending", "suspend_account":
			return 0
		case "throttle":
			through = min(through, 1-0.3*float64(a.Level))
		}
	}
	return through
}

// hourCounts makes up an identity's counts from from to end (within one hour), the same every
// time it is asked: its rate with a little variation by hour, a share through the restriction.
func hourCounts(kind, value string, from, end time.Time, through float64) wire.MessagingCounts {
	h := fnv.New32a()
	fmt.Fprintf(h, "%s:%s@%d", kind, value, from.Truncate(time.Hour).Unix())
	jitter := 0.8 + float64(h.Sum32()%40)/100 // 0.80–1.19
	sent := int(float64(messagingRate[kind]) * jitter * through * end.Sub(from).Hours())
	filtered := sent * 3 / 100
	failed := sent * 2 / 100
	return wire.MessagingCounts{Sent: sent, Filtered: filtered, Failed: failed, Delivered: sent - filtered - failed,
		OptOuts: sent * 8 / 1000, Complaints: sent * 3 / 1000}
}

// sampleMessage is one of an identity's messages as the platform keeps it for review.
func sampleMessage(brand, value string, at time.Time, n int) wire.MessagingSample {
	bodies := []string{
		"%s: you are pre-approved for a loan of up to $5,000! Apply now at [link]. Reply STOP to opt out",
		"%s: [first name], your offer expires today. Claim it at [link]",
		"%s: last chance! Rates from 2.9%%. Text YES to learn more",
	}
	return wire.MessagingSample{At: at, To: fmt.Sprintf("+1312555%02d**", (n*37)%100), Body: fmt.Sprintf(bodies[n%len(bodies)], brand)}
}
