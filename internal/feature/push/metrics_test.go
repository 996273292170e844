package push

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// TestEveryOutcomeIsExportedFromTheStart: /metrics has each outcome's
// series, at 0, before any notification.
func TestEveryOutcomeIsExportedFromTheStart(t *testing.T) {
	reg := prometheus.NewRegistry()
	NewMetrics(reg)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				got[l.GetValue()] = m.GetCounter().GetValue()
			}
		}
	}
	for _, o := range []string{"sent", "failed", "timeout", "coalesced", "dropped", "unreachable"} {
		if v, ok := got[o]; !ok || v != 0 {
			t.Errorf("outcome %s: exported %v, value %v; want exported at 0", o, ok, v)
		}
	}
}
