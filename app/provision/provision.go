// Package provision is the desk's side of provisioning a ticketing system: the case fields the
// bot keeps filled and one macro per agent decision of the Case workflow, with its text from
// templates/, as neutral specs (ticket.FieldSpec, ticket.MacroSpec). The ticketing adapter
// (`desk zendesk provision`) carries them out in its system with its own placeholders, so it
// knows nothing of workflows or templates, and this package nothing of Zendesk.
package provision

import (
	"time"

	"abusedesk/domain/ticket"
	"abusedesk/templates"
	"abusedesk/workflows"
)

// fieldTitles are the agent-facing titles of the case fields.
var fieldTitles = map[string]string{
	ticket.FieldCaseID:      "Abuse case ID",
	ticket.FieldCaseNumber:  "Abuse case number",
	ticket.FieldStatus:      "Abuse case status",
	ticket.FieldCategory:    "Abuse category",
	ticket.FieldAccount:     "Abuse account",
	ticket.FieldDeadline:    "Abuse deadline",
	ticket.FieldReportCount: "Abuse report count",
	ticket.FieldAction:      "Abuse action",
	ticket.FieldAppealUntil: "Abuse appeal until",
	ticket.FieldTeam:        "Abuse hand-off team",
}

// macroTitles are the macros, one per agent decision.
var macroTitles = map[workflows.Decision]string{
	workflows.DecisionAcceptRemediation:   "Accept remediation",
	workflows.DecisionRequestInfo:         "Request more information",
	workflows.DecisionExtendDeadline:      "Extend deadline",
	workflows.DecisionTreatAsAppeal:       "Treat as appeal",
	workflows.DecisionGrantAppeal:         "Grant appeal",
	workflows.DecisionDenyAppeal:          "Deny appeal",
	workflows.DecisionResolve:             "Close without action",
	workflows.DecisionWithdraw:            "Reports withdrawn",
	workflows.DecisionConfirm:             "Triage: confirm and notify",
	workflows.DecisionReclassify:          "Triage: reclassify",
	workflows.DecisionNotAbuse:            "Triage: not abuse",
	workflows.DecisionRoute:               "Triage: route to a team",
	workflows.DecisionMoveToLegal:         "Move to legal (confidential)",
	workflows.DecisionValidate:            "Legal: validate the request",
	workflows.DecisionPreserve:            "Legal: preserve",
	workflows.DecisionExtendPreservation:  "Legal: extend preservation",
	workflows.DecisionReleasePreservation: "Legal: release preservation",
	workflows.DecisionDisclose:            "Legal: disclose",
	workflows.DecisionReject:              "Legal: reject",
	workflows.DecisionAskMore:             "Legal: ask for more",
	workflows.DecisionCloseMatter:         "Legal: close matter",
	workflows.DecisionNotLegal:            "Legal: not a legal matter (return to abuse)",
	workflows.DecisionHotlineReported:     "Legal: reported to the hotline",
	// On a closed case's ticket, when the customer asked for the action to be lifted.
	workflows.DecisionGrantReinstatement: "Grant reinstatement",
	workflows.DecisionDenyReinstatement:  "Deny reinstatement",
	// The agent names the team in the "Abuse hand-off team" field first.
	workflows.DecisionHandOff: "Hand off to a team",
}

// Fields are the case fields, in the order provisioning creates them.
func Fields() []ticket.FieldSpec {
	out := make([]ticket.FieldSpec, 0, len(ticket.CaseFields))
	for _, key := range ticket.CaseFields {
		out = append(out, ticket.FieldSpec{Key: key, Title: fieldTitles[key]})
	}
	return out
}

// MacroData is what the macro templates see: the ticketing system's placeholders for the case
// fields the bot keeps filled, the requester and the agent, so the text the agent sends is
// complete.
type MacroData struct {
	Customer    string
	Agent       string
	CaseNumber  string
	Account     string
	Category    string
	Deadline    string
	ReportCount string
	Action      string
	AppealUntil string
	ExtendBy    string
	MoreInfo    string
}

// Macros are the decision macros in the order agents see them; r renders their text (nil
// leaves Text unset, enough for titles), quoting extendBy and moreInfo.
func Macros(r *templates.Renderer, extendBy, moreInfo time.Duration) []ticket.MacroSpec {
	out := make([]ticket.MacroSpec, 0, len(workflows.AgentDecisions))
	for _, d := range workflows.AgentDecisions {
		m := Macro(d)
		m.Pending = d == workflows.DecisionRequestInfo || d == workflows.DecisionExtendDeadline
		if r != nil {
			m.Text = func(fields map[string]string) (string, error) {
				return r.Render("macro_"+string(d), "", templates.DefaultLocale, MacroData{
					Customer: fields[ticket.PlaceholderRequester], Agent: fields[ticket.PlaceholderAgent],
					CaseNumber: fields[ticket.FieldCaseNumber], Account: fields[ticket.FieldAccount],
					Category: fields[ticket.FieldCategory], Deadline: fields[ticket.FieldDeadline],
					ReportCount: fields[ticket.FieldReportCount], Action: fields[ticket.FieldAction],
					AppealUntil: fields[ticket.FieldAppealUntil],
					ExtendBy:    templates.HumanDuration(extendBy), MoreInfo: templates.HumanDuration(moreInfo),
				})
			}
		}
		out = append(out, m)
	}
	return out
}

// Macro is one decision's macro, without its text: an internal note (the desk speaks to the
// customer).
func Macro(d workflows.Decision) ticket.MacroSpec {
	return ticket.MacroSpec{Decision: string(d), Title: macroTitles[d]}
}
