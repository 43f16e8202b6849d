package bench

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is what one scenario measured, as printed and written to JSON.
type Report struct {
	Scenario string         `json:"scenario"`
	Version  string         `json:"version"`
	Started  time.Time      `json:"started"`
	Duration string         `json:"duration"`
	Machine  Machine        `json:"machine"`
	Params   map[string]any `json:"params"`
	Figures  []Figure       `json:"figures"`
	Notes    []string       `json:"notes,omitempty"`
	Error    string         `json:"error,omitempty"`
}

// Figure is one measured value, with its target where the issue sets one.
type Figure struct {
	Name   string  `json:"name"`
	Value  float64 `json:"value"`
	Unit   string  `json:"unit"`
	Target string  `json:"target,omitempty"`
	Met    *bool   `json:"met,omitempty"`
}

type Machine struct {
	CPUs      int     `json:"cpus"`
	CPU       string  `json:"cpu"`
	MemoryGiB float64 `json:"memory_gib"`
	OS        string  `json:"os"`
	Go        string  `json:"go"`
}

func newReport(scenario, version string) *Report {
	return &Report{Scenario: scenario, Version: version, Started: time.Now().UTC(), Machine: machine(), Params: map[string]any{}}
}

// add records a figure without a target.
func (r *Report) add(name string, v float64, unit string) {
	r.Figures = append(r.Figures, Figure{Name: name, Value: round3(v), Unit: unit})
}

// atLeast records a figure that should be at least target.
func (r *Report) atLeast(name string, v float64, unit string, target float64) {
	met := v >= target
	r.Figures = append(r.Figures, Figure{Name: name, Value: round3(v), Unit: unit, Target: fmt.Sprintf("≥ %g", target), Met: &met})
}

// atMost records a figure that should be at most target.
func (r *Report) atMost(name string, v float64, unit string, target float64) {
	met := v <= target
	r.Figures = append(r.Figures, Figure{Name: name, Value: round3(v), Unit: unit, Target: fmt.Sprintf("≤ %g", target), Met: &met})
}

// value is the figure called name (0 when there is none).
func (r *Report) value(name string) float64 {
	for _, f := range r.Figures {
		if f.Name == name {
			return f.Value
		}
	}
	return 0
}

// figure is the figure called name, or nil.
func (r *Report) figure(name string) *Figure {
	for i := range r.Figures {
		if r.Figures[i].Name == name {
			return &r.Figures[i]
		}
	}
	return nil
}

func (r *Report) note(format string, args ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

func round3(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return math.Round(v*1000) / 1000
}

func (r *Report) print(w io.Writer) {
	fmt.Fprintf(w, "\nbench %s (%s, %d CPUs, %s)\n", r.Scenario, r.Duration, r.Machine.CPUs, r.Machine.CPU)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "figure\tvalue\tunit\ttarget\t")
	for _, f := range r.Figures {
		verdict := ""
		if f.Met != nil {
			verdict = "met"
			if !*f.Met {
				verdict = "MISSED"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s %s\t\n", f.Name, formatFigure(f.Value), f.Unit, f.Target, verdict)
	}
	_ = tw.Flush()
	for _, n := range r.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
	if r.Error != "" {
		fmt.Fprintf(w, "  error: %s\n", r.Error)
	}
}

func formatFigure(v float64) string {
	switch {
	case v == math.Trunc(v) && math.Abs(v) < 1e12:
		return fmt.Sprintf("%d", int64(v))
	case math.Abs(v) >= 100:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.3f", v)
	}
}

func (r *Report) write(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// machine describes where the bench ran.
func machine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), OS: runtime.GOOS + "/" + runtime.GOARCH, Go: runtime.Version()}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
		_ = f.Close()
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb float64
		if _, err := fmt.Sscanf(string(b), "MemTotal: %f kB", &kb); err == nil {
			m.MemoryGiB = math.Round(kb/1024/1024*10) / 10
		}
	}
	return m
}
