package media

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// TestEveryRejectionReasonIsExportedFromTheStart: /metrics has each
// reason's series of parley_media_rejections_total, at 0, before any
// request was refused.
func TestEveryRejectionReasonIsExportedFromTheStart(t *testing.T) {
	reg := prometheus.NewRegistry()
	newMetrics(reg)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "parley_media_rejections_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				got[l.GetValue()] = m.GetCounter().GetValue()
			}
		}
	}
	for _, r := range []string{"signature", "expired", "too_large", "quota", "slot_used", "busy", "hash_mismatch", "bad_request", "not_found", "range", "internal"} {
		if v, ok := got[r]; !ok || v != 0 {
			t.Errorf("reason %s: exported %v, value %v; want exported at 0", r, ok, v)
		}
	}
}
