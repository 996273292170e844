package auth

import (
	"context"
	"strings"
	"testing"
)

func plainMsg(authz, authc, password string) []byte {
	return []byte(authz + "\x00" + authc + "\x00" + password)
}

func TestPLAIN(t *testing.T) {
	a, _ := newTestAuth(t)
	ctx := context.Background()
	for _, msg := range [][]byte{
		plainMsg("", "alice", alicePassword),
		plainMsg("", "Alice", alicePassword),
		plainMsg("", "alice@example.org", alicePassword),
		plainMsg("alice@example.org", "alice", alicePassword),
	} {
		n, ch, err := a.Start(ctx, plainConfig(), MechPlain, msg)
		if err != nil {
			t.Fatalf("%q: %v", msg, err)
		}
		if ch != nil || !n.Done() || n.User() != "alice@example.org" || n.SuccessData() != nil {
			t.Fatalf("%q: challenge %q done %v user %q", msg, ch, n.Done(), n.User())
		}
	}

	// Without an initial response: empty challenge, then the response.
	n, ch, err := a.Start(ctx, plainConfig(), MechPlain, nil)
	if err != nil || ch == nil || len(ch) != 0 || n.Done() {
		t.Fatalf("Start(nil): %q %v", ch, err)
	}
	if _, err := n.Step(ctx, plainMsg("", "bob", "hunter2")); err != nil || n.User() != "bob@example.org" {
		t.Fatalf("bob: %v %q", err, n.User())
	}

	_, _, wrong := a.Start(ctx, plainConfig(), MechPlain, plainMsg("", "alice", "hunter2"))
	_, _, unknown := a.Start(ctx, plainConfig(), MechPlain, plainMsg("", "mallory", alicePassword))
	_, _, otherDomain := a.Start(ctx, plainConfig(), MechPlain, plainMsg("", "alice@evil.example", alicePassword))
	_, _, badPrep := a.Start(ctx, plainConfig(), MechPlain, plainMsg("", "alice", "\u0007bell"))
	fw := wantFailure(t, wrong, CondNotAuthorized)
	for _, err := range []error{unknown, otherDomain, badPrep} {
		if f := wantFailure(t, err, CondNotAuthorized); *f != *fw {
			t.Errorf("failure %#v differs from wrong password %#v", f, fw)
		}
	}
	for _, err := range []error{wrong, unknown, badPrep} {
		if strings.Contains(err.Error(), alicePassword) || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("error %q shows the password", err)
		}
	}

	_, _, err = a.Start(ctx, plainConfig(), MechPlain, plainMsg("bob@example.org", "alice", alicePassword))
	wantFailure(t, err, CondInvalidAuthzid)
}

// The password is PRECIS OpaqueString-prepared on both sides: NFC and
// non-ASCII spaces map to one stored form.
func TestPLAINPasswordPreparation(t *testing.T) {
	st := &memStore{}
	st.add(t, "carol@example.org", "caf\u00e9\u00a0latte", 0) // é composed, no-break space
	a := NewAuthenticator(st)
	n, _, err := a.Start(context.Background(), plainConfig(), MechPlain, plainMsg("", "carol", "cafe\u0301 latte"))
	if err != nil || !n.Done() {
		t.Fatalf("prepared password does not match: %v", err)
	}
}

func TestPLAINMalformed(t *testing.T) {
	a, _ := newTestAuth(t)
	ctx := context.Background()
	for _, msg := range []string{
		"alice", "\x00alice", "\x00alice\x00", "\x00\x00pw", "a\x00b\x00c\x00d", "\x00al\xffice\x00pw",
		"\x00alice\x00" + strings.Repeat("p", maxMessage),
	} {
		_, _, err := a.Start(ctx, plainConfig(), MechPlain, []byte(msg))
		wantFailure(t, err, CondMalformedRequest)
	}
	n, _, _ := a.Start(ctx, plainConfig(), MechPlain, plainMsg("", "alice", alicePassword))
	_, err := n.Step(ctx, plainMsg("", "alice", alicePassword))
	wantFailure(t, err, CondMalformedRequest) // the exchange is over
}
