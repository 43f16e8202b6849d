package policy

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"abusedesk/domain/abuse"
)

// WriteSummary writes what the policy p (read from path) does, a line per category: the
// answer window, reminders, the action and its approval, the appeal window and how fixes are
// checked; then reinstatement and the teams. It is what `desk policy check` prints.
func (p *Policy) WriteSummary(w io.Writer, path string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: ok (version %s)\n", path, p.Version)
	for _, c := range abuse.Categories {
		r := p.Categories[c]
		approval := ""
		if r.Approval.Required {
			approval = ", lead approval"
		}
		fixes := "; fixes taken on trust"
		if !c.Track().Violation() {
			fixes = "" // no violation, no fix to verify
		} else if rm := r.Remediation; len(rm.Verify) > 0 {
			fixes = fmt.Sprintf("; fixes checked after %v (%s)", rm.Verify, strings.Join(rm.Checks, ", "))
		}
		fmt.Fprintf(&b, "  %-15s answer within %-5s reminders %v, then %s%s; appeal within %s%s\n",
			c, r.ResponseWindow, r.Reminders, r.Action.Type.Describe(r.Action.Level), approval, r.Appeal.Window, fixes)
	}
	ri := p.Reinstatement
	fmt.Fprintf(&b, "  %-15s decided within %s, reminders %v, then a probation of %s\n", "reinstatement", ri.SLA, ri.Reminders, ri.Probation)
	if len(p.Teams) == 0 {
		fmt.Fprintf(&b, "  %-15s none: hand-offs are refused\n", "teams")
	}
	for _, name := range slices.Sorted(maps.Keys(p.Teams)) {
		t := p.Teams[name]
		pause := ""
		if t.PauseCase {
			pause = ", pauses the customer's deadline"
		}
		fmt.Fprintf(&b, "  %-15s %s in %s, within %s, then %v%s\n", "team "+name, t.Name(name), t.Channel, t.SLA, t.Chain, pause)
	}
	if m := p.Monitoring; m.On() {
		var zones []string
		for _, bl := range m.Blocklists {
			zones = append(zones, bl.Zone)
		}
		queue := "the desk's group"
		if m.OperationsGroup != 0 {
			queue = fmt.Sprintf("group %d", m.OperationsGroup)
		}
		fmt.Fprintf(&b, "  %-15s %d network(s) on %s, %d addresses every %s; a relisting within %s; %d range(s) of our own infrastructure; the operations queue in %s\n", "monitoring",
			len(m.Networks), strings.Join(zones, ", "), m.PerRun, m.Every, m.Relisted, len(m.Infrastructure), queue)
	} else {
		fmt.Fprintf(&b, "  %-15s off: no networks or blocklists in the policy\n", "monitoring")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Check loads the policy file at path and writes either its summary (WriteSummary) or that it
// is broken, with each problem on a line of its own; it reports whether the file is good.
func Check(w io.Writer, path string) bool {
	p, err := Load(path)
	if err == nil {
		return p.WriteSummary(w, path) == nil
	}
	fmt.Fprintf(w, "%s: broken\n", path)
	problems := []error{err}
	var joined interface{ Unwrap() []error }
	if errors.As(err, &joined) {
		problems = joined.Unwrap()
	}
	for _, one := range problems {
		fmt.Fprintf(w, "  %v\n", one)
	}
	return false
}
