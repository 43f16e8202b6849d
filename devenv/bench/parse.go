package bench

import (
	"abusedesk/integrations/reports"
	"cmp"
	"runtime"
	"runtime/debug"
	"slices"
	"testing"
)

// benchParse measures the parser on one core: reports/s and allocations per report.
func benchParse(o *Options, r *Report) error {
	samples, source, err := o.LoadCorpus(o.Corpus)
	if err != nil {
		return err
	}
	r.Params["corpus"], r.Params["files"] = source, len(samples)
	p := reports.New(reports.Options{})
	reportsPerPass := 0
	for _, s := range samples {
		reportsPerPass += max(1, len(p.Parse(s.Raw).Reports))
	}
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	old := debug.SetGCPercent(100)
	defer debug.SetGCPercent(old)
	// Five rounds of Go's benchmark timer (about a second each), the median reported: on a
	// shared machine one round can be a quarter off.
	const rounds = 5
	var results []testing.BenchmarkResult
	for range rounds {
		results = append(results, testing.Benchmark(func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				for _, s := range samples {
					p.Parse(s.Raw)
				}
			}
		}))
	}
	perPass := func(res testing.BenchmarkResult) float64 { return float64(res.T.Nanoseconds()) / float64(res.N) }
	slices.SortFunc(results, func(a, b testing.BenchmarkResult) int { return cmp.Compare(perPass(a), perPass(b)) })
	res := results[rounds/2]
	msgs := float64(len(samples))
	r.atLeast("messages parsed per second (one core), median of 5", msgs/(perPass(res)/1e9), "messages/s", 10_000)
	r.add("slowest round", msgs/(perPass(results[rounds-1])/1e9), "messages/s")
	r.add("fastest round", msgs/(perPass(results[0])/1e9), "messages/s")
	r.add("reports parsed per second (one core), median", float64(reportsPerPass)/(perPass(res)/1e9), "reports/s")
	r.add("allocations per message", float64(res.AllocsPerOp())/msgs, "allocs")
	r.add("bytes allocated per message", float64(res.AllocedBytesPerOp())/msgs, "B")
	r.note("%d rounds of about %d passes over %d files (%s); a multi-report notification counts once in messages/s", rounds, res.N, len(samples), source)
	return nil
}
