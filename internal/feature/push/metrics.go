package push

import "github.com/prometheus/client_golang/prometheus"

// Outcomes counted by Metrics.
const (
	outcomeSent        = "sent"        // the app server (or webhook) accepted a notification
	outcomeFailed      = "failed"      // it refused one, or the webhook failed after its retries
	outcomeTimeout     = "timeout"     // it did not answer in time
	outcomeCoalesced   = "coalesced"   // a message counted into a later notification
	outcomeDropped     = "dropped"     // a message or webhook call dropped: queue full
	outcomeUnreachable = "unreachable" // a registration no delivery path serves
)

// Metrics count notifications by outcome. A nil *Metrics records nothing.
type Metrics struct {
	Notifications *prometheus.CounterVec
}

// NewMetrics creates the counters and registers them with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{Notifications: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "parley_push_notifications_total",
		Help: "Push notifications (XEP-0357) by outcome: sent, failed, timeout, coalesced, dropped, unreachable.",
	}, []string{"outcome"})}
	reg.MustRegister(m.Notifications)
	return m
}

func (m *Metrics) count(outcome string) {
	if m != nil {
		m.Notifications.WithLabelValues(outcome).Inc()
	}
}
