package workflows

import (
	"strings"
	"testing"
)

// TestMovesTable: every status that is not final has its moves, final ones have none, every
// target is a status, and every status can be reached from open.
func TestMovesTable(t *testing.T) {
	for _, s := range Statuses {
		if s.Final() != (len(Moves[s]) == 0) {
			t.Errorf("%s: final %v but %d moves", s, s.Final(), len(Moves[s]))
		}
	}
	reached := map[Status]bool{StatusOpen: true}
	for changed := true; changed; {
		changed = false
		for _, from := range Statuses {
			if !reached[from] {
				continue
			}
			for _, to := range Moves[from] {
				if !strings.Contains(" "+statusList()+" ", " "+string(to)+" ") {
					t.Errorf("%s → %s: not a status", from, to)
				}
				if !reached[to] {
					reached[to], changed = true, true
				}
			}
		}
	}
	for _, s := range Statuses {
		if !reached[s] {
			t.Errorf("%s cannot be reached from open", s)
		}
	}
}

func statusList() string {
	var b strings.Builder
	for _, s := range Statuses {
		b.WriteString(string(s) + " ")
	}
	return b.String()
}

// TestMoveOutsideTheTableStopsTheCase: the one method that changes the status refuses a move
// the table does not have (a closed case cannot be noticed again), and takes one it has.
func TestMoveOutsideTheTableStopsTheCase(t *testing.T) {
	w := &caseWorkflow{st: &CaseState{CaseID: "case/acct/spam", Status: StatusResolved}}
	func() {
		defer func() {
			r := recover()
			if r == nil || !strings.Contains(r.(string), "resolved → noticed is not an allowed move") {
				t.Errorf("resolved → noticed: recovered %v, want the refusal", r)
			}
		}()
		w.setStatus(StatusNoticed)
	}()
	if w.st.Status != StatusResolved {
		t.Errorf("status %s after a refused move", w.st.Status)
	}
	w.st.Status = StatusAwaitingResponse
	w.setStatus(StatusEscalated)
	if w.st.Status != StatusEscalated {
		t.Errorf("awaiting_response → escalated: status %s", w.st.Status)
	}
}
