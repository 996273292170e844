package client_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parley-im/parley/client"
	"github.com/parley-im/parley/internal/config"
	"github.com/parley-im/parley/internal/devicelink"
	"github.com/parley-im/parley/internal/logbuf"
	"github.com/parley-im/parley/internal/servertest"
	"github.com/parley-im/parley/internal/store/pebble"
)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// startPairing starts a new device's pairing over the binary protocol and
// returns it with its first QR payload.
func startPairing(t *testing.T, srv *servertest.Server) (*client.Pairing, string) {
	t.Helper()
	p, err := client.StartPairing(testCtx(t), "localhost", client.Options{Addr: srv.Native, TLS: insecure})
	if err != nil {
		t.Fatalf("StartPairing: %v", err)
	}
	t.Cleanup(func() { _ = p.Close() })
	select {
	case code := <-p.Codes:
		return p, code
	case <-time.After(10 * time.Second):
		t.Fatal("no QR payload")
	}
	return nil, ""
}

// pairDevice links a new device from phone and returns its credential.
func pairDevice(t *testing.T, srv *servertest.Server, phone *client.Client, name string) *client.DeviceCredential {
	t.Helper()
	p, code := startPairing(t, srv)
	for attempt := 0; ; attempt++ {
		_, err := phone.Link(testCtx(t), code, name)
		var ie *client.IQError
		if err == nil {
			break
		}
		if !errors.As(err, &ie) || ie.Condition != "item-not-found" || attempt == 2 {
			t.Fatalf("Link: %v", err)
		}
		code = <-p.Codes // it rotated in between (short rotation periods): the next one
	}
	cred, err := p.Wait(testCtx(t))
	if err != nil {
		t.Fatalf("pairing: %v", err)
	}
	return cred
}

func deviceLogin(cred *client.DeviceCredential, srv *servertest.Server) func(*client.Options) {
	return func(o *client.Options) {
		o.JID, o.Password, o.Device, o.Encoding, o.Addr = "", "", cred, client.Binary, srv.Native
	}
}

// TestPairingEndToEnd: alice's phone (password) links a new device that
// paired over the binary protocol; the device logs in with its credential
// (twice), gets bob's message like the phone, a carbon of the phone's
// "seen" marker (read state syncs) and of what the phone sends. The token is neither stored nor logged.
func TestPairingEndToEnd(t *testing.T) {
	log := &logbuf.Buffer{}
	srv := servertest.StartLogged(t, nil, log)
	srv.AddUser(t, "alice@localhost", "pw-alice")
	srv.AddUser(t, "bob@localhost", "pw-bob")
	phone := dial(t, srv, "alice@localhost/phone", "pw-alice", binary(srv))

	cred := pairDevice(t, srv, phone, "laptop")
	if cred.JID != "alice@localhost" || !strings.HasPrefix(cred.DeviceID, "dev-") || len(cred.Token) != 43 {
		t.Fatalf("credential %+v", cred)
	}
	web := dial(t, srv, "", "", deviceLogin(cred, srv))
	if web.JID() != "alice@localhost/"+cred.DeviceID {
		t.Fatalf("the device is bound as %s, want its id as the resource", web.JID())
	}
	_ = web.Close()
	web = dial(t, srv, "", "", deviceLogin(cred, srv)) // logs in again, no new QR code

	for _, c := range []*client.Client{phone, web} {
		if err := c.SetPresence("", ""); err != nil {
			t.Fatal(err)
		}
	}
	bob := dial(t, srv, "bob@localhost/phone", "pw-bob", binary(srv))
	if _, err := bob.SendMessage("alice@localhost", "hello alice"); err != nil {
		t.Fatal(err)
	}
	var got *client.Message
	for _, c := range []*client.Client{phone, web} {
		got = next(t, c, func(m *client.Message) bool { return m.Body == "hello alice" && m.Carbon == "" })
	}
	// Read on the phone, read on the device: the marker's carbon.
	if err := phone.SendDisplayed("bob@localhost", got.ID); err != nil {
		t.Fatal(err)
	}
	mk := next(t, web, func(m *client.Marker) bool { return m.Carbon == "sent" })
	if mk.Kind != "displayed" || mk.ID != got.ID || mk.To != "bob@localhost" {
		t.Fatalf("read-state carbon %+v", mk)
	}
	if _, err := phone.SendMessage("bob@localhost", "hi bob, from the phone"); err != nil {
		t.Fatal(err)
	}
	m := next(t, web, func(m *client.Message) bool { return m.Carbon == "sent" })
	if m.Body != "hi bob, from the phone" || m.From != "alice@localhost/phone" || m.To != "bob@localhost" {
		t.Fatalf("carbon %+v", m)
	}

	devs, err := phone.Devices(testCtx(t))
	if err != nil || len(devs) != 1 || devs[0].ID != cred.DeviceID || devs[0].Name != "laptop" || !devs[0].Online ||
		devs[0].LastSeen.IsZero() {
		t.Fatalf("Devices = %+v, %v", devs, err)
	}
	_ = web.Close()
	srv.Stop()
	checkTokenNotKept(t, srv.Config, cred, log.String())
}

// checkTokenNotKept: the store holds the token's SHA-256 and no file of
// the data directory, nor the log, holds the token.
func checkTokenNotKept(t *testing.T, cfg config.Config, cred *client.DeviceCredential, log string) {
	t.Helper()
	if strings.Contains(log, cred.Token) || !strings.Contains(log, "device linked") {
		t.Fatalf("the server log holds the token (or lacks the link): %d bytes", len(log))
	}
	err := filepath.WalkDir(cfg.Data, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err == nil && bytes.Contains(b, []byte(cred.Token)) {
			t.Errorf("%s holds the device token", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	st, err := pebble.Open(config.StoreDir(cfg), pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	d, err := st.GetDevice(context.Background(), cred.JID, cred.DeviceID)
	if err != nil || !bytes.Equal(d.TokenHash, devicelink.HashToken(cred.Token)) {
		t.Fatalf("stored device %+v, %v: want the token's SHA-256", d, err)
	}
}

// TestPairingReferenceRotates: the server pushes a new reference every
// rotation period; only the latest links, an old one is refused.
func TestPairingReferenceRotates(t *testing.T) {
	srv := servertest.Start(t, func(c *config.Config) { c.PairingRotation = time.Second })
	srv.AddUser(t, "alice@localhost", "pw-alice")
	phone := dial(t, srv, "alice@localhost/phone", "pw-alice", binary(srv))
	p, first := startPairing(t, srv)
	var second string
	select {
	case second = <-p.Codes:
	case <-time.After(5 * time.Second):
		t.Fatal("the reference did not rotate")
	}
	a, _ := devicelink.ParsePayload(first)
	b, _ := devicelink.ParsePayload(second)
	if a.Ref == b.Ref || !bytes.Equal(a.Key, b.Key) {
		t.Fatalf("rotation gave %q then %q", first, second)
	}
	var ie *client.IQError
	if _, err := phone.Link(testCtx(t), first, "old"); !errors.As(err, &ie) || ie.Condition != "item-not-found" ||
		!strings.Contains(ie.Text, "expired") {
		t.Fatalf("linking an expired reference: %v", err)
	}
	latest := second
	for len(p.Codes) > 0 {
		latest = <-p.Codes
	}
	if _, err := phone.Link(testCtx(t), latest, "new"); err != nil {
		// it may have rotated in between: take the next one
		latest = <-p.Codes
		if _, err := phone.Link(testCtx(t), latest, "new"); err != nil {
			t.Fatalf("linking the current reference: %v", err)
		}
	}
	if _, err := p.Wait(testCtx(t)); err != nil {
		t.Fatal(err)
	}
}

// TestPairingRefusals: an unknown reference, a wrong key, a linked device
// trying to link or revoke, the pairing's expiry.
func TestPairingRefusals(t *testing.T) {
	srv := servertest.Start(t, func(c *config.Config) {
		c.PairingRotation, c.PairingTimeout = time.Second, 2*time.Second
	})
	srv.AddUser(t, "alice@localhost", "pw-alice")
	phone := dial(t, srv, "alice@localhost/phone", "pw-alice", binary(srv))
	var ie *client.IQError
	unknown := devicelink.Payload{Ref: devicelink.NewRef(), Key: make([]byte, 32)}.String()
	if _, err := phone.Link(testCtx(t), unknown, "x"); !errors.As(err, &ie) || ie.Condition != "item-not-found" {
		t.Fatalf("unknown reference: %v", err)
	}
	if _, err := phone.Link(testCtx(t), "not a payload", "x"); !errors.Is(err, devicelink.ErrPayload) {
		t.Fatalf("bad payload: %v", err)
	}
	p, code := startPairing(t, srv)
	pl, _ := devicelink.ParsePayload(code)
	pl.Key[0] ^= 1
	if _, err := phone.Link(testCtx(t), pl.String(), "x"); !errors.As(err, &ie) || ie.Condition != "not-acceptable" {
		t.Fatalf("wrong key: %v", err)
	}
	if _, err := p.Wait(testCtx(t)); !errors.Is(err, client.ErrPairingExpired) {
		t.Fatalf("an unlinked pairing ended with %v, want it expired", err)
	}

	cred := pairDevice(t, srv, phone, "web")
	web := dial(t, srv, "", "", deviceLogin(cred, srv))
	// A password login cannot take a linked device's resource.
	if other := dial(t, srv, "alice@localhost/"+cred.DeviceID, "pw-alice", binary(srv)); other.JID() == web.JID() {
		t.Fatalf("a password login was bound as the device %s", other.JID())
	}
	_, code = startPairing(t, srv)
	if _, err := web.Link(testCtx(t), code, "x"); !errors.As(err, &ie) || ie.Condition != "not-allowed" {
		t.Fatalf("a linked device linked another: %v", err)
	}
	if err := web.RevokeDevice(testCtx(t), cred.DeviceID); !errors.As(err, &ie) || ie.Condition != "not-allowed" {
		t.Fatalf("a linked device revoked: %v", err)
	}
	if devs, err := web.Devices(testCtx(t)); err != nil || len(devs) != 1 {
		t.Fatalf("a linked device lists the devices: %+v, %v", devs, err)
	}
}

// TestDeviceLimit: the account links at most max_linked_devices.
// TestALinkedDeviceCannotChangeThePassword: with in-band registration on,
// a device logged in with the password may change it; a linked device,
// which holds a token that a browser keeps, may not (were it to, a token
// taken from a browser would take the account). The password stays the
// phone's.
func TestALinkedDeviceCannotChangeThePassword(t *testing.T) {
	srv := servertest.Start(t, func(c *config.Config) { c.AllowRegistration = true })
	srv.AddUser(t, "alice@localhost", "pw-alice")
	phone := dial(t, srv, "alice@localhost/phone", "pw-alice", binary(srv))
	cred := pairDevice(t, srv, phone, "web")
	web := dial(t, srv, "", "", deviceLogin(cred, srv))
	var ie *client.IQError
	if err := web.ChangePassword(testCtx(t), "taken-by-the-web"); !errors.As(err, &ie) || ie.Condition != "not-allowed" {
		t.Fatalf("a linked device changed the password: %v", err)
	}
	if err := phone.ChangePassword(testCtx(t), "pw-alice-2"); err != nil {
		t.Fatalf("the phone's password change: %v", err)
	}
	dial(t, srv, "alice@localhost/laptop", "pw-alice-2", binary(srv))
}

func TestDeviceLimit(t *testing.T) {
	srv := servertest.Start(t, func(c *config.Config) { c.MaxLinkedDevices = 2 })
	srv.AddUser(t, "alice@localhost", "pw-alice")
	phone := dial(t, srv, "alice@localhost/phone", "pw-alice", binary(srv))
	first := pairDevice(t, srv, phone, "one")
	pairDevice(t, srv, phone, "two")
	p, code := startPairing(t, srv)
	var ie *client.IQError
	if _, err := phone.Link(testCtx(t), code, "three"); !errors.As(err, &ie) || ie.Condition != "resource-constraint" ||
		!strings.Contains(ie.Text, "at most 2") {
		t.Fatalf("third device: %v", err)
	}
	if err := phone.RevokeDevice(testCtx(t), first.DeviceID); err != nil {
		t.Fatal(err)
	}
	if _, err := phone.Link(testCtx(t), code, "three"); err != nil { // the same code works once there is room
		t.Fatalf("after a revoke: %v", err)
	}
	if _, err := p.Wait(testCtx(t)); err != nil {
		t.Fatal(err)
	}
}

// TestRevokeDisconnects: a revoked device is disconnected at once and its
// credential no longer logs in.
func TestRevokeDisconnects(t *testing.T) {
	srv := servertest.Start(t, nil)
	srv.AddUser(t, "alice@localhost", "pw-alice")
	phone := dial(t, srv, "alice@localhost/phone", "pw-alice", binary(srv))
	cred := pairDevice(t, srv, phone, "web")
	web := dial(t, srv, "", "", deviceLogin(cred, srv))
	if err := phone.RevokeDevice(testCtx(t), cred.DeviceID); err != nil {
		t.Fatal(err)
	}
	d := next(t, web, func(*client.Disconnected) bool { return true })
	var se *client.StreamError
	if !errors.As(d.Err, &se) || se.Condition != "not-authorized" || !strings.Contains(se.Text, "unlinked") {
		t.Fatalf("revoked device disconnected with %v", d.Err)
	}
	o := client.Options{TLS: insecure}
	deviceLogin(cred, srv)(&o)
	var ae *client.AuthError
	if _, err := client.Dial(testCtx(t), o); !errors.As(err, &ae) || ae.Condition != "not-authorized" {
		t.Fatalf("revoked device logged in again: %v", err)
	}
	if devs, err := phone.Devices(testCtx(t)); err != nil || len(devs) != 0 {
		t.Fatalf("devices after revoke: %+v, %v", devs, err)
	}
	var ie *client.IQError
	if err := phone.RevokeDevice(testCtx(t), cred.DeviceID); !errors.As(err, &ie) || ie.Condition != "item-not-found" {
		t.Fatalf("revoking twice: %v", err)
	}
}

// TestNewDeviceFetchesHistory: a device linked after a conversation gets
// it from the message archive (MAM).
func TestNewDeviceFetchesHistory(t *testing.T) {
	srv := servertest.Start(t, nil)
	srv.AddUser(t, "alice@localhost", "pw-alice")
	srv.AddUser(t, "bob@localhost", "pw-bob")
	phone := dial(t, srv, "alice@localhost/phone", "pw-alice", binary(srv))
	bob := dial(t, srv, "bob@localhost/phone", "pw-bob", binary(srv))
	id1, _ := bob.SendMessage("alice@localhost", "before the laptop existed")
	next(t, bob, func(s *client.Sent) bool { return s.ID == id1 })
	id2, _ := phone.SendMessage("bob@localhost", "me neither")
	next(t, phone, func(s *client.Sent) bool { return s.ID == id2 })

	cred := pairDevice(t, srv, phone, "laptop")
	web := dial(t, srv, "", "", deviceLogin(cred, srv))
	page, err := web.History(testCtx(t), client.HistoryQuery{With: "bob@localhost", Backward: true, Max: 10})
	if err != nil {
		t.Fatal(err)
	}
	var bodies []string
	for _, m := range page.Messages {
		bodies = append(bodies, m.Body)
	}
	if strings.Join(bodies, "|") != "before the laptop existed|me neither" {
		t.Fatalf("history on the new device: %q", bodies)
	}
}

// TestDeviceLoginFailuresAreLimited: wrong device tokens count against the
// per-IP failure limit like wrong passwords.
func TestDeviceLoginFailuresAreLimited(t *testing.T) {
	srv := servertest.Start(t, func(c *config.Config) { c.AuthFailuresPerMinute = 3 })
	srv.AddUser(t, "alice@localhost", "pw-alice")
	phone := dial(t, srv, "alice@localhost/phone", "pw-alice", binary(srv))
	cred := pairDevice(t, srv, phone, "web")
	bad := *cred
	bad.Token = devicelink.NewToken()
	login := func(c *client.DeviceCredential) error {
		o := client.Options{TLS: insecure}
		deviceLogin(c, srv)(&o)
		cl, err := client.Dial(testCtx(t), o)
		if err == nil {
			_ = cl.Close()
		}
		return err
	}
	var ae *client.AuthError
	for range 3 {
		if err := login(&bad); !errors.As(err, &ae) || ae.Condition != "not-authorized" {
			t.Fatalf("wrong token: %v", err)
		}
	}
	if err := login(cred); !errors.As(err, &ae) || ae.Condition != "temporary-auth-failure" {
		t.Fatalf("after 3 failures even the right token must wait: %v", err)
	}
}

// TestDeviceLoginOverXMPP: the device credential logs in on the XML
// stream too (after STARTTLS), bound to the same full JID.
func TestDeviceLoginOverXMPP(t *testing.T) {
	srv := servertest.Start(t, nil)
	srv.AddUser(t, "alice@localhost", "pw-alice")
	phone := dial(t, srv, "alice@localhost/phone", "pw-alice", binary(srv))
	cred := pairDevice(t, srv, phone, "xmpp app")
	c := dial(t, srv, "", "", func(o *client.Options) {
		o.JID, o.Password, o.Device, o.Encoding, o.Addr = "", "", cred, client.XML, srv.C2S
	})
	if c.JID() != "alice@localhost/"+cred.DeviceID {
		t.Fatalf("bound as %s", c.JID())
	}
}

// TestDeviceSessionResumes: a linked device whose connection drops
// reconnects with its credential and resumes its session (same full JID,
// stream management), and gets what was sent meanwhile.
func TestDeviceSessionResumes(t *testing.T) {
	srv := servertest.Start(t, nil)
	srv.AddUser(t, "alice@localhost", "pw-alice")
	srv.AddUser(t, "bob@localhost", "pw-bob")
	phone := dial(t, srv, "alice@localhost/phone", "pw-alice", binary(srv))
	cred := pairDevice(t, srv, phone, "web")
	proxy := newCutProxy(t, srv.Native)
	web := dial(t, srv, "", "", deviceLogin(cred, srv), func(o *client.Options) {
		o.Addr, o.Reconnect, o.MinBackoff, o.MaxBackoff = proxy.addr(), true, 20*time.Millisecond, 200*time.Millisecond
	})
	if err := web.SetPresence("", ""); err != nil {
		t.Fatal(err)
	}
	proxy.cut()
	next(t, web, func(*client.Disconnected) bool { return true })
	bob := dial(t, srv, "bob@localhost/phone", "pw-bob", binary(srv))
	if _, err := bob.SendMessage("alice@localhost", "while you were away"); err != nil {
		t.Fatal(err)
	}
	c := next(t, web, func(*client.Connected) bool { return true })
	if !c.Resumed || c.JID != "alice@localhost/"+cred.DeviceID {
		t.Fatalf("reconnected %+v, want the device's session resumed", c)
	}
	next(t, web, func(m *client.Message) bool { return m.Body == "while you were away" })
}
