package client_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/parley-im/parley/client"
	"github.com/parley-im/parley/internal/config"
	"github.com/parley-im/parley/internal/servertest"
)

const offerSDP = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"

// callEv waits for c's next call event of kind for call id.
func callEv(t *testing.T, c *client.Client, kind, id string) *client.CallEvent {
	t.Helper()
	return next(t, c, func(e *client.CallEvent) bool { return e.Kind == kind && (id == "" || e.ID == id) })
}

func available(t *testing.T, cs ...*client.Client) {
	t.Helper()
	for _, c := range cs {
		if err := c.SetPresence("", ""); err != nil {
			t.Fatal(err)
		}
	}
}

func ctx10(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func iqCondition(err error) string {
	var e *client.IQError
	if errors.As(err, &e) {
		return e.Condition
	}
	return ""
}

// TestCallRingsEverywhereOneDeviceAnswers: alice calls bob, who has a
// phone (binary) and a laptop (XMPP XML); both ring; the laptop says so;
// the phone answers: alice gets the answer, the laptop stops ringing;
// candidates pass both ways between alice and the phone only; the laptop
// can no longer answer; alice hangs up and the phone is told.
func TestCallRingsEverywhereOneDeviceAnswers(t *testing.T) {
	srv := servertest.Start(t, nil)
	srv.AddUser(t, "alice@localhost", "pw-alice")
	srv.AddUser(t, "bob@localhost", "pw-bob")
	alice := dial(t, srv, "alice@localhost/phone", "pw-alice", binary(srv))
	phone := dial(t, srv, "bob@localhost/phone", "pw-bob", binary(srv))
	laptop := dial(t, srv, "bob@localhost/laptop", "pw-bob", xml)
	available(t, alice, phone, laptop)
	ctx := ctx10(t)

	id, err := alice.StartCall(ctx, "bob@localhost", client.Audio, offerSDP)
	if err != nil {
		t.Fatal(err)
	}
	for _, dev := range []*client.Client{phone, laptop} {
		o := callEv(t, dev, "offer", id)
		if o.From != "alice@localhost/phone" || o.SDP != offerSDP || o.Media != "audio" {
			t.Fatalf("%s got offer %+v", dev.JID(), o)
		}
	}
	if err := laptop.CallRinging(ctx, id); err != nil {
		t.Fatal(err)
	}
	if r := callEv(t, alice, "ringing", id); r.From != "bob@localhost/laptop" {
		t.Fatalf("ringing %+v", r)
	}
	if err := phone.AcceptCall(ctx, id, "v=0 answer"); err != nil {
		t.Fatal(err)
	}
	if a := callEv(t, alice, "accept", id); a.SDP != "v=0 answer" || a.Device != "bob@localhost/phone" {
		t.Fatalf("accept %+v", a)
	}
	if s := callEv(t, laptop, "terminate", id); s.Reason != "answered-elsewhere" {
		t.Fatalf("laptop: %+v", s)
	}
	if err := laptop.AcceptCall(ctx, id, "late"); iqCondition(err) != "conflict" {
		t.Fatalf("the laptop answered too: %v", err)
	}
	if err := alice.SendCandidate(ctx, id, "candidate:1 1 udp 1 127.0.0.1 5000 typ relay"); err != nil {
		t.Fatal(err)
	}
	if c := callEv(t, phone, "candidate", id); c.Candidate != "candidate:1 1 udp 1 127.0.0.1 5000 typ relay" || c.From != "alice@localhost/phone" {
		t.Fatalf("phone got %+v", c)
	}
	if err := phone.SendCandidate(ctx, id, "candidate:2"); err != nil {
		t.Fatal(err)
	}
	if c := callEv(t, alice, "candidate", id); c.Candidate != "candidate:2" {
		t.Fatalf("alice got %+v", c)
	}
	if err := laptop.SendCandidate(ctx, id, "candidate:3"); iqCondition(err) != "item-not-found" {
		t.Fatalf("the laptop sent a candidate into the call: %v", err)
	}
	if err := alice.HangUp(ctx, id); err != nil {
		t.Fatal(err)
	}
	if e := callEv(t, phone, "terminate", id); e.Reason != "hangup" {
		t.Fatalf("phone: %+v", e)
	}
	if err := alice.HangUp(ctx, id); iqCondition(err) != "item-not-found" {
		t.Fatalf("hanging up twice: %v", err)
	}
}

// TestCallBusyAndDecline: while alice and bob talk, carol's call to bob
// is busy; once they hang up, bob declines carol's call on his phone:
// carol is told, his laptop stops ringing.
func TestCallBusyAndDecline(t *testing.T) {
	srv := servertest.Start(t, nil)
	for _, u := range []string{"alice", "bob", "carol"} {
		srv.AddUser(t, u+"@localhost", "pw-"+u)
	}
	alice := dial(t, srv, "alice@localhost/phone", "pw-alice", binary(srv))
	phone := dial(t, srv, "bob@localhost/phone", "pw-bob", binary(srv))
	laptop := dial(t, srv, "bob@localhost/laptop", "pw-bob", binary(srv))
	carol := dial(t, srv, "carol@localhost/phone", "pw-carol", binary(srv))
	available(t, alice, phone, laptop, carol)
	ctx := ctx10(t)

	id, err := alice.StartCall(ctx, "bob@localhost", client.Video, offerSDP)
	if err != nil {
		t.Fatal(err)
	}
	callEv(t, phone, "offer", id)
	if err := phone.AcceptCall(ctx, id, "answer"); err != nil {
		t.Fatal(err)
	}
	if _, err := carol.StartCall(ctx, "bob@localhost", client.Audio, offerSDP); !errors.Is(err, client.ErrCallBusy) {
		t.Fatalf("calling bob in a call: %v, want busy", err)
	}
	if _, err := carol.StartCall(ctx, "alice@localhost", client.Audio, offerSDP); !errors.Is(err, client.ErrCallBusy) {
		t.Fatalf("calling alice in a call: %v, want busy", err)
	}
	if err := phone.HangUp(ctx, id); err != nil {
		t.Fatal(err)
	}
	if e := callEv(t, alice, "terminate", id); e.Reason != "hangup" || e.From != "bob@localhost/phone" {
		t.Fatalf("alice: %+v", e)
	}

	id2, err := carol.StartCall(ctx, "bob@localhost", client.Audio, offerSDP)
	if err != nil {
		t.Fatal(err)
	}
	callEv(t, phone, "offer", id2)
	callEv(t, laptop, "offer", id2)
	if err := phone.RejectCall(ctx, id2, "decline"); err != nil {
		t.Fatal(err)
	}
	if r := callEv(t, carol, "reject", id2); r.Reason != "decline" || r.From != "bob@localhost/phone" {
		t.Fatalf("carol: %+v", r)
	}
	if e := callEv(t, laptop, "terminate", id2); e.Reason != "rejected-elsewhere" {
		t.Fatalf("laptop: %+v", e)
	}
	// Both are free again; hanging up a ringing call declines it too.
	id3, err := carol.StartCall(ctx, "bob@localhost", client.Audio, offerSDP)
	if err != nil {
		t.Fatalf("calling bob after the decline: %v", err)
	}
	callEv(t, laptop, "offer", id3)
	if err := laptop.HangUp(ctx, id3); err != nil {
		t.Fatal(err)
	}
	if r := callEv(t, carol, "reject", id3); r.Reason != "decline" || r.From != "bob@localhost/laptop" {
		t.Fatalf("carol: %+v", r)
	}
	if e := callEv(t, phone, "terminate", id3); e.Reason != "rejected-elsewhere" {
		t.Fatalf("phone: %+v", e)
	}
}

// TestMissedCallEntryDeliveredAtNextLogin: bob is offline; alice's call
// rings out (the ring timeout is short here) and she is told; at his next
// login bob finds the missed call in the chat, stored like a message.
// A call alice cancels while bob's phone rings is a missed call too.
func TestMissedCallEntryDeliveredAtNextLogin(t *testing.T) {
	srv := servertest.Start(t, func(c *config.Config) { c.CallRingTimeout = 300 * time.Millisecond })
	srv.AddUser(t, "alice@localhost", "pw-alice")
	srv.AddUser(t, "bob@localhost", "pw-bob")
	alice := dial(t, srv, "alice@localhost/phone", "pw-alice", binary(srv))
	available(t, alice)
	ctx := ctx10(t)
	id, err := alice.StartCall(ctx, "bob@localhost", client.Video, offerSDP)
	if err != nil {
		t.Fatal(err)
	}
	if e := callEv(t, alice, "terminate", id); e.Reason != "timeout" {
		t.Fatalf("alice: %+v", e)
	}

	phone := dial(t, srv, "bob@localhost/phone", "pw-bob", binary(srv))
	available(t, phone)
	m := next(t, phone, func(m *client.Message) bool { return m.MissedCall != "" })
	if m.MissedCall != id || m.Body != "Missed video call" || m.From != "alice@localhost/phone" || m.Delayed.IsZero() || m.StanzaID == "" {
		t.Fatalf("bob's missed call: %+v", m)
	}

	id2, err := alice.StartCall(ctx, "bob@localhost", client.Audio, offerSDP)
	if err != nil {
		t.Fatal(err)
	}
	callEv(t, phone, "offer", id2)
	if err := alice.HangUp(ctx, id2); err != nil {
		t.Fatal(err)
	}
	if e := callEv(t, phone, "terminate", id2); e.Reason != "cancelled" {
		t.Fatalf("phone: %+v", e)
	}
	if m := next(t, phone, func(m *client.Message) bool { return m.MissedCall != "" }); m.MissedCall != id2 || m.Body != "Missed voice call" {
		t.Fatalf("second missed call %+v", m)
	}
}

// TestCallBadRequests: each bad request gets its stanza error.
func TestCallBadRequests(t *testing.T) {
	srv := servertest.Start(t, nil)
	srv.AddUser(t, "alice@localhost", "pw-alice")
	srv.AddUser(t, "bob@localhost", "pw-bob")
	srv.AddUser(t, "mallory@localhost", "pw-mallory")
	alice := dial(t, srv, "alice@localhost/phone", "pw-alice", binary(srv))
	bob := dial(t, srv, "bob@localhost/phone", "pw-bob", binary(srv))
	mallory := dial(t, srv, "mallory@localhost/phone", "pw-mallory", binary(srv))
	available(t, alice, bob, mallory)
	ctx := ctx10(t)
	for _, tc := range []struct{ to, media, sdp, want string }{
		{"alice@localhost", "audio", offerSDP, "not-allowed"},
		{"nobody@localhost", "audio", offerSDP, "item-not-found"},
		{"bob@elsewhere.example", "audio", offerSDP, "jid-malformed"},
		{"bob@localhost", "hologram", offerSDP, "bad-request"},
		{"bob@localhost", "audio", "", "bad-request"},
	} {
		if _, err := alice.StartCall(ctx, tc.to, tc.media, tc.sdp); iqCondition(err) != tc.want {
			t.Errorf("offer to %s %s: %v, want %s", tc.to, tc.media, err, tc.want)
		}
	}
	id, err := alice.StartCall(ctx, "bob@localhost", client.Audio, offerSDP)
	if err != nil {
		t.Fatal(err)
	}
	callEv(t, bob, "offer", id)
	if err := mallory.AcceptCall(ctx, id, "mine"); iqCondition(err) != "item-not-found" {
		t.Fatalf("mallory accepted: %v", err)
	}
	if err := mallory.HangUp(ctx, id); iqCondition(err) != "item-not-found" {
		t.Fatalf("mallory hung up: %v", err)
	}
	if err := bob.AcceptCall(ctx, "no-such-call", "x"); iqCondition(err) != "item-not-found" {
		t.Fatalf("unknown call: %v", err)
	}
	if _, err := alice.StartCall(ctx, "mallory@localhost", client.Audio, offerSDP); iqCondition(err) != "conflict" {
		t.Fatalf("a second call while one rings: %v", err)
	}
}

// TestCallReachesADeviceThatComesOnline: bob has no device online when
// alice calls; his phone logs in while it rings, gets the offer and
// answers; when alice's device drops, his phone is told she is gone.
func TestCallReachesADeviceThatComesOnline(t *testing.T) {
	srv := servertest.Start(t, func(c *config.Config) { c.CallRingTimeout = 20 * time.Second })
	srv.AddUser(t, "alice@localhost", "pw-alice")
	srv.AddUser(t, "bob@localhost", "pw-bob")
	alice := dial(t, srv, "alice@localhost/phone", "pw-alice", binary(srv))
	available(t, alice)
	ctx := ctx10(t)
	id, err := alice.StartCall(ctx, "bob@localhost", client.Audio, offerSDP)
	if err != nil {
		t.Fatal(err)
	}
	phone := dial(t, srv, "bob@localhost/phone", "pw-bob", binary(srv))
	available(t, phone)
	if o := callEv(t, phone, "offer", id); o.SDP != offerSDP || o.From != "alice@localhost/phone" {
		t.Fatalf("offer %+v", o)
	}
	if err := phone.AcceptCall(ctx, id, "answer"); err != nil {
		t.Fatal(err)
	}
	callEv(t, alice, "accept", id)
	_ = alice.Close()
	if e := callEv(t, phone, "terminate", id); e.Reason != "gone" {
		t.Fatalf("phone: %+v", e)
	}
}
