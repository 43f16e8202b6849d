package ledger_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"abusedesk/app/ledger"
	"abusedesk/domain/abuse"
	"abusedesk/workflows"
)

// TestQualityReview: with every decision sampled, the crafted ledger's four decisions wait for
// review oldest first; the decider may not review their own, a second review is refused naming
// the first, and the agreement figures count what was reviewed.
func TestQualityReview(t *testing.T) {
	eachDatabase(t, func(t *testing.T, s *ledger.Store) {
		ctx := context.Background()
		s.SampleRate = func(abuse.Category) float64 { return 1 }
		crafted(t, s)
		crafted(t, s) // recorded again: sampled once
		waiting, err := s.QAQueue(ctx, ledger.QAFilter{})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, it := range waiting {
			got = append(got, it.CaseNumber+" "+it.Subject+" "+it.Decision+" by "+it.Decider)
		}
		want := []string{
			"TS-A agent accept_remediation by agent1@desk.example",
			"TS-C agent not_abuse by agent2@desk.example",
			"TS-B enforcement throttle by lead1@desk.example",
			"TS-B appeal granted by rev@desk.example",
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("queue:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		enf, appeal := waiting[2].ID, waiting[3].ID
		at := t0.Add(200 * time.Hour)
		for _, who := range []string{"lead1@desk.example", "LEAD1"} {
			if _, err := s.Review(ctx, enf, who, ledger.Agree, "", at); !errors.Is(err, ledger.ErrSelfReview) {
				t.Errorf("review by the decider %s: %v, want ErrSelfReview", who, err)
			}
		}
		if _, err := s.Review(ctx, enf, "rev@desk.example", "maybe", "", at); !errors.Is(err, ledger.ErrBadReview) {
			t.Errorf("verdict maybe: %v, want ErrBadReview", err)
		}
		if _, err := s.Review(ctx, "TS-Z/a", "rev@desk.example", ledger.Agree, "", at); !errors.Is(err, ledger.ErrNoSuchReview) {
			t.Errorf("unknown item: %v, want ErrNoSuchReview", err)
		}
		it, err := s.Review(ctx, enf, "rev@desk.example", ledger.Agree, " silent for 3 days ", at)
		if err != nil || it.Verdict != ledger.Agree || it.Note != "silent for 3 days" || !it.ReviewedAt.Equal(at) {
			t.Fatalf("review: %+v, %v", it, err)
		}
		if _, err := s.Review(ctx, enf, "agent1@desk.example", ledger.Disagree, "", at); !errors.Is(err, ledger.ErrReviewed) || !strings.Contains(err.Error(), "agree by rev@desk.example") {
			t.Errorf("second review: %v, want ErrReviewed naming the first", err)
		}
		if _, err := s.Review(ctx, waiting[0].ID, "agent2@desk.example", ledger.Disagree, "the fix was not verified", at.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Review(ctx, appeal, "lead2@desk.example", ledger.Agree, "", at.Add(2*time.Minute)); err != nil {
			t.Fatal(err)
		}
		crafted(t, s) // recorded again: the reviews stand
		reviewed, err := s.QAQueue(ctx, ledger.QAFilter{Reviewed: true})
		if err != nil || len(reviewed) != 3 || reviewed[0].ID != appeal || reviewed[2].ID != enf {
			t.Fatalf("reviewed, newest first: %+v, %v", reviewed, err)
		}
		if w, _ := s.QAQueue(ctx, ledger.QAFilter{}); len(w) != 1 || w[0].CaseNumber != "TS-C" {
			t.Errorf("still waiting: %+v, want TS-C only", w)
		}
		f, err := s.QA(ctx, period)
		if err != nil {
			t.Fatal(err)
		}
		if tot := f.Total; tot.Sampled != 4 || tot.Reviewed != 3 || tot.Agreed != 2 || tot.Disagreed != 1 {
			t.Errorf("total %+v, want 4 sampled, 3 reviewed, 2 agreed, 1 disagreed", tot)
		}
		check := func(list []ledger.QAAgreement, key string, sampled, reviewed int, rate float64) {
			t.Helper()
			for _, a := range list {
				if a.Key == key {
					if a.Sampled != sampled || a.Reviewed != reviewed || a.AgreementRate != rate {
						t.Errorf("%s: %+v, want %d sampled, %d reviewed, agreement %v", key, a, sampled, reviewed, rate)
					}
					return
				}
			}
			t.Errorf("no figures for %s in %+v", key, list)
		}
		check(f.ByCategory, "spam", 2, 1, 0)
		check(f.ByCategory, "phishing", 2, 2, 1)
		check(f.ByDecider, "lead1@desk.example", 1, 1, 1)
		check(f.ByDecider, "agent1@desk.example", 1, 1, 0)
		check(f.ByDecider, "agent2@desk.example", 1, 0, 0)
		check(f.BySubject, "enforcement", 1, 1, 1)
		m, err := s.Metrics(ctx, period)
		if err != nil || m.QA == nil || m.QA.Total != f.Total {
			t.Errorf("metrics carry the QA figures: %+v, %v", m.QA, err)
		}
	})
}

// TestQualitySamplingRate: a rate of 0 samples nothing; the policy's per-category rate picks
// each category's decisions.
func TestQualitySamplingRate(t *testing.T) {
	eachDatabase(t, func(t *testing.T, s *ledger.Store) {
		s.SampleRate = func(c abuse.Category) float64 {
			if c == abuse.Phishing {
				return 1
			}
			return 0
		}
		crafted(t, s)
		items, err := s.QAQueue(context.Background(), ledger.QAFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(items) != 2 || items[0].Category != "phishing" || items[1].Category != "phishing" {
			t.Errorf("sampled %+v, want the two phishing decisions only", items)
		}
	})
}

// TestTimelines: the cases opened in a period with their events in order, and each account's
// enforcement times.
func TestTimelines(t *testing.T) {
	eachDatabase(t, func(t *testing.T, s *ledger.Store) {
		ctx := context.Background()
		crafted(t, s)
		tl, err := s.Timelines(ctx, t0, t0.Add(3*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, c := range tl {
			got = append(got, c.Number+":"+c.Tier)
			for i := 1; i < len(c.Events); i++ {
				if c.Events[i].At.Before(c.Events[i-1].At) {
					t.Errorf("%s: events out of order: %+v", c.Number, c.Events)
				}
			}
		}
		if strings.Join(got, " ") != "TS-A:business TS-B:business TS-C:business" || len(tl[1].Events) != 12 || tl[1].Events[11].Kind != "closed" {
			t.Errorf("timelines %v (TS-B has %d events)", got, len(tl[1].Events))
		}
		acts, err := s.AccountEvents(ctx, "acct-2", 10, workflows.LedgerEnforced, workflows.LedgerLifted)
		if err != nil || len(acts) != 2 || acts[0].Kind != workflows.LedgerLifted || acts[1].Kind != workflows.LedgerEnforced {
			t.Errorf("acct-2's actions, newest first: %+v, %v", acts, err)
		}
		enf, err := s.Enforcements(ctx, t0.Add(1000*time.Hour))
		if err != nil || len(enf) != 1 || len(enf["acct-2"]) != 1 || !enf["acct-2"][0].Equal(t0.Add(77*time.Hour)) {
			t.Errorf("enforcements %v, %v; want acct-2 at 77h", enf, err)
		}
	})
}
