package config

import (
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// TURNSecretPath is the TURN shared secret's file: c.TURNSecretFile, or
// turn/secret in the data directory when that is empty.
func TURNSecretPath(c Config) string {
	if c.TURNSecretFile != "" {
		return c.TURNSecretFile
	}
	return filepath.Join(c.Data, "turn", "secret")
}

// TURNPortRange parses --turn-ports: min-max, or 0, 0 when empty.
func TURNPortRange(c Config) (lo, hi int, err error) {
	if strings.TrimSpace(c.TURNPorts) == "" {
		return 0, 0, nil
	}
	a, b, ok := strings.Cut(c.TURNPorts, "-")
	lo, err1 := strconv.Atoi(strings.TrimSpace(a))
	hi, err2 := strconv.Atoi(strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil || lo < 1024 || hi > 65535 || lo > hi {
		return 0, 0, errors.New("want min-max with 1024 <= min <= max <= 65535, for example 49152-65535")
	}
	return lo, hi, nil
}

// TURNRelayIP is the relayed address given to clients: --turn-relay-ip, or
// the host of listen (the bound --turn address) when that is an IP other
// than the unspecified one.
func TURNRelayIP(c Config, listen string) (net.IP, error) {
	if c.TURNRelayIP != "" {
		return net.ParseIP(c.TURNRelayIP), nil
	}
	host, _, _ := net.SplitHostPort(listen)
	ip := net.ParseIP(host)
	if ip == nil || ip.IsUnspecified() {
		return nil, fmt.Errorf("--turn-relay-ip: required when --turn %q does not name one IP address", listen)
	}
	return ip, nil
}

// TURNAnnounced is the host and port clients are told to use for the relay
// (XEP-0215): --turn-public, or else the bound --turn address (udp); its
// port defaults to 3478. ok is false when no relay is known.
func TURNAnnounced(c Config, bound string) (host string, port int, ok bool) {
	addr := c.TURNPublic
	if addr == "" {
		addr = bound
	}
	if addr == "" {
		return "", 0, false
	}
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		return addr, 3478, true
	}
	n, _ := strconv.Atoi(p)
	return h, n, true
}

// validateTURN checks the relay and call settings.
func (c *Config) validateTURN() []error {
	var errs []error
	bad := func(flag string, value any, format string, args ...any) {
		errs = append(errs, badSetting(flag, value, format, args...))
	}
	for _, a := range []struct{ flag, addr string }{{"turn", c.TURN}, {"turn-tls", c.TURNTLS}} {
		if a.addr != "" {
			if err := checkAddr(a.addr); err != nil {
				bad(a.flag, a.addr, "%v", err)
			}
		}
	}
	if c.TURNTLS != "" && c.TURN == "" {
		bad("turn-tls", c.TURNTLS, "needs --turn (the relay it is a listener of)")
	}
	if c.TURNPublic != "" && strings.ContainsAny(c.TURNPublic, " /@") {
		bad("turn-public", c.TURNPublic, "want host or host:port")
	}
	if c.TURNRelayIP != "" {
		if ip := net.ParseIP(c.TURNRelayIP); ip == nil || ip.IsUnspecified() {
			bad("turn-relay-ip", c.TURNRelayIP, "want an IP address")
		}
	}
	if c.TURN != "" && c.TURNRelayIP == "" {
		if host, _, err := net.SplitHostPort(c.TURN); err == nil {
			if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
				bad("turn-relay-ip", "", "required when --turn %q does not name one IP address", c.TURN)
			}
		}
	}
	if _, _, err := TURNPortRange(*c); err != nil {
		bad("turn-ports", c.TURNPorts, "%v", err)
	}
	if c.TURNCredentialTTL < time.Minute || c.TURNCredentialTTL > 7*24*time.Hour {
		bad("turn-credential-ttl", c.TURNCredentialTTL, "must be between 1m and 168h")
	}
	if c.TURNMaxAllocations <= 0 {
		bad("turn-max-allocations", c.TURNMaxAllocations, "must be positive")
	}
	if c.TURNBandwidth < 0 {
		bad("turn-bandwidth", c.TURNBandwidth, "must be 0 (no limit) or positive")
	}
	if c.CallRingTimeout < 100*time.Millisecond || c.CallRingTimeout > 10*time.Minute {
		bad("call-ring-timeout", c.CallRingTimeout, "must be between 100ms and 10m")
	}
	return errs
}
