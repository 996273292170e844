package client_test

import (
	"context"
	"crypto/tls"
	"errors"
	"testing"
	"time"

	"github.com/parley-im/parley/client"
	"github.com/parley-im/parley/internal/servertest"
)

var insecure = &tls.Config{InsecureSkipVerify: true} // the test server's self-signed certificate

func dial(t *testing.T, srv *servertest.Server, jid, password string, tweak ...func(*client.Options)) *client.Client {
	t.Helper()
	o := client.Options{JID: jid, Password: password, Addr: srv.C2S, Encoding: client.XML, TLS: insecure}
	for _, f := range tweak {
		f(&o)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, o)
	if err != nil {
		t.Fatalf("dial %s: %v", jid, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// next waits for the first event that match accepts.
func next[T client.Event](t *testing.T, c *client.Client, match func(T) bool) T {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case e, ok := <-c.Events():
			if !ok {
				t.Fatalf("%s: events closed while waiting", c.JID())
			}
			if v, ok := e.(T); ok && (match == nil || match(v)) {
				return v
			}
		case <-timeout:
			var zero T
			t.Fatalf("%s: timed out waiting for %T", c.JID(), zero)
			return zero
		}
	}
}

// binary makes a dial use Parley's binary encoding on the native port.
func binary(srv *servertest.Server) func(*client.Options) {
	return func(o *client.Options) { o.Encoding, o.Addr = client.Binary, srv.Native }
}

func xml(*client.Options) {}

// TestThreeTicksTypingAndLastSeen runs with both encodings, and with one
// device of each: XMPP apps and Parley's own clients meet in one router.
func TestThreeTicksTypingAndLastSeen(t *testing.T) {
	for _, tc := range []struct {
		name     string
		aliceBin bool
		bobBin   bool
	}{{"xml-xml", false, false}, {"binary-binary", true, true}, {"binary-xml", true, false}, {"xml-binary", false, true}} {
		t.Run(tc.name, func(t *testing.T) { threeTicks(t, tc.aliceBin, tc.bobBin) })
	}
}

func threeTicks(t *testing.T, aliceBinary, bobBinary bool) {
	srv := servertest.Start(t, nil)
	srv.AddUser(t, "alice@localhost", "pw-alice")
	srv.AddUser(t, "bob@localhost", "pw-bob")
	enc := func(b bool) func(*client.Options) {
		if b {
			return binary(srv)
		}
		return xml
	}
	alice := dial(t, srv, "alice@localhost/phone", "pw-alice", enc(aliceBinary))
	bob := dial(t, srv, "bob@localhost/phone", "pw-bob", enc(bobBinary))
	for _, c := range []*client.Client{alice, bob} {
		if err := c.SetPresence("", "hello"); err != nil {
			t.Fatal(err)
		}
	}

	// alice may see bob's presence and last seen.
	if err := alice.Subscribe("bob@localhost"); err != nil {
		t.Fatal(err)
	}
	next(t, bob, func(p *client.Presence) bool { return p.Type == "subscribe" })
	if err := bob.ApproveSubscription("alice@localhost"); err != nil {
		t.Fatal(err)
	}
	next(t, alice, func(p *client.Presence) bool { return p.Type == "subscribed" })

	if err := alice.SendChatState("bob@localhost", "composing"); err != nil {
		t.Fatal(err)
	}
	next(t, bob, func(cs *client.ChatState) bool { return cs.State == "composing" })

	id, err := alice.SendMessage("bob@localhost", "hi bob")
	if err != nil {
		t.Fatal(err)
	}
	next(t, alice, func(s *client.Sent) bool { return s.ID == id }) // ✓ sent
	m := next(t, bob, func(m *client.Message) bool { return m.Body == "hi bob" })
	if m.ID != id || m.StanzaID == "" || !m.WantsReceipt || !m.Markable || m.From != "alice@localhost/phone" {
		t.Fatalf("bob got %+v", m)
	}
	if err := bob.SendReceipt(m.From, m.ID); err != nil {
		t.Fatal(err)
	}
	r := next(t, alice, func(r *client.Receipt) bool { return true }) // ✓✓ delivered
	if len(r.IDs) != 1 || r.IDs[0] != id {
		t.Fatalf("receipt %+v", r)
	}
	if err := bob.SendDisplayed(m.From, m.ID); err != nil {
		t.Fatal(err)
	}
	mk := next(t, alice, func(mk *client.Marker) bool { return mk.Kind == "displayed" }) // seen
	if mk.ID != id {
		t.Fatalf("marker %+v", mk)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if rtt, err := alice.Ping(ctx); err != nil || rtt <= 0 {
		t.Fatalf("ping: %v %v", rtt, err)
	}
	_ = bob.Close()
	time.Sleep(1200 * time.Millisecond)
	ago, status, err := alice.LastSeen(ctx, "bob@localhost")
	if err != nil {
		t.Fatalf("last seen: %v", err)
	}
	if ago < time.Second || ago > time.Minute || status != "hello" {
		t.Fatalf("bob last seen %v ago (status %q)", ago, status)
	}
}

func TestOfflineMessagesArriveAtPresenceWithTheirStamp(t *testing.T) {
	srv := servertest.Start(t, nil)
	srv.AddUser(t, "alice@localhost", "pw-alice")
	srv.AddUser(t, "bob@localhost", "pw-bob")
	alice := dial(t, srv, "alice@localhost/phone", "pw-alice", binary(srv))
	var ids []string
	for _, body := range []string{"one", "two", "three"} {
		id, err := alice.SendMessage("bob@localhost", body)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	for _, id := range ids {
		next(t, alice, func(s *client.Sent) bool { return s.ID == id })
	}
	bob := dial(t, srv, "bob@localhost/phone", "pw-bob", binary(srv))
	if err := bob.SetPresence("", ""); err != nil {
		t.Fatal(err)
	}
	for i, body := range []string{"one", "two", "three"} {
		m := next(t, bob, func(m *client.Message) bool { return true })
		if m.Body != body || m.ID != ids[i] || m.Delayed.IsZero() {
			t.Fatalf("offline message %d: %+v", i, m)
		}
	}
}

func TestWrongPasswordAndPlaintextRefusal(t *testing.T) {
	srv := servertest.Start(t, nil)
	srv.AddUser(t, "alice@localhost", "pw-alice")
	ctx := context.Background()
	_, err := client.Dial(ctx, client.Options{JID: "alice@localhost", Password: "wrong", Addr: srv.C2S, Encoding: client.XML, TLS: insecure})
	var ae *client.AuthError
	if !errors.As(err, &ae) || ae.Condition != "not-authorized" {
		t.Fatalf("wrong password: %v", err)
	}
	_, err = client.Dial(ctx, client.Options{JID: "alice@localhost", Password: "pw-alice", Addr: srv.C2S, Encoding: client.XML, Transport: client.Plaintext})
	if err == nil {
		t.Fatal("plaintext login accepted by a server that requires TLS")
	}
	// The certificate is checked unless told otherwise.
	_, err = client.Dial(ctx, client.Options{JID: "alice@localhost", Password: "pw-alice", Addr: srv.C2S, Encoding: client.XML})
	if err == nil {
		t.Fatal("a self-signed certificate was accepted without InsecureSkipVerify")
	}
	for _, tr := range []struct {
		name string
		o    client.Options
	}{
		{"direct TLS", client.Options{Encoding: client.XML, Transport: client.DirectTLS, Addr: srv.C2STLS}},
		{"SCRAM-SHA-1", client.Options{Encoding: client.XML, Mechanism: "SCRAM-SHA-1", Addr: srv.C2S}},
		{"PLAIN", client.Options{Encoding: client.XML, Mechanism: "PLAIN", Addr: srv.C2S}},
		{"binary", client.Options{Addr: srv.Native}},
		{"binary SCRAM-SHA-1", client.Options{Mechanism: "SCRAM-SHA-1", Addr: srv.Native}},
	} {
		o := tr.o
		o.JID, o.Password, o.TLS = "alice@localhost/"+tr.name, "pw-alice", insecure
		c, err := client.Dial(ctx, o)
		if err != nil {
			t.Fatalf("%s: %v", tr.name, err)
		}
		_ = c.Close()
	}
}

// TestOfflineMessagesReadAndClosedAtOnceComeNoMore: the client promises
// the server an ack before it closes its stream (<acks-before-close/>), so
// the server asks it for acks only about a second after a delivery. A
// device that gets its offline messages and closes at once must still
// have acknowledged them: at its next login nothing comes again (with
// both encodings, and with a SASL2 login).
func TestOfflineMessagesReadAndClosedAtOnceComeNoMore(t *testing.T) {
	for _, tc := range []struct {
		name  string
		tweak func(*servertest.Server) func(*client.Options)
	}{
		{"xml", func(*servertest.Server) func(*client.Options) { return xml }},
		{"binary", binary},
		{"binary sasl2", func(srv *servertest.Server) func(*client.Options) {
			return func(o *client.Options) { binary(srv)(o); o.SASL2 = true }
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := servertest.Start(t, nil)
			srv.AddUser(t, "alice@localhost", "pw-alice")
			srv.AddUser(t, "bob@localhost", "pw-bob")
			alice := dial(t, srv, "alice@localhost/phone", "pw-alice", tc.tweak(srv))
			bodies := []string{"one", "two", "three"}
			for _, body := range bodies {
				id, err := alice.SendMessage("bob@localhost", body)
				if err != nil {
					t.Fatal(err)
				}
				next(t, alice, func(s *client.Sent) bool { return s.ID == id })
			}
			bob := dial(t, srv, "bob@localhost/phone", "pw-bob", tc.tweak(srv))
			if err := bob.SetPresence("", ""); err != nil {
				t.Fatal(err)
			}
			for range bodies {
				next(t, bob, func(*client.Message) bool { return true })
			}
			_ = bob.Close()

			again := dial(t, srv, "bob@localhost/phone", "pw-bob", tc.tweak(srv))
			if err := again.SetPresence("", ""); err != nil {
				t.Fatal(err)
			}
			quiet := time.After(2 * time.Second)
			for {
				select {
				case e := <-again.Events():
					if m, ok := e.(*client.Message); ok {
						t.Fatalf("bob got %q again at his next login", m.Body)
					}
				case <-quiet:
					return
				}
			}
		})
	}
}
