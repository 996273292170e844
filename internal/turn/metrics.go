package turn

import (
	"fmt"
	"log/slog"

	"github.com/pion/logging"
	"github.com/prometheus/client_golang/prometheus"
)

// Directions of relayed traffic, as metric labels.
const (
	dirToPeer   = "to_peer"   // from the client, through the relay, to a peer
	dirFromPeer = "from_peer" // from a peer, through the relay, to the client
)

// Metrics are the relay's Prometheus metrics. A nil *Metrics records
// nothing.
type Metrics struct {
	allocations prometheus.Gauge
	bytes       *prometheus.CounterVec
	drops       *prometheus.CounterVec
	authFails   prometheus.Counter
}

// NewMetrics registers the relay's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		allocations: prometheus.NewGauge(prometheus.GaugeOpts{Name: "parley_turn_allocations",
			Help: "Live TURN allocations."}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "parley_turn_relayed_bytes_total",
			Help: "Bytes relayed by TURN allocations, by direction (to_peer, from_peer)."}, []string{"direction"}),
		drops: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "parley_turn_dropped_packets_total",
			Help: "Packets dropped by the per-allocation bandwidth limit, by direction."}, []string{"direction"}),
		authFails: prometheus.NewCounter(prometheus.CounterOpts{Name: "parley_turn_auth_failures_total",
			Help: "TURN requests refused for a malformed, expired or wrong credential."}),
	}
	reg.MustRegister(m.allocations, m.bytes, m.drops, m.authFails)
	for _, dir := range []string{dirToPeer, dirFromPeer} { // shown at 0 from the start
		m.bytes.WithLabelValues(dir)
		m.drops.WithLabelValues(dir)
	}
	return m
}

func (m *Metrics) allocation(d float64) {
	if m != nil {
		m.allocations.Add(d)
	}
}

func (m *Metrics) relayed(dir string, n int) {
	if m != nil {
		m.bytes.WithLabelValues(dir).Add(float64(n))
	}
}

func (m *Metrics) dropped(dir string) {
	if m != nil {
		m.drops.WithLabelValues(dir).Inc()
	}
}

func (m *Metrics) authFailed() {
	if m != nil {
		m.authFails.Inc()
	}
}

// logFactory sends pion's logs to slog: its errors at info (they are
// mostly about clients' bad packets), the rest at debug.
type logFactory struct{ log *slog.Logger }

func (f logFactory) NewLogger(scope string) logging.LeveledLogger {
	return pionLog{f.log.With("pion", scope)}
}

type pionLog struct{ log *slog.Logger }

func (l pionLog) Trace(string)                   {}
func (l pionLog) Tracef(string, ...any)          {}
func (l pionLog) Debug(msg string)               { l.log.Debug(msg) }
func (l pionLog) Debugf(format string, a ...any) { l.log.Debug(fmt.Sprintf(format, a...)) }
func (l pionLog) Info(msg string)                { l.log.Debug(msg) }
func (l pionLog) Infof(format string, a ...any)  { l.log.Debug(fmt.Sprintf(format, a...)) }
func (l pionLog) Warn(msg string)                { l.log.Debug(msg) }
func (l pionLog) Warnf(format string, a ...any)  { l.log.Debug(fmt.Sprintf(format, a...)) }
func (l pionLog) Error(msg string)               { l.log.Info(msg) }
func (l pionLog) Errorf(format string, a ...any) { l.log.Info(fmt.Sprintf(format, a...)) }
