package workflows

import (
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
)

// Custom search attributes every case keeps current, so cases can be listed and filtered
// through visibility (the dashboard, the Temporal UI, `temporal workflow list --query`), open or
// closed.
var (
	SearchStatus      = temporal.NewSearchAttributeKeyKeyword("AbuseStatus")
	SearchAccount     = temporal.NewSearchAttributeKeyKeyword("AbuseAccount")
	SearchCategory    = temporal.NewSearchAttributeKeyKeyword("AbuseCategory")
	SearchTier        = temporal.NewSearchAttributeKeyKeyword("AbuseTier")
	SearchDeadline    = temporal.NewSearchAttributeKeyTime("AbuseDeadline")
	SearchReportCount = temporal.NewSearchAttributeKeyInt64("AbuseReportCount")
	// SearchTicketID is the case ticket's ID when it is a number (every Zendesk ID is), for
	// queries typed in the Temporal UI; SearchTicket names the ticket in any system.
	SearchTicketID = temporal.NewSearchAttributeKeyInt64("AbuseTicketID")
	// SearchTicket is the case ticket's neutral reference, "system#id" (ticket.Ref.String).
	SearchTicket = temporal.NewSearchAttributeKeyKeyword("AbuseTicket")
	// SearchCaseNumber finds a case from the number in a mail subject.
	SearchCaseNumber = temporal.NewSearchAttributeKeyKeyword("AbuseCaseNumber")
	// SearchAssignee is the ticketing user ID of the agent who owns the case (unset: nobody):
	// "my cases" and the queue by assignee. An ID, not an address: visibility is no place for
	// names.
	SearchAssignee = temporal.NewSearchAttributeKeyKeyword("AbuseAssignee")
)

// SearchAttributes lists the custom search attributes a namespace needs for abusedesk, with
// their types, for registering them (the embedded server does it itself; against a real
// cluster `desk run` checks them at start).
func SearchAttributes() map[string]enumspb.IndexedValueType {
	return map[string]enumspb.IndexedValueType{
		SearchStatus.GetName():      enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		SearchAccount.GetName():     enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		SearchCategory.GetName():    enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		SearchTier.GetName():        enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		SearchDeadline.GetName():    enumspb.INDEXED_VALUE_TYPE_DATETIME,
		SearchReportCount.GetName(): enumspb.INDEXED_VALUE_TYPE_INT,
		SearchTicketID.GetName():    enumspb.INDEXED_VALUE_TYPE_INT,
		SearchTicket.GetName():      enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		SearchCaseNumber.GetName():  enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		SearchAssignee.GetName():    enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	}
}
