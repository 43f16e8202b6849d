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
