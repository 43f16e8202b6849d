package approval

import "testing"

func TestApprovers(t *testing.T) {
	a := Approvers{Users: []string{"U1"}, Groups: []string{"S9"}}
	if !a.IsApprover("U1", nil) || !a.IsApprover("U2", []string{"S9"}) {
		t.Error("configured approver refused")
	}
	if a.IsApprover("U2", []string{"S8"}) || a.IsApprover("", []string{"S9"}) {
		t.Error("stranger accepted")
	}
}
