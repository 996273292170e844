package storetest

import (
	"bytes"
	"crypto/sha256"
	"testing"

	"github.com/parley-im/parley/internal/store"
)

func device(id string, i int) store.Device {
	h := sha256.Sum256([]byte("token of " + id))
	return store.Device{ID: id, Name: "device " + id, Created: ts(i), TokenHash: h[:]}
}

// checkDevices compares the user's devices with want (in order).
func checkDevices(t *testing.T, s store.Store, user string, want ...store.Device) {
	t.Helper()
	got, err := s.ListDevices(ctx(), user)
	must(t, "ListDevices "+user, err)
	if got == nil || len(got) != len(want) {
		t.Fatalf("ListDevices(%s) = %+v, want %+v", user, got, want)
	}
	for i := range want {
		sameDevice(t, got[i], want[i])
	}
}

func sameDevice(t *testing.T, g, w store.Device) {
	t.Helper()
	if g.ID != w.ID || g.Name != w.Name || !g.Created.Equal(w.Created) || !g.LastSeen.Equal(w.LastSeen) ||
		!bytes.Equal(g.TokenHash, w.TokenHash) {
		t.Fatalf("device = %+v, want %+v", g, w)
	}
}

func addDevice(t *testing.T, s store.Store, user string, d store.Device, limit int) {
	t.Helper()
	must(t, "AddDevice "+d.ID, s.AddDevice(ctx(), user, d, limit))
}

func runDevices(t *testing.T, f Factory) {
	const alice = "alice@example.org"
	subtests(t, f, []namedTest{
		{"Empty", func(t *testing.T, s store.Store) {
			checkDevices(t, s, alice)
			_, err := s.GetDevice(ctx(), alice, "d1")
			wantErr(t, "GetDevice", err, store.ErrNotFound)
			wantErr(t, "RevokeDevice", s.RevokeDevice(ctx(), alice, "d1"), store.ErrNotFound)
			wantErr(t, "TouchDevice", s.TouchDevice(ctx(), alice, "d1", ts(1)), store.ErrNotFound)
			// No account: no device.
			wantErr(t, "AddDevice without account", s.AddDevice(ctx(), alice, device("d1", 1), 4), store.ErrNotFound)
		}},
		{"AddGetTouchRevoke", func(t *testing.T, s store.Store) {
			fillUser(t, s, alice, 1)
			b, a := device("web-b", 1), device("web-a", 2)
			addDevice(t, s, alice, b, 4)
			addDevice(t, s, alice, a, 4)
			wantErr(t, "AddDevice same id", s.AddDevice(ctx(), alice, device("web-a", 3), 4), store.ErrExists)
			checkDevices(t, s, alice, a, b) // sorted by id
			got, err := s.GetDevice(ctx(), alice, "web-b")
			must(t, "GetDevice", err)
			sameDevice(t, got, b)
			must(t, "TouchDevice", s.TouchDevice(ctx(), alice, "web-b", ts(9)))
			b.LastSeen = ts(9)
			checkDevices(t, s, alice, a, b)
			must(t, "RevokeDevice", s.RevokeDevice(ctx(), alice, "web-a"))
			wantErr(t, "RevokeDevice again", s.RevokeDevice(ctx(), alice, "web-a"), store.ErrNotFound)
			_, err = s.GetDevice(ctx(), alice, "web-a")
			wantErr(t, "GetDevice revoked", err, store.ErrNotFound)
			checkDevices(t, s, alice, b)
		}},
		{"Limit", func(t *testing.T, s store.Store) {
			fillUser(t, s, alice, 1)
			fillUser(t, s, "bob@example.org", 2)
			for i, id := range []string{"d1", "d2"} {
				addDevice(t, s, alice, device(id, i), 2)
			}
			wantErr(t, "AddDevice over the limit", s.AddDevice(ctx(), alice, device("d3", 3), 2), store.ErrLimit)
			addDevice(t, s, "bob@example.org", device("d3", 3), 2) // the limit is per account
			must(t, "RevokeDevice", s.RevokeDevice(ctx(), alice, "d1"))
			addDevice(t, s, alice, device("d3", 3), 2) // room again
			addDevice(t, s, alice, device("d4", 4), 0) // 0: no limit
			checkDevices(t, s, alice, device("d2", 1), device("d3", 3), device("d4", 4))
		}},
		{"ConcurrentLimit", func(t *testing.T, s store.Store) {
			fillUser(t, s, alice, 1)
			errs := make(chan error, 8)
			for i := range 8 {
				go func() { errs <- s.AddDevice(ctx(), alice, device(string(rune('a'+i)), i), 3) }()
			}
			ok := 0
			for range 8 {
				if err := <-errs; err == nil {
					ok++
				} else {
					wantErr(t, "concurrent AddDevice", err, store.ErrLimit)
				}
			}
			got, err := s.ListDevices(ctx(), alice)
			must(t, "ListDevices", err)
			if ok != 3 || len(got) != 3 {
				t.Fatalf("%d links succeeded and %d devices stored, want 3 and 3", ok, len(got))
			}
		}},
		{"DeleteAccountAndReopen", func(t *testing.T, s store.Store) {
			users := []string{alice, "alice@example.orgx", "bob@example.org"}
			for i, u := range users {
				fillUser(t, s, u, byte(i+1))
				addDevice(t, s, u, device("web", i), 4)
			}
			must(t, "DeleteAccount", s.DeleteAccount(ctx(), alice))
			checkDevices(t, s, alice)
			if f.Reopen != nil {
				s = f.Reopen(t, s)
				defer func() { _ = s.Close() }()
			}
			checkDevices(t, s, users[1], device("web", 1))
			checkDevices(t, s, users[2], device("web", 2))
			// A re-created account starts with no devices.
			fillUser(t, s, alice, 9)
			checkDevices(t, s, alice)
		}},
	})
}
