package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// How the workflows call their activities, defined once. Every activity retries until it
// succeeds or fails for good (the activities mark invalid input non-retryable, and a 429 comes
// back after the service's Retry-After); a step that failed for good goes to people.
var (
	// stepOptions: tickets, notices, Slack messages and reporter replies.
	stepOptions = workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 5 * time.Minute},
	}
	// actionOptions: applying and lifting enforcement actions, which wait for the enforcement
	// API to verify them.
	actionOptions = workflow.ActivityOptions{
		StartToCloseTimeout: 2 * time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 2 * time.Second, BackoffCoefficient: 2, MaximumInterval: 5 * time.Minute},
	}
	// lookupOptions: loading the account, a quick read run as a local activity.
	lookupOptions = workflow.LocalActivityOptions{
		StartToCloseTimeout: 15 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute},
	}
	// ledgerOptions: appending a case's events to the ledger, a local write run as a local
	// activity. It retries until the ledger takes the events (they are idempotent by key), at
	// least once a minute; a run waits for its events only when it ends. ScheduleToClose is
	// what bounds a local activity's retries (unset, it is StartToClose: ten seconds of a full
	// disk would drop the events), so it is set far out.
	ledgerOptions = workflow.LocalActivityOptions{
		StartToCloseTimeout:    10 * time.Second,
		ScheduleToCloseTimeout: 30 * 24 * time.Hour,
		RetryPolicy:            &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute},
	}
	// checkOptions: the outside checks of a fix (HTTP fetches, DNS queries), each bounded by
	// its own timeout; a check that cannot tell is a result, so the activity fails only when
	// the worker does: three tries, then the round counts as "could not tell".
	checkOptions = workflow.ActivityOptions{
		StartToCloseTimeout: 3 * time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 5 * time.Second, BackoffCoefficient: 2, MaximumAttempts: 3},
	}
	// decidersOptions: reading from Slack who may decide an approval; a few tries, then the
	// case goes on with the approvers it can name without Slack.
	decidersOptions = workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumAttempts: 5},
	}
	// hintOptions: a read the case can do without (the previous incident): two short tries,
	// then the case goes on without it.
	hintOptions = workflow.LocalActivityOptions{
		StartToCloseTimeout: 5 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumAttempts: 2},
	}
)

// withStep, withAction and withLookup put those options on a context.
func withStep(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, stepOptions)
}
func withAction(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, actionOptions)
}
func withLookup(ctx workflow.Context) workflow.Context {
	return workflow.WithLocalActivityOptions(ctx, lookupOptions)
}
func withLedger(ctx workflow.Context) workflow.Context {
	return workflow.WithLocalActivityOptions(ctx, ledgerOptions)
}
func withCheck(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, checkOptions)
}
func withDeciders(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, decidersOptions)
}
func withHint(ctx workflow.Context) workflow.Context {
	return workflow.WithLocalActivityOptions(ctx, hintOptions)
}
