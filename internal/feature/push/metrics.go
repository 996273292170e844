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
	// Every outcome is exported from the start, at 0: an alert on a rise
	// of failures needs the series before the first failure.
	for _, o := range outcomes {
		m.Notifications.WithLabelValues(o)
	}
	reg.MustRegister(m.Notifications)
	return m
}

// outcomes are the values of the outcome label.
var outcomes = []string{outcomeSent, outcomeFailed, outcomeTimeout, outcomeCoalesced, outcomeDropped, outcomeUnreachable}

func (m *Metrics) count(outcome string) {
	if m != nil {
		m.Notifications.WithLabelValues(outcome).Inc()
	}
}
