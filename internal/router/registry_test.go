package router_test

import (
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
