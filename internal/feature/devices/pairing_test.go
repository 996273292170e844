package devices

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/devicelink"
	"github.com/parley-im/parley/internal/stanza"
)

func pairIQ() *stanza.Element {
	pair := stanza.NewElement(NS, "pair", "key", devicelink.EncodeKey(make([]byte, 32)))
	return stanza.NewElement(stanza.NSClient, "iq", "type", "set", "id", "p1").AddChild(pair)
}

func condition(reply *stanza.Element) string {
	if e := reply.Child(stanza.NSClient, "error"); e != nil && len(e.Children) > 0 {
		return e.Children[0].Name
	}
	return ""
}

// TestPairingsPerAddress: one client address holds at most MaxPerIP
// pending pairings; a pairing whose stream ends frees its slot.
func TestPairingsPerAddress(t *testing.T) {
	opts := DefaultOptions()
	opts.MaxPerIP = 2
	f, err := New(nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	push := func(*stanza.Element) error { return nil }
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	ctx1, cancel1 := context.WithCancel(context.Background())
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	for _, ctx := range []context.Context{ctx1, ctx2} {
		if _, exp := f.StartPairing(ctx, a, pairIQ(), push); exp.IsZero() {
			t.Fatal("pairing refused under the limit")
		}
	}
	if reply, exp := f.StartPairing(ctx2, a, pairIQ(), push); !exp.IsZero() || condition(reply) != "resource-constraint" {
		t.Fatalf("third pairing from one address: %v", reply)
	}
	if _, exp := f.StartPairing(ctx2, b, pairIQ(), push); exp.IsZero() {
		t.Fatal("another address refused")
	}
	cancel1()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, exp := f.StartPairing(ctx2, a, pairIQ(), push); !exp.IsZero() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("an ended pairing kept its slot")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestPairingsPerIPv6Prefix: IPv6 addresses count by /64, as the login
// failure limit counts them: a client holds every address of its prefix.
func TestPairingsPerIPv6Prefix(t *testing.T) {
	opts := DefaultOptions()
	opts.MaxPerIP = 1
	f, err := New(nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	push := func(*stanza.Element) error { return nil }
	start := func(addr string) bool {
		_, exp := f.StartPairing(ctx, netip.MustParseAddr(addr), pairIQ(), push)
		return !exp.IsZero()
	}
	if !start("2001:db8:0:1::1") || start("2001:db8:0:1:ffff::2") {
		t.Fatal("a second pairing from one /64 was not refused")
	}
	if !start("2001:db8:0:2::1") {
		t.Fatal("another /64 refused")
	}
}

// TestPairRefusals: <pair/> must be an iq set with a 32-byte key.
func TestPairRefusals(t *testing.T) {
	f, _ := New(nil, DefaultOptions())
	get := pairIQ().SetAttr("type", "get")
	short := stanza.NewElement(stanza.NSClient, "iq", "type", "set", "id", "p2").
		AddChild(stanza.NewElement(NS, "pair", "key", "AAAA"))
	for _, iq := range []*stanza.Element{get, short} {
		reply, exp := f.StartPairing(context.Background(), netip.Addr{}, iq, nil)
		if !exp.IsZero() || condition(reply) != "bad-request" {
			t.Errorf("%v: answered %v", iq, reply)
		}
	}
}
