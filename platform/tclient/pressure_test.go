package tclient

import (
	"testing"
	"time"
)

func TestPressureFollowsTheLatestWaits(t *testing.T) {
	now := time.Unix(1000, 0)
	p := NewPressure()
	p.now = func() time.Time { return now }
	if w := p.Wait(); w != 0 {
		t.Fatalf("nothing observed: wait %v", w)
	}
	h := p.MetricsHandler().WithTags(map[string]string{"workflow_type": "Case"})
	h.Timer(workflowTaskWait).Record(3 * time.Second)
	h.Timer("temporal_activity_schedule_to_start_latency").Record(time.Hour) // not a workflow task
	if w := p.Wait(); w != 3*time.Second {
		t.Fatalf("wait %v, want 3s", w)
	}
	now = now.Add(600 * time.Millisecond)
	p.Observe(10 * time.Millisecond)
	if w := p.Wait(); w != 3*time.Second {
		t.Fatalf("the window before still counts: wait %v, want 3s", w)
	}
	now = now.Add(600 * time.Millisecond)
	p.Observe(20 * time.Millisecond)
	if w := p.Wait(); w != 20*time.Millisecond {
		t.Fatalf("after two windows the long wait is forgotten: wait %v, want 20ms", w)
	}
	now = now.Add(1500 * time.Millisecond)
	if w := p.Wait(); w != 0 {
		t.Fatalf("no task picked up for a while: wait %v, want 0", w)
	}
}
