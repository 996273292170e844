package push

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// TestFullQueueDropsAndCounts: the routing path never waits for the
// worker; what does not fit is dropped and counted.
func TestFullQueueDropsAndCounts(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	f, err := New(nil, Options{Components: []string{"push.example.org"}, QueueSize: 2, Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		f.enqueue(event{user: "bob@x", sender: "alice@x"})
	}
	if got := counted(t, reg, outcomeDropped); got != 3 {
		t.Fatalf("dropped = %v, want 3", got)
	}
	if len(f.q) != 2 {
		t.Fatalf("queued %d, want 2", len(f.q))
	}
}

func TestOptionsNeedADeliveryPath(t *testing.T) {
	if _, err := New(nil, Options{}); err == nil {
		t.Fatal("no component and no webhook accepted")
	}
	if _, err := New(nil, Options{Webhook: WebhookOptions{URL: "https://x/y"}}); err == nil {
		t.Fatal("a webhook without a secret accepted")
	}
}

// counted reads parley_push_notifications_total{outcome} from reg.
func counted(t *testing.T, reg *prometheus.Registry, outcome string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "outcome" && l.GetValue() == outcome {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}
