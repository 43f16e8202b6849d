package process

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"

	"abusedesk/app/reputation"
	"abusedesk/domain/policy"
	"abusedesk/workflows"
)

// StartMonitorWorker polls the intake task queue for the blocklist watch's runs: a process that
// runs intake looks its slice of the networks up and hands the listings to its own intake.
// With monitoring off there are no runs (the workers delete the schedule), and no poller.
func (a *Desk) StartMonitorWorker() error {
	if !a.Policy.Monitoring.On() {
		return nil
	}
	p, err := a.prober()
	if err != nil {
		return err
	}
	m := &reputation.Monitor{Policy: func() policy.Monitoring { return a.Policy.Monitoring }, Lookup: p, Intake: a.intake,
		Log: a.Log.With("component", "blocklist-watch")}
	w := worker.New(a.Temporal, workflows.IntakeTaskQueue, worker.Options{WorkerStopTimeout: a.Cfg.ShutdownTimeout})
	w.RegisterActivityWithOptions(m.Run, activity.RegisterOptions{Name: workflows.ActivityWatchBlocklists})
	if err := w.Start(); err != nil {
		return fmt.Errorf("start the intake task queue's worker: %w", err)
	}
	a.OnStop(func(context.Context) { w.Stop() })
	return nil
}

// ScheduleBlocklists makes the blocklist watch a Temporal Schedule at the policy's
// monitoring.every, one run at a time whatever the number of workers (each worker tries; the
// first creates it, a later one with another period updates it). With monitoring off, a
// schedule left from before is deleted.
func (a *Desk) ScheduleBlocklists(ctx context.Context) {
	m := a.Policy.Monitoring
	h := a.Temporal.ScheduleClient().GetHandle(ctx, workflows.BlocklistWatchScheduleID)
	if !m.On() {
		if _, err := h.Describe(ctx); err == nil {
			if err := h.Delete(ctx); err != nil {
				a.Log.Error("the blocklist watch's schedule could not be deleted (monitoring is off)", "error", err)
			} else {
				a.Log.Info("the blocklist watch is off: its schedule is deleted", "schedule", workflows.BlocklistWatchScheduleID)
			}
		}
		return
	}
	every := m.Every.D()
	spec := client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: every}}}
	err := a.createSchedule(ctx, workflows.BlocklistWatchScheduleID, workflows.BlocklistWatchWorkflowType, every, 45*time.Minute,
		"abusedesk: look the provider's networks up on the blocklists of the policy's monitoring section (created by the desk at start)")
	switch {
	case err == nil:
		a.Log.Info("the blocklist watch is scheduled", "schedule", workflows.BlocklistWatchScheduleID, "every", every, "networks", len(m.Networks), "lists", len(m.Blocklists))
	case errors.Is(err, temporal.ErrScheduleAlreadyRunning):
		err = h.Update(ctx, client.ScheduleUpdateOptions{DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
			if iv := in.Description.Schedule.Spec.Intervals; len(iv) == 1 && iv[0].Every == every {
				return nil, temporal.ErrSkipScheduleUpdate // as the policy says already
			}
			in.Description.Schedule.Spec = &spec
			a.Log.Info("the blocklist watch's period follows the policy", "every", every)
			return &client.ScheduleUpdate{Schedule: &in.Description.Schedule}, nil
		}})
		if err != nil && !errors.Is(err, temporal.ErrSkipScheduleUpdate) {
			a.Log.Error("the blocklist watch's schedule could not follow the policy's period", "error", err)
		}
	default:
		a.Log.Error("the blocklist watch could not be scheduled: no blocklist monitoring until a desk starts that can", "error", err)
	}
}
