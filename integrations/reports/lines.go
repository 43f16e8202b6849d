package reports

import "time"

// Line is what the parser made of one report, as `desk report parse` prints it (one JSON
// object a report, or a file for replies and failures).
type Line struct {
	File       string    `json:"file"`
	Kind       string    `json:"kind"`
	ID         string    `json:"id,omitempty"`
	Format     string    `json:"format,omitempty"`
	Category   string    `json:"category,omitempty"`
	Track      string    `json:"track,omitempty"`
	SourceIPs  []string  `json:"source_ips"`
	Domains    []string  `json:"domains"`
	URLs       []string  `json:"urls"`
	Senders    []string  `json:"senders"`
	Ranges     []string  `json:"ranges"`
	Phones     []string  `json:"phones"`
	SenderIDs  []string  `json:"sender_ids,omitempty"`
	Campaigns  []string  `json:"campaigns,omitempty"`
	Brands     []string  `json:"brands,omitempty"`
	Services   []string  `json:"messaging_services,omitempty"`
	Reporter   string    `json:"reporter,omitempty"`
	EventTime  time.Time `json:"event_time,omitzero"`
	ReceivedAt time.Time `json:"received_at,omitzero"`
	FeedbackID string    `json:"feedback_id,omitempty"`
	Account    string    `json:"account_hint,omitempty"`
	Confidence float64   `json:"confidence,omitempty"`
	Signals    []string  `json:"signals,omitempty"`
	CaseNumber string    `json:"case_number,omitempty"`
	Warnings   []string  `json:"warnings,omitempty"`
	Error      string    `json:"error,omitempty"`
}

// Lines are the result of parsing file, a line a report (one line when it holds none).
func (res *Result) Lines(file string) []Line {
	if len(res.Reports) == 0 {
		l := Line{File: file, Kind: string(res.Kind), Error: res.Error, ID: res.MessageID}
		if res.Reply != nil {
			l.CaseNumber, l.Reporter, l.EventTime = res.Reply.CaseNumber, res.Reply.From, res.Reply.Date
		}
		return []Line{l}
	}
	var out []Line
	for _, r := range res.Reports {
		out = append(out, Line{
			File: file, Kind: string(res.Kind), ID: r.ID, Format: r.Format, Category: string(r.Category), Track: string(r.Track),
			SourceIPs: orEmpty(r.SourceIPs), Domains: orEmpty(r.Domains), URLs: orEmpty(r.URLs), Senders: orEmpty(r.Senders),
			Ranges: orEmpty(r.Ranges), Phones: orEmpty(r.Phones), SenderIDs: r.SenderIDs,
			Campaigns: r.Campaigns, Brands: r.Brands, Services: r.Services,
			Reporter: r.Reporter, EventTime: r.EventTime, ReceivedAt: r.ReceivedAt, FeedbackID: r.FeedbackID, Account: r.AccountHint,
			Confidence: r.Confidence, Signals: r.Signals, Warnings: r.Warnings,
		})
	}
	return out
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
