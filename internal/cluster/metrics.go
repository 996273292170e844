package cluster

import (
	"net/url"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	in, out          prometheus.Counter
	bad, misses      prometheus.Counter
	remoteDeliveries prometheus.Counter
	expired          prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, n *Node) *metrics {
	bus := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "parley_cluster_bus_messages_total",
		Help: "Messages this node received from (in) and published to (out) the cluster bus."}, []string{"direction"})
	m := &metrics{
		in:  bus.WithLabelValues("in"),
		out: bus.WithLabelValues("out"),
		bad: prometheus.NewCounter(prometheus.CounterOpts{Name: "parley_cluster_bad_messages_total",
			Help: "Bus messages dropped because they did not decode or validate."}),
		misses: prometheus.NewCounter(prometheus.CounterOpts{Name: "parley_cluster_route_misses_total",
			Help: "Stanzas from the bus for a device no longer connected here (stored ones stay queued)."}),
		remoteDeliveries: prometheus.NewCounter(prometheus.CounterOpts{Name: "parley_cluster_remote_deliveries_total",
			Help: "Stanzas this node handed to devices connected to other nodes."}),
		expired: prometheus.NewCounter(prometheus.CounterOpts{Name: "parley_cluster_nodes_expired_total",
			Help: "Nodes dropped from the directory because their heartbeats stopped."}),
	}
	if reg == nil {
		return m
	}
	reg.MustRegister(bus, m.bad, m.misses, m.remoteDeliveries, m.expired,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "parley_cluster_directory_remote_devices",
			Help: "Devices connected to other nodes, as this node's directory knows them."},
			func() float64 { return float64(n.reg.RemoteLen()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "parley_cluster_members",
			Help: "Nodes of the cluster this node hears from, itself included."},
			func() float64 { return float64(n.memberCount()) }))
	return m
}

// redactURL hides a password or token in a URL.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	if _, ok := u.User.Password(); !ok {
		u.User = url.User("REDACTED") // a token alone
	}
	return u.Redacted()
}
