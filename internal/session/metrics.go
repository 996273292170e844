package session

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the session counters exported on /metrics. A nil *Metrics
// records nothing (tests).
type Metrics struct {
	StanzasOut       prometheus.Counter
	MailboxOverflows prometheus.Counter
	Detaches         prometheus.Counter
	Resumes          prometheus.Counter
	OfflineDrained   prometheus.Counter
	// RecordWrites and Records count the store writes of resumption
	// records (handoffs) and the records they held.
	RecordWrites prometheus.Counter
	Records      prometheus.Counter
	// DeliveryWait is, for each write to a client that carried stanzas
	// handed to its session (a message, a presence), how long the oldest
	// of them waited: from its hand-over to the session's mailbox until
	// the write ended. It is the server's own part of a delivery's
	// latency after routing (the mailbox, the session's runner, the
	// socket write), without the network's or the client's.
	DeliveryWait prometheus.Histogram
	start        time.Time // what clock counts from
}

// NewMetrics creates the counters and registers them with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		start: time.Now(),
		StanzasOut: prometheus.NewCounter(prometheus.CounterOpts{Name: "parley_stanzas_out_total",
			Help: "Stanzas written to clients."}),
		MailboxOverflows: prometheus.NewCounter(prometheus.CounterOpts{Name: "parley_mailbox_overflows_total",
			Help: "Sessions disconnected because their mailbox overflowed (slow clients)."}),
		Detaches: prometheus.NewCounter(prometheus.CounterOpts{Name: "parley_sessions_detached_total",
			Help: "Sessions that lost their connection and wait for stream-management resumption."}),
		Resumes: prometheus.NewCounter(prometheus.CounterOpts{Name: "parley_sessions_resumed_total",
			Help: "Sessions resumed (XEP-0198)."}),
		OfflineDrained: prometheus.NewCounter(prometheus.CounterOpts{Name: "parley_offline_drains_total",
			Help: "Offline-queue drains at login."}),
		RecordWrites: prometheus.NewCounter(prometheus.CounterOpts{Name: "parley_resumption_record_writes_total",
			Help: "Store writes of resumption records of handed-off sessions (each holds up to 256 records)."}),
		Records: prometheus.NewCounter(prometheus.CounterOpts{Name: "parley_resumption_records_written_total",
			Help: "Resumption records of handed-off sessions written."}),
		DeliveryWait: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "parley_delivery_wait_seconds",
			Help: "For each write to a client carrying stanzas handed to its session, how long the oldest waited, from its hand-over to the end of the write.",
			// 25 µs to 1.6 s, doubling: a quiet server's writes take tens of
			// microseconds, an overloaded one's hundreds of milliseconds.
			Buckets: prometheus.ExponentialBuckets(25e-6, 2, 17)}),
	}
	reg.MustRegister(m.StanzasOut, m.MailboxOverflows, m.Detaches, m.Resumes, m.OfflineDrained, m.RecordWrites, m.Records,
		m.DeliveryWait)
	return m
}

// clock returns the time for DeliveryWait in nanoseconds since the
// metrics were made (monotonic, never 0: eight bytes in an idle session's
// mailbox, not a time.Time's 24), or 0 when nothing is recorded (no
// metrics: tests), which costs no clock read.
func (m *Metrics) clock() int64 {
	if m == nil {
		return 0
	}
	return int64(time.Since(m.start)) + 1
}

// deliveryWaited records a write whose oldest stanza was handed over at
// since (a clock reading; 0: none, or no metrics).
func (m *Metrics) deliveryWaited(since int64) {
	if m != nil && since != 0 {
		m.DeliveryWait.Observe(time.Duration(m.clock() - since).Seconds())
	}
}

func (m *Metrics) stanzaOut() {
	if m != nil {
		m.StanzasOut.Inc()
	}
}

func (m *Metrics) mailboxOverflow() {
	if m != nil {
		m.MailboxOverflows.Inc()
	}
}

func (m *Metrics) detached() {
	if m != nil {
		m.Detaches.Inc()
	}
}

func (m *Metrics) resumed() {
	if m != nil {
		m.Resumes.Inc()
	}
}

func (m *Metrics) offlineDrained(int) {
	if m != nil {
		m.OfflineDrained.Inc()
	}
}

func (m *Metrics) recordsWritten(n int) {
	if m != nil {
		m.RecordWrites.Inc()
		m.Records.Add(float64(n))
	}
}
