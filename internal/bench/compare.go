package bench

import (
	"fmt"
	"io"
	"strings"
)

// Named is one server's report in a comparison.
type Named struct {
	Name   string
	Report *Report
}

// WriteComparison writes a Markdown table with one column per report: the
// figures of issue 5's table that each run measured.
func WriteComparison(w io.Writer, runs []Named) error {
	var b strings.Builder
	b.WriteString("| figure |")
	for _, r := range runs {
		fmt.Fprintf(&b, " %s |", r.Name)
	}
	b.WriteString("\n| --- |")
	for range runs {
		b.WriteString(" ---: |")
	}
	b.WriteString("\n")
	for _, row := range comparisonRows() {
		fmt.Fprintf(&b, "| %s |", row.label)
		for _, r := range runs {
			fmt.Fprintf(&b, " %s |", row.value(r.Report))
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

type comparisonRow struct {
	label string
	value func(*Report) string
}

func comparisonRows() []comparisonRow {
	return []comparisonRow{
		{"devices", func(r *Report) string { return fmt.Sprint(r.Devices) }},
		{"logins/s (100 in flight)", func(r *Report) string {
			return ifSet(r.Login != nil, func() string { return fmt.Sprintf("%.0f", r.Login.PerSecond) })
		}},
		{"login latency p50 / p99 (ms)", func(r *Report) string {
			return ifSet(r.Login != nil, func() string { return fmt.Sprintf("%.1f / %.1f", r.Login.Latency.P50, r.Login.Latency.P99) })
		}},
		{"memory per idle available device", func(r *Report) string {
			return ifSet(r.Idle != nil, func() string { return size(r.Idle.BytesPerDevice) })
		}},
		{"highest flat rate (>= 97% delivered, p99 <= 50 ms), msg/s", func(r *Report) string {
			best := 0.0
			for _, s := range r.Steps {
				if s.Flat && s.OfferedPerSecond > best {
					best = s.OfferedPerSecond
				}
			}
			return ifSet(len(r.Steps) > 0, func() string { return fmt.Sprintf("%.0f", best) })
		}},
		{"p50 / p99 latency at the lowest rate (ms)", func(r *Report) string {
			return ifSet(len(r.Steps) > 0, func() string {
				return fmt.Sprintf("%.1f / %.1f", r.Steps[0].Latency.P50, r.Steps[0].Latency.P99)
			})
		}},
		{"server CPU per delivered message at the highest flat rate (µs)", func(r *Report) string {
			var at *StepResult
			for i := range r.Steps {
				if r.Steps[i].Flat {
					at = &r.Steps[i]
				}
			}
			return ifSet(at != nil && at.ServerCPUPerMsgUS > 0, func() string { return fmt.Sprintf("%.1f", at.ServerCPUPerMsgUS) })
		}},
		{"most delivered/s (any step, or closed loop)", func(r *Report) string {
			best := 0.0
			for _, s := range r.Steps {
				best = max(best, s.DeliveredPerSecond)
			}
			if r.Closed != nil {
				best = max(best, r.Closed.DeliveredPerSecond)
			}
			return ifSet(best > 0, func() string { return fmt.Sprintf("%.0f", best) })
		}},
		{"offline: stored/s", func(r *Report) string {
			return ifSet(r.Offline != nil, func() string { return fmt.Sprintf("%.0f", r.Offline.StorePerSecond) })
		}},
		{"offline: drain all at login (s)", func(r *Report) string {
			return ifSet(r.Offline != nil, func() string { return fmt.Sprintf("%.2f", r.Offline.DrainSeconds) })
		}},
		{"not delivered within the drain window (lost or late) / duplicated / reordered", func(r *Report) string {
			var l, d, o int64
			for _, s := range r.Steps {
				l, d, o = l+s.Lost, d+s.Duplicated, o+s.Reordered
			}
			if r.Closed != nil {
				l, d, o = l+r.Closed.Lost, d+r.Closed.Duplicated, o+r.Closed.Reordered
			}
			if r.Offline != nil {
				l, d, o = l+r.Offline.Lost, d+r.Offline.Duplicated, o+r.Offline.Reordered
			}
			return fmt.Sprintf("%d / %d / %d", l, d, o)
		}},
	}
}

func ifSet(ok bool, f func() string) string {
	if !ok {
		return "–"
	}
	return f()
}
