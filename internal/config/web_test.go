package config

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

// TestNetworkLists: --trusted-proxies takes CIDR networks (a bare address is its own network), from every source, and
// Validate names the flag and the entry at fault.
func TestNetworkLists(t *testing.T) {
	c, err := load("", flags(t, "--trusted-proxies", " 10.0.0.0/8, 192.0.2.7 ,2001:db8::/32,"), noEnv)
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
	if TrustedProxyList(Default()) != nil {
		t.Error("a proxy is trusted by default")
	}

	for flag, tweak := range map[string]func(*Config){
		`--trusted-proxies "10.0.0.0/8,proxy.example": "proxy.example" is not a network`:  func(c *Config) { c.TrustedProxies = "10.0.0.0/8,proxy.example" },
		`--trusted-proxies "10.0.0.0/33": "10.0.0.0/33" is not a network`:                 func(c *Config) { c.TrustedProxies = "10.0.0.0/33" },
		`--trusted-proxies "::ffff:10.0.0.0/104": "::ffff:10.0.0.0/104" is not a network`: func(c *Config) { c.TrustedProxies = "::ffff:10.0.0.0/104" },
	} {
		c := Default()
		tweak(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), flag) {
			t.Errorf("got %v\nwant an error containing %q", err, flag)
		}
	}
}
