package config

import (
	"strings"
	"testing"
	"time"
)

func TestValidateClusterMessages(t *testing.T) {
	pg := "postgres://postgres@127.0.0.1/test"
	cases := []struct {
		name  string
		tweak func(*Config)
		msg   string
	}{
		{"not a url", func(c *Config) { c.NATS, c.NodeID, c.Store = "10.0.0.1", "n1", pg }, `--nats "10.0.0.1": want 'embedded' or nats://`},
		{"http url", func(c *Config) { c.NATS, c.NodeID, c.Store = "http://x:4222", "n1", pg }, `want 'embedded' or nats://`},
		{"no node id", func(c *Config) { c.NATS, c.Store = "nats://a:4222,nats://b:4222", pg }, `--node-id "": required with --nats nats://a:4222,nats://b:4222`},
		{"no shared store", func(c *Config) { c.NATS, c.NodeID = "nats://a:4222", "n1" }, `the nodes of a cluster share their store`},
		{"bad node id", func(c *Config) { c.NodeID = "node.1" }, `--node-id "node.1": only letters, digits`},
		{"long node id", func(c *Config) { c.NodeID = strings.Repeat("n", 65) }, `at most 64 characters`},
		{"heartbeat", func(c *Config) { c.ClusterHeartbeat = time.Millisecond }, `--cluster-heartbeat 1ms: must be from 100ms to 1m`},
		{"password hidden", func(c *Config) { c.NATS, c.Store = "nats://u:secret@a:4222", pg }, `nats://u:xxxxx@a:4222`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			tc.tweak(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("got %v\nwant an error containing %q", err, tc.msg)
			}
			if err != nil && strings.Contains(err.Error(), "secret") {
				t.Errorf("the NATS password is in the message: %v", err)
			}
		})
	}
	for _, nats := range []string{"embedded", "nats://10.0.0.1:4222, tls://u:p@10.0.0.2:4222"} {
		c := Default()
		c.NATS, c.NodeID, c.Store = nats, "node-1", pg
		if err := c.Validate(); err != nil || !Clustered(c) {
			t.Fatalf("%s: %v", nats, err)
		}
	}
	c := Default()
	c.NATS = NATSEmbedded
	if err := c.Validate(); err != nil || NodeIDOf(c) != DefaultNodeID {
		t.Fatalf("embedded NATS on the embedded store, no node id: %v, node %q", err, NodeIDOf(c))
	}
	if Clustered(Default()) {
		t.Fatal("clustered by default")
	}
}
