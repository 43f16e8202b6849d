// Package provision builds what `desk zendesk provision` (and the sandbox) set up in a Zendesk
// account from the desk's own contract: the case fields the bot keeps filled and one macro per
// agent decision of the Case workflow, with its text from templates/. The Zendesk integration
// only carries the specs out, so it knows nothing of workflows or templates.
package provision

import (
	"time"

	"abusedesk/domain/ticket"
	"abusedesk/integrations/zendesk"
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
func Fields() []zendesk.FieldSpec {
	out := make([]zendesk.FieldSpec, 0, len(ticket.CaseFields))
	for _, key := range ticket.CaseFields {
		out = append(out, zendesk.FieldSpec{Key: key, Title: fieldTitles[key]})
	}
	return out
}

// MacroData is what the macro templates see: Zendesk placeholders for the case fields the bot
// keeps filled, so the text the agent sends is complete.
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
func Macros(r *templates.Renderer, extendBy, moreInfo time.Duration) []zendesk.MacroSpec {
	out := make([]zendesk.MacroSpec, 0, len(workflows.AgentDecisions))
	for _, d := range workflows.AgentDecisions {
		m := zendesk.MacroSpec{
			Decision: string(d), Title: macroTitles[d], // an internal note: the desk speaks to the customer
			Pending: d == workflows.DecisionRequestInfo || d == workflows.DecisionExtendDeadline,
		}
		if r != nil {
			m.Text = func(fields map[string]string) (string, error) {
				return r.Render("macro_"+string(d), "", templates.DefaultLocale, MacroData{
					Customer: "{{ticket.requester.name}}", Agent: "{{current_user.name}}",
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

// MacroTitleOf is the provisioned title of one decision's macro.
func MacroTitleOf(d workflows.Decision) string {
	return zendesk.MacroTitle(zendesk.MacroSpec{Decision: string(d), Title: macroTitles[d]})
}

// MacroTitles lists the decision macros' titles as provisioned, in the order agents see them.
func MacroTitles() []string {
	var out []string
	for _, m := range Macros(nil, 0, 0) {
		out = append(out, zendesk.MacroTitle(m))
	}
	return out
}
