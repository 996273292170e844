package config

import (
	"fmt"
	"net/netip"
	"net/url"
	"strings"
)

// WebOriginList returns the origins of --web-origins, each in the form
// scheme://host[:port], lowercased, without empty entries.
func WebOriginList(c Config) []string {
	var out []string
	for _, o := range strings.Split(c.WebOrigins, ",") {
		if o = strings.ToLower(strings.TrimSpace(o)); o != "" {
			out = append(out, strings.TrimSuffix(o, "/"))
		}
	}
	return out
}

// TrustedProxyList returns the networks of --trusted-proxies (entries
// that do not parse are left out: Validate reports them).
func TrustedProxyList(c Config) []netip.Prefix { return networks(c.TrustedProxies) }

// MetricsAllowList returns the networks of --metrics-allow (entries that
// do not parse are left out: Validate reports them).
func MetricsAllowList(c Config) []netip.Prefix { return networks(c.MetricsAllow) }

// networks parses a comma-separated list of networks, skipping empty and
// bad entries.
func networks(list string) []netip.Prefix {
	var out []netip.Prefix
	for _, e := range strings.Split(list, ",") {
		if p, err := parseNetwork(e); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// parseNetwork parses one entry of a list of networks: CIDR, or a single
// address, which stands for itself alone (/32, /128). IPv4-mapped IPv6
// networks are refused: client addresses are compared unmapped, so such a
// network would never match.
func parseNetwork(e string) (netip.Prefix, error) {
	e = strings.TrimSpace(e)
	p, err := netip.ParsePrefix(e)
	if a, aerr := netip.ParseAddr(e); aerr == nil {
		p, err = netip.PrefixFrom(a, a.BitLen()), nil
	}
	if err != nil || p.Addr().Zone() != "" || p.Addr().Is4In6() {
		return netip.Prefix{}, fmt.Errorf("%q is not a network (want CIDR such as 10.0.0.0/8 or 2001:db8::/32)", e)
	}
	return p.Masked(), nil
}

// validateNetworks checks a list of networks: every non-empty entry
// parses.
func validateNetworks(flag, list string) []error {
	var errs []error
	for _, e := range strings.Split(list, ",") {
		if strings.TrimSpace(e) == "" {
			continue
		}
		if _, err := parseNetwork(e); err != nil {
			errs = append(errs, badSetting(flag, list, "%v", err))
		}
	}
	return errs
}

// validateWeb checks --web-origins (each entry is an http(s) origin with
// no path, query or fragment), --trusted-proxies and --metrics-allow.
func (c *Config) validateWeb() []error {
	errs := append(validateNetworks("trusted-proxies", c.TrustedProxies), validateNetworks("metrics-allow", c.MetricsAllow)...)
	for _, o := range WebOriginList(*c) {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" ||
			u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			errs = append(errs, badSetting("web-origins", c.WebOrigins, "%q is not an origin (want http(s)://host[:port])", o))
		}
	}
	return errs
}
