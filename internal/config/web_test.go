package config

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

// TestNetworkLists: --trusted-proxies and --metrics-allow take CIDR
// networks (a bare address is its own network), from every source, and
// Validate names the flag and the entry at fault.
func TestNetworkLists(t *testing.T) {
	c, err := load("", flags(t, "--trusted-proxies", " 10.0.0.0/8, 192.0.2.7 ,2001:db8::/32,"),
		env(map[string]string{"PARLEY_METRICS_ALLOW": "10.1.2.3/16"}))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.7/32"), netip.MustParsePrefix("2001:db8::/32")}
	if got := TrustedProxyList(c); !reflect.DeepEqual(got, want) {
		t.Errorf("TrustedProxyList = %v, want %v", got, want)
	}
	if got := MetricsAllowList(c); !reflect.DeepEqual(got, []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16")}) {
		t.Errorf("MetricsAllowList = %v", got)
	}
	if got := MetricsAllowList(Default()); !reflect.DeepEqual(got, []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}) {
		t.Errorf("default MetricsAllowList = %v, want loopback", got)
	}
	if TrustedProxyList(Default()) != nil {
		t.Error("a proxy is trusted by default")
	}

	for flag, tweak := range map[string]func(*Config){
		`--trusted-proxies "10.0.0.0/8,proxy.example": "proxy.example" is not a network`:  func(c *Config) { c.TrustedProxies = "10.0.0.0/8,proxy.example" },
		`--metrics-allow "10.0.0.0/33": "10.0.0.0/33" is not a network`:                   func(c *Config) { c.MetricsAllow = "10.0.0.0/33" },
		`--trusted-proxies "::ffff:10.0.0.0/104": "::ffff:10.0.0.0/104" is not a network`: func(c *Config) { c.TrustedProxies = "::ffff:10.0.0.0/104" },
	} {
		c := Default()
		tweak(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), flag) {
			t.Errorf("got %v\nwant an error containing %q", err, flag)
		}
	}
}
