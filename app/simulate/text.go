package simulate

import (
	"fmt"
	"io"
	"time"
)

// WriteText prints a simulation for a person: the totals side by side, then up to limit cases
// that differ, each with why.
func WriteText(w io.Writer, r *Result, current, candidate string, limit int) error {
	pct := func(n, of int) string {
		if of == 0 {
			return "—"
		}
		return fmt.Sprintf("%.1f%%", 100*float64(n)/float64(of))
	}
	fmt.Fprintf(w, "Policy simulation: cases opened %s to %s\n", r.From.Format(time.DateOnly), r.To.Format(time.DateOnly))
	fmt.Fprintf(w, "  current:   %s\n  candidate: %s\n", current, candidate)
	fmt.Fprintf(w, "%d case(s) in the ledger; %d replayed (the others are on the advisory, legal or customer track, or were never noticed).\n",
		r.Cases, r.Replayed)
	fmt.Fprintf(w, "Replaying the current policy gives the recorded enforcement in %d of %d replayed cases (%s): trust the differences below as far as that.\n\n",
		r.Matched, r.Replayed, pct(r.Matched, r.Replayed))
	const line = "%-42s %10s %10s %8s\n"
	fmt.Fprintf(w, line, "", "current", "candidate", "change")
	row := func(name string, a, b int) {
		fmt.Fprintf(w, line, name, fmt.Sprint(a), fmt.Sprint(b), fmt.Sprintf("%+d", b-a))
	}
	row("enforcements", r.Current.Enforced, r.Candidate.Enforced)
	for _, c := range r.Categories() {
		row("  "+c, r.Current.ByCategory[c], r.Candidate.ByCategory[c])
	}
	row("approvals requested", r.Current.AskedLead, r.Candidate.AskedLead)
	row("waiting for a lead (no answer recorded)", r.Current.WaitsForLead, r.Candidate.WaitsForLead)
	fmt.Fprintf(w, line, "time to action, median", orDash(r.Current.TimeToAction.N, r.Current.TimeToAction.P50.String()), orDash(r.Candidate.TimeToAction.N, r.Candidate.TimeToAction.P50.String()), "")
	fmt.Fprintf(w, line, "time to action, 90th percentile", orDash(r.Current.TimeToAction.N, r.Current.TimeToAction.P90.String()), orDash(r.Candidate.TimeToAction.N, r.Candidate.TimeToAction.P90.String()), "")
	fmt.Fprintf(w, "\nThe candidate adds %d enforcement(s) and avoids %d, of which %d were overturned on appeal; %d keep their enforcement with another action.\n",
		r.Added, r.Avoided, r.AvoidedOverturned, r.ActionChanged)
	if len(r.Differ) == 0 {
		_, err := fmt.Fprintln(w, "No case would have gone differently.")
		return err
	}
	fmt.Fprintf(w, "\n%d case(s) differ", len(r.Differ))
	if limit < len(r.Differ) {
		fmt.Fprintf(w, " (the first %d; --format json lists all)", limit)
	}
	fmt.Fprintln(w, ":")
	for i, c := range r.Differ {
		if i == limit {
			break
		}
		fmt.Fprintf(w, "  %s  %s  %s  %s\n    current:   %s\n    candidate: %s\n", c.Number, c.Category, c.Account, c.Change, describe(c.Current), describe(c.Candidate))
	}
	return nil
}

func orDash(n int, s string) string {
	if n == 0 {
		return "—"
	}
	return s
}

// describe is one side's outcome in words.
func describe(o Outcome) string {
	s := o.Track + " track: "
	if o.Enforced {
		s += o.Action + " at " + o.At.UTC().Format("2006-01-02 15:04 UTC") + " (" + o.Why + ")"
	} else {
		s += "no enforcement (" + o.Why + ")"
	}
	return s
}
