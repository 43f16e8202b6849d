package abuse

import "time"

// MessagingCounts are what the platform counted of a sending identity's texts.
type MessagingCounts struct {
	Sent       int `json:"sent"`
	Delivered  int `json:"delivered"`
	Failed     int `json:"failed"`
	Filtered   int `json:"filtered"`
	OptOuts    int `json:"opt_outs"`
	Complaints int `json:"complaints"`
}

// Add adds o's counts to c's.
func (c *MessagingCounts) Add(o MessagingCounts) {
	c.Sent, c.Delivered, c.Failed, c.Filtered = c.Sent+o.Sent, c.Delivered+o.Delivered, c.Failed+o.Failed, c.Filtered+o.Filtered
	c.OptOuts, c.Complaints = c.OptOuts+o.OptOuts, c.Complaints+o.Complaints
}

// ComplaintsPer1000 is complaints per 1,000 messages sent (0 with none sent).
func (c MessagingCounts) ComplaintsPer1000() float64 { return per(c.Complaints, c.Sent, 1000) }

// OptOutRate is the share of messages sent answered with an opt-out (0–1).
func (c MessagingCounts) OptOutRate() float64 { return per(c.OptOuts, c.Sent, 1) }

// FilteredRate is the share of messages sent a carrier filtered as spam (0–1).
func (c MessagingCounts) FilteredRate() float64 { return per(c.Filtered, c.Sent, 1) }

func per(n, of int, scale float64) float64 {
	if of <= 0 {
		return 0
	}
	return float64(n) * scale / float64(of)
}

// MessagingHour is one hour's counts.
type MessagingHour struct {
	Start time.Time `json:"start"`
	MessagingCounts
}

// MessagingSample is one message as the platform keeps it for abuse review: the recipient
// masked, personal data in the body replaced.
type MessagingSample struct {
	At   time.Time `json:"at"`
	To   string    `json:"to"`
	Body string    `json:"body"`
}

// Traffic is what the platform recorded of one sending identity's texts over a period (the
// enforcement API's messaging records): the evidence behind a messaging complaint. Identity is
// the number, sender ID, campaign or messaging service, as an action's scope names it.
type Traffic struct {
	Identity Scope     `json:"identity"`
	Since    time.Time `json:"since"`
	Until    time.Time `json:"until"`
	MessagingCounts
	Hours   []MessagingHour   `json:"hours,omitempty"`
	Samples []MessagingSample `json:"samples,omitempty"`
	// Evidence is the digest of the records read from the API (JSON in the contract's fields), in the evidence store.
	Evidence string `json:"evidence,omitempty"`
}

// Totals is t without its hours and messages: its identity, period and counts.
func (t Traffic) Totals() *Traffic {
	t.Hours, t.Samples = nil, nil
	return &t
}

// LastHours keeps the last n hours of t's hours (the rest stay in the evidence).
func (t *Traffic) LastHours(n int) {
	if len(t.Hours) > n {
		t.Hours = t.Hours[len(t.Hours)-n:]
	}
}
