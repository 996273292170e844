package config

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// NATSEmbedded is the --nats value that runs a NATS server inside the
// process (a single node).
const NATSEmbedded = "embedded"

// DefaultNodeID is the node id of a single node with --nats embedded.
const DefaultNodeID = "local"

// Clustered reports whether the server joins a cluster bus (--nats).
func Clustered(c Config) bool { return c.NATS != "" }

// NodeIDOf is the node id: --node-id, or DefaultNodeID when empty.
func NodeIDOf(c Config) string {
	if c.NodeID == "" {
		return DefaultNodeID
	}
	return c.NodeID
}

// NATSDescription names the bus for logs and messages, without secrets.
func NATSDescription(c Config) string {
	if c.NATS == NATSEmbedded {
		return "embedded NATS"
	}
	parts := strings.Split(c.NATS, ",")
	for i, p := range parts {
		parts[i] = redactNATS(strings.TrimSpace(p))
	}
	return strings.Join(parts, ",")
}

// redactNATS hides a password or a token in a NATS URL.
func redactNATS(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	if _, ok := u.User.Password(); !ok {
		u.User = url.User("REDACTED")
	}
	return u.Redacted()
}

// validateCluster checks --nats, --node-id and --cluster-heartbeat.
func (c *Config) validateCluster() []error {
	var errs []error
	bad := func(flag string, value any, format string, args ...any) {
		errs = append(errs, badSetting(flag, value, format, args...))
	}
	if c.ClusterHeartbeat < 100*time.Millisecond || c.ClusterHeartbeat > time.Minute {
		bad("cluster-heartbeat", c.ClusterHeartbeat, "must be from 100ms to 1m")
	}
	if c.NodeID != "" {
		if err := checkNodeID(c.NodeID); err != nil {
			bad("node-id", c.NodeID, "%v", err)
		}
	}
	if c.NATS == "" || c.NATS == NATSEmbedded {
		return errs
	}
	for _, raw := range strings.Split(c.NATS, ",") {
		u, err := url.Parse(strings.TrimSpace(raw))
		if err != nil || u.Host == "" || (u.Scheme != "nats" && u.Scheme != "tls") {
			bad("nats", NATSDescription(*c), "want 'embedded' or nats:// or tls:// URLs separated by commas, for example nats://10.0.0.1:4222,nats://10.0.0.2:4222")
			break
		}
	}
	if c.NodeID == "" {
		bad("node-id", "", "required with --nats %s (each node of a cluster has its own name)", NATSDescription(*c))
	}
	if c.Store == "" {
		errs = append(errs, fmt.Errorf("--nats %s: the nodes of a cluster share their store: set --store to a PostgreSQL URL", NATSDescription(*c)))
	}
	return errs
}

// checkNodeID: 1 to 64 letters, digits, '-' or '_' (a NATS subject token).
func checkNodeID(id string) error {
	if len(id) > 64 {
		return fmt.Errorf("at most 64 characters")
	}
	for _, r := range id {
		if r != '-' && r != '_' && (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return fmt.Errorf("only letters, digits, '-' and '_'")
		}
	}
	return nil
}
