package workflows_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"abusedesk/workflows"
)

// TestReplayHistories replays saved histories of real cases (recorded on the embedded server
// by `go test ./cmd/desk -run TestEndToEndThrottleAppealReinstate -update-histories`) through
// the current workflow code. A change that would break running cases fails here: guard it with
// workflow.GetVersion. index.json names each history's workflow ID (the code derives IDs from
// it, so the replay must run under the original one).
func TestReplayHistories(t *testing.T) {
	b, err := os.ReadFile("testdata/histories/index.json")
	if err != nil {
		t.Fatalf("no saved histories: %v", err)
	}
	var index map[string]string
	if err := json.Unmarshal(b, &index); err != nil {
		t.Fatal(err)
	}
	if len(index) == 0 {
		t.Fatal("the history index is empty")
	}
	for file, id := range index {
		t.Run(file, func(t *testing.T) {
			h, err := client.HistoryFromJSON(mustOpen(t, filepath.Join("testdata/histories", file)), client.HistoryJSONOptions{})
			if err != nil {
				t.Fatal(err)
			}
			r := worker.NewWorkflowReplayer()
			workflows.Register(r)
			err = r.ReplayWorkflowHistoryWithOptions(nil, h, worker.ReplayWorkflowHistoryOptions{
				OriginalExecution: workflow.Execution{ID: id, RunID: "replay"},
			})
			if err != nil {
				t.Fatalf("replay %s: %v", file, err)
			}
		})
	}
}

func mustOpen(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() })
	return f
}
