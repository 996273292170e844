package session

import "github.com/prometheus/client_golang/prometheus"

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
}

// NewMetrics creates the counters and registers them with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
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
	}
	reg.MustRegister(m.StanzasOut, m.MailboxOverflows, m.Detaches, m.Resumes, m.OfflineDrained, m.RecordWrites, m.Records)
	return m
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
