package router_test

import (
	"fmt"
	"testing"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/router"
)

// TestDevicesAllocatesNothing: the registry is looked up for every routed
// stanza; its bare-address key must not be a new string each time.
func TestDevicesAllocatesNothing(t *testing.T) {
	reg := router.NewRegistry()
	phone := &benchDevice{full: jid.MustParse("juliet@capulet.example/phone")}
	reg.Add(phone)
	for _, addr := range []string{"juliet@capulet.example/balcony", "juliet@capulet.example", "romeo@montague.example"} {
		to := jid.MustParse(addr)
		var devs []router.Device
		if allocs := testing.AllocsPerRun(100, func() { devs = reg.Devices(to) }); allocs != 0 {
			t.Errorf("Devices(%s): %v allocations", addr, allocs)
		}
		if want := to.Bare() == phone.full.Bare(); (len(devs) == 1 && devs[0] == phone) != want {
			t.Errorf("Devices(%s) = %v", addr, devs)
		}
	}
}

// TestEachVisitsEveryDeviceWithOneSnapshot: Each calls f once per device
// and, walking 10,000 devices in 64 shards, allocates a snapshot that
// grows a few times, not one per shard (the keep-alive sweep runs it
// every 5 s on an idle server).
func TestEachVisitsEveryDeviceWithOneSnapshot(t *testing.T) {
	reg := router.NewRegistry()
	const n = 10_000
	for i := range n {
		reg.Add(&benchDevice{full: jid.MustParse(fmt.Sprintf("user%d@localhost/phone", i))})
	}
	seen := make(map[jid.JID]int, n)
	reg.Each(func(d router.Device) { seen[d.JID()]++ })
	if len(seen) != n {
		t.Fatalf("Each visited %d devices, want %d", len(seen), n)
	}
	for j, c := range seen {
		if c != 1 {
			t.Fatalf("Each visited %v %d times", j, c)
		}
	}
	visits := 0
	allocs := testing.AllocsPerRun(5, func() { reg.Each(func(router.Device) { visits++ }) })
	if allocs > 16 {
		t.Errorf("Each allocated %v times for %d devices in 64 shards, want a snapshot grown a few times", allocs, n)
	}
}
