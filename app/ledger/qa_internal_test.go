package ledger

import (
	"fmt"
	"math"
	"testing"
)

// TestSampledShare: the hash picks about the rate's share of keys, the same keys every time, and
// a key picked at a rate is picked at every higher rate.
func TestSampledShare(t *testing.T) {
	const n = 20000
	for _, rate := range []float64{0.05, 0.25, 0.5} {
		picked := 0
		for i := range n {
			key := fmt.Sprintf("TS-%06d/%d", i, i%7)
			if sampled(key, rate) {
				picked++
				if !sampled(key, rate) || !sampled(key, math.Min(1, rate*2)) {
					t.Fatalf("%s picked at %g but not again or at a higher rate", key, rate)
				}
			}
		}
		if share := float64(picked) / n; math.Abs(share-rate) > 0.02 {
			t.Errorf("rate %g picked %.3f of the keys", rate, share)
		}
	}
	if sampled("TS-1/1", 0) || !sampled("TS-1/1", 1) {
		t.Error("rate 0 must pick nothing and rate 1 everything")
	}
}
