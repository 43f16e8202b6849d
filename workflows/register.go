package workflows

import (
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// Register registers the workflows under their type names.
func Register(r worker.WorkflowRegistry) {
	r.RegisterWorkflowWithOptions(Case, workflow.RegisterOptions{Name: CaseWorkflowType})
	r.RegisterWorkflowWithOptions(AppealWorkflow, workflow.RegisterOptions{Name: AppealWorkflowType})
	r.RegisterWorkflowWithOptions(ReinstatementWorkflow, workflow.RegisterOptions{Name: ReinstatementWorkflowType})
	r.RegisterWorkflowWithOptions(HandOffWorkflow, workflow.RegisterOptions{Name: HandOffWorkflowType})
	r.RegisterWorkflowWithOptions(TrendWatch, workflow.RegisterOptions{Name: TrendWatchWorkflowType})
	r.RegisterWorkflowWithOptions(BlocklistWatch, workflow.RegisterOptions{Name: BlocklistWatchWorkflowType})
	r.RegisterWorkflowWithOptions(BulkAction, workflow.RegisterOptions{Name: BulkActionWorkflowType})
}
