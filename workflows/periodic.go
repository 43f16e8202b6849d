package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Periodic work runs as Temporal Schedules (DESIGN, "Periodic work is a Temporal Schedule"):
// the server starts one run a window, whatever the number of workers, and a run that is still
// going when the next is due makes that one skip. The desk creates each schedule at start (one
// process wins, the others find it there).

// The spike watch: every minute, the report spikes of the window go to the leads in one message.
const (
	TrendWatchWorkflowType = "TrendWatch"
	TrendWatchScheduleID   = "abusedesk-trend-watch"
	TrendWatchEvery        = time.Minute
	ActivityAlertSpikes    = "AlertSpikes"
)

// TrendWatch runs the spike watch once: the activity reads the ledger and posts the window's
// alert (the ledger lets one post per window); it returns how many spikes it told of.
func TrendWatch(ctx workflow.Context) (int, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 3, InitialInterval: 5 * time.Second},
	})
	var n int
	err := workflow.ExecuteActivity(ctx, ActivityAlertSpikes).Get(ctx, &n)
	return n, err
}

// The blocklist watch: every policy monitoring.every, a slice of the provider's own networks is
// looked up on the monitored blocklists, and each listing goes to intake as a report.
const (
	BlocklistWatchWorkflowType = "BlocklistWatch"
	BlocklistWatchScheduleID   = "abusedesk-blocklist-watch"
	ActivityWatchBlocklists    = "WatchBlocklists"
)

// BlocklistWatchResult is what one run of the blocklist watch did.
type BlocklistWatchResult struct {
	// Addresses were looked up on Lists lists; Listed of the lookups found a listing, Unknown
	// could not tell (the list refused or did not answer).
	Addresses int `json:"addresses"`
	Lists     int `json:"lists"`
	Listed    int `json:"listed"`
	Unknown   int `json:"unknown"`
	// Reports went to intake (one per listed address and list a day); Accepted of them joined
	// or opened a customer's case, Triaged went to a person (an address nobody holds).
	Reports  int `json:"reports"`
	Accepted int `json:"accepted"`
	Triaged  int `json:"triaged"`
}

// IntakeTaskQueue is the task queue of the activities that hand reports to intake: every
// process that runs intake (the HTTP or IMAP component) polls it, so such work runs where intake
// is, whatever the topology.
const IntakeTaskQueue = "abusedesk-intake"

// BlocklistWatch runs the blocklist watch once, for the window the schedule started it in (the
// window decides which slice of the networks is looked up). Its activity runs on the intake task
// queue; with no process of intake up for half an hour, the run gives up and the next window
// tries again.
func BlocklistWatch(ctx workflow.Context) (BlocklistWatchResult, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:              IntakeTaskQueue,
		StartToCloseTimeout:    10 * time.Minute,
		ScheduleToCloseTimeout: 30 * time.Minute,
		RetryPolicy:            &temporal.RetryPolicy{MaximumAttempts: 3, InitialInterval: 10 * time.Second},
	})
	var res BlocklistWatchResult
	err := workflow.ExecuteActivity(ctx, ActivityWatchBlocklists, workflow.Now(ctx)).Get(ctx, &res)
	return res, err
}
