package process

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"

	"abusedesk/activities"
	"abusedesk/app/cases"
	"abusedesk/app/ledger"
	"abusedesk/domain/approval"
	"abusedesk/integrations/probe"
	"abusedesk/platform/ingress"
	"abusedesk/workflows"
)

// trendRules are the policy's spike rules.
func (a *Desk) trendRules() ledger.TrendRules {
	t := a.Policy.Trends
	return ledger.TrendRules{Window: t.Window.D(), Baseline: t.Baseline.D(), Factor: t.Factor, Floor: t.Floor, ClusterMaxAccounts: t.ClusterMaxAccounts}
}

// spikes is one turn of the spike watch: the window's spikes to the leads' channel in one
// message (the ledger lets one process post a window's alert).
func (a *Desk) spikes(ctx context.Context) (int, error) {
	if a.Ledger == nil || a.svc.alerts == nil {
		return 0, nil
	}
	link := strings.TrimRight(a.PublicURL(), "/") + "/trends"
	n, err := a.Ledger.AlertSpikes(ctx, time.Now(), a.trendRules(), a.Policy.Trends.Quiet.D(), link,
		func(ctx context.Context, text string) error {
			return a.svc.alerts.PostAlertTo(ctx, "", text, approval.Approvers{})
		})
	if n > 0 {
		a.Log.Info("spike alerts sent", "count", n)
	}
	return n, err
}

// ScheduleTrends makes sure the spike watch runs as a Temporal Schedule, every minute, one run
// at a time whatever the number of workers (each worker tries; the first creates it). A desk
// without a ledger or Slack watches nothing.
func (a *Desk) ScheduleTrends(ctx context.Context) {
	if a.Ledger == nil || a.svc.alerts == nil {
		return
	}
	err := a.createSchedule(ctx, workflows.TrendWatchScheduleID, workflows.TrendWatchWorkflowType, workflows.TrendWatchEvery, 5*time.Minute,
		"abusedesk: report spikes to the leads, once a minute (created by the desk at start)")
	switch {
	case err == nil:
		a.Log.Info("the spike watch is scheduled", "schedule", workflows.TrendWatchScheduleID, "every", workflows.TrendWatchEvery)
	case errors.Is(err, temporal.ErrScheduleAlreadyRunning):
	default:
		a.Log.Error("the spike watch could not be scheduled: no spike alerts until a desk starts that can", "error", err)
	}
}

// prober is the process's outside checker (DESK_CHECK_PROXY, DESK_CHECK_DNS), made once.
func (a *Desk) prober() (*probe.Prober, error) {
	if a.checks == nil {
		p, err := probe.New(probe.Options{Proxy: a.Cfg.Checks.Proxy, DNS: a.Cfg.Checks.DNS, Timeout: a.Cfg.Checks.Timeout})
		if err != nil {
			return nil, err
		}
		a.checks = p
	}
	return a.checks, nil
}

// createSchedule creates a schedule that starts workflowType on the desk's task queue every
// every, one run at a time (a run still going when the next is due makes that one skip).
// temporal.ErrScheduleAlreadyRunning says another process created it first.
func (a *Desk) createSchedule(ctx context.Context, id, workflowType string, every, runTimeout time.Duration, note string) error {
	_, err := a.Temporal.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID:   id,
		Spec: client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: every}}},
		Action: &client.ScheduleWorkflowAction{
			ID: id, Workflow: workflowType, TaskQueue: workflows.TaskQueue, WorkflowRunTimeout: runTimeout,
		},
		Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
		Note:    note,
	})
	return err
}

// StartWorker registers the workflows and activities and starts polling.
func (a *Desk) StartWorker() error {
	if a.HTTP != nil {
		a.HTTP.AddReadyCheck(ingress.ReadyCheck{Name: "worker", Check: func(context.Context) error {
			if !a.workerUp.Load() {
				return errors.New("not started")
			}
			return nil
		}})
	}
	worker.SetStickyWorkflowCacheSize(a.Cfg.WorkflowCache)
	w := worker.New(a.Temporal, workflows.TaskQueue, worker.Options{
		WorkerStopTimeout: a.Cfg.ShutdownTimeout,
		// Separate pollers for the normal and the sticky queue. With one mixed poller the SDK
		// polls the sticky queue whenever it has a backlog, so in a report storm the busy
		// cases' tasks starve every new case and every first task after a restart (measured:
		// minutes). Autoscaling keeps both queues polled.
		WorkflowTaskPollerBehavior: worker.NewPollerBehaviorAutoscaling(worker.PollerBehaviorAutoscalingOptions{
			InitialNumberOfPollers: 4, MinimumNumberOfPollers: 2, MaximumNumberOfPollers: 16,
		}),
	})
	workflows.Register(w)
	acts := &activities.Activities{
		Tickets: a.svc.tickets, Accounts: a.svc.accounts, Enforcement: a.svc.enforcement, Messaging: a.svc.messaging,
		Approvals: a.svc.approvals, Evidence: a.Evidence, Incidents: a.Cases, Templates: a.Templates,
		Alerts: a.svc.alerts, Reports: cases.Forwarder{Cases: a.Cases, Policy: a.Policy},
		LegalChannel: a.Integrations.Slack.LegalChannel, LegalGroupID: a.Integrations.Zendesk.LegalGroupID, SupportGroupID: a.Integrations.Zendesk.SupportGroupID,
		LegalAddress: a.Integrations.Zendesk.LegalAddress,
		DashboardURL: a.PublicURL(),
	}
	if a.Ledger != nil {
		acts.Ledger = a.Ledger
	}
	p, err := a.prober()
	if err != nil {
		return err
	}
	acts.Probes = probes{p}
	acts.Probations = a.Cases
	acts.HandOffs = a.svc.handOffs
	acts.Spikes = a.spikes
	acts.Register(w)
	bulk := &activities.BulkActivities{Board: a.svc.bulk, Tickets: a.svc.tickets, Accounts: a.svc.accounts, Templates: a.Templates, DashboardURL: a.PublicURL()}
	if a.Ledger != nil {
		bulk.Ledger = a.Ledger
	}
	bulk.Register(w)
	if err := w.Start(); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	a.worker = w
	a.workerUp.Store(true)
	a.OnStop(func(context.Context) {
		// Stop polls no more and waits for running activities up to WorkerStopTimeout.
		a.workerUp.Store(false)
		w.Stop()
	})
	return nil
}

// probes adapts integrations/probe to the activities' Probes.
type probes struct{ p *probe.Prober }

func (p probes) URL(ctx context.Context, url string) (string, string) {
	r := p.p.URL(ctx, url)
	return string(r.Verdict), r.Detail
}

func (p probes) Listed(ctx context.Context, ip, zone string) (string, string) {
	r := p.p.Listed(ctx, ip, zone)
	return string(r.Verdict), r.Detail
}
