package config

import (
	"strings"
	"testing"
	"time"
)

func TestValidateTURNMessages(t *testing.T) {
	cases := []struct {
		name  string
		tweak func(*Config)
		msg   string
	}{
		{"every interface needs a relay ip", func(c *Config) { c.TURN = "0.0.0.0:3478" }, `--turn-relay-ip "": required when --turn "0.0.0.0:3478"`},
		{"bad relay ip", func(c *Config) { c.TURNRelayIP = "turn.example.org" }, `--turn-relay-ip "turn.example.org": want an IP address`},
		{"bad addr", func(c *Config) { c.TURN = "3478" }, `--turn "3478": want host:port`},
		{"tls without turn", func(c *Config) { c.TURN, c.TURNTLS = "", "127.0.0.1:5349" }, `--turn-tls "127.0.0.1:5349": needs --turn`},
		{"ports reversed", func(c *Config) { c.TURNPorts = "60000-50000" }, `--turn-ports "60000-50000": want min-max`},
		{"ports privileged", func(c *Config) { c.TURNPorts = "80-90" }, `--turn-ports "80-90"`},
		{"ttl", func(c *Config) { c.TURNCredentialTTL = time.Second }, `--turn-credential-ttl 1s: must be between 1m and 168h`},
		{"quota", func(c *Config) { c.TURNMaxAllocations = 0 }, `--turn-max-allocations 0: must be positive`},
		{"bandwidth", func(c *Config) { c.TURNBandwidth = -1 }, `--turn-bandwidth -1`},
		{"ring timeout", func(c *Config) { c.CallRingTimeout = time.Hour }, `--call-ring-timeout 1h0m0s: must be between 100ms and 10m`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			tc.tweak(&c)
			if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("got %v\nwant an error containing %q", err, tc.msg)
			}
		})
	}

	c := Default()
	c.TURN, c.TURNRelayIP, c.TURNPublic, c.TURNPorts = "0.0.0.0:3478", "203.0.113.7", "turn.example.org:443", " 50000 - 50100 "
	if err := c.Validate(); err != nil {
		t.Fatalf("a public relay: %v", err)
	}
	if lo, hi, _ := TURNPortRange(c); lo != 50000 || hi != 50100 {
		t.Fatalf("port range %d-%d", lo, hi)
	}
	if ip, err := TURNRelayIP(c, "0.0.0.0:3478"); err != nil || ip.String() != "203.0.113.7" {
		t.Fatalf("relay ip %v %v", ip, err)
	}
	if h, p, ok := TURNAnnounced(c, "0.0.0.0:3478"); !ok || h != "turn.example.org" || p != 443 {
		t.Fatalf("announced %s %d %v", h, p, ok)
	}
	// Only announcing a relay run elsewhere ("parley turn").
	c = Default()
	c.TURN, c.TURNPublic = "", "turn.example.org"
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if h, p, ok := TURNAnnounced(c, ""); !ok || h != "turn.example.org" || p != 3478 {
		t.Fatalf("announced %s %d %v", h, p, ok)
	}
	if _, _, ok := TURNAnnounced(Config{}, ""); ok {
		t.Fatal("a relay announced with none configured")
	}
}
