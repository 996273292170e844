package client

import (
	"testing"
	"time"

	"github.com/parley-im/parley/internal/stanza"
)

// FuzzReconnectHint: any after-ms value gives a delay between 0 and the
// cap, never a panic (the hint comes from the server's stream error).
func FuzzReconnectHint(f *testing.F) {
	f.Fuzz(func(t *testing.T, ns, name, after string) {
		app := stanza.NewElement(ns, name, "after-ms", after)
		d := reconnectHint(app)
		if d < 0 || d > maxReconnectHint {
			t.Fatalf("hint %q gave %v", after, d)
		}
		if ns != stanza.NSParley || name != "reconnect" {
			if d != 0 {
				t.Fatalf("<%s xmlns=%q/> taken as a hint", name, ns)
			}
		}
	})
}

func TestReconnectHint(t *testing.T) {
	for after, want := range map[string]time.Duration{
		"1500": 1500 * time.Millisecond, "0": 0, "-5": 0, "x": 0, "": 0, "99999999999": 0, "4294967295": maxReconnectHint,
	} {
		if got := reconnectHint(stanza.NewElement(stanza.NSParley, "reconnect", "after-ms", after)); got != want {
			t.Errorf("after-ms=%q: %v, want %v", after, got, want)
		}
	}
	if reconnectHint(nil) != 0 {
		t.Error("no hint gave a delay")
	}
}
