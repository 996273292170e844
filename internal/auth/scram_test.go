package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"math/big"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/xdg-go/scram"

	"github.com/parley-im/parley/internal/store"
)

var scramMechs = []struct {
	name string
	hash scram.HashGeneratorFcn
	plus bool
}{
	{MechSCRAMSHA256Plus, scram.SHA256, true},
	{MechSCRAMSHA1Plus, scram.SHA1, true},
	{MechSCRAMSHA256, scram.SHA256, false},
	{MechSCRAMSHA1, scram.SHA1, false},
}

func TestMechanisms(t *testing.T) {
	a, _ := newTestAuth(t)
	cb := []byte("0123456789abcdef0123456789abcdef")
	tests := []struct {
		name string
		cfg  Config
		want []string
	}{
		{"tls13+plain", cbConfig(cb), []string{MechSCRAMSHA256Plus, MechSCRAMSHA1Plus, MechSCRAMSHA256, MechSCRAMSHA1, MechPlain}},
		{"no binding", plainConfig(), []string{MechSCRAMSHA256, MechSCRAMSHA1, MechPlain}},
		{"no plain", Config{Domain: testDomain}, []string{MechSCRAMSHA256, MechSCRAMSHA1}},
		{"binding not ok", Config{Domain: testDomain, ChannelBinding: func() ([]byte, bool) { return nil, false }}, []string{MechSCRAMSHA256, MechSCRAMSHA1}},
	}
	for _, tt := range tests {
		if got := a.Mechanisms(tt.cfg); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: Mechanisms = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// alice logs in with each SCRAM mechanism; a wrong password and an
// unknown user get the same failure.
func TestSCRAMWithLibraryClient(t *testing.T) {
	a, _ := newTestAuth(t)
	cbData := []byte("tls-exporter keying material 32b")
	for _, m := range scramMechs {
		t.Run(m.name, func(t *testing.T) {
			cfg := plainConfig()
			if m.plus {
				cfg = cbConfig(cbData)
			}
			login := func(user, password string) (*Negotiation, error) {
				c := scramClient(t, m.hash, user, password, "")
				conv := c.NewConversation()
				if m.plus {
					conv = c.NewConversationWithChannelBinding(scram.ChannelBinding{Type: scram.ChannelBindingTLSExporter, Data: cbData})
				}
				return scramLogin(t, a, cfg, m.name, conv)
			}
			n, err := login("alice", alicePassword)
			if err != nil {
				t.Fatalf("alice with the right password: %v", err)
			}
			if n.User() != "alice@example.org" {
				t.Errorf("User = %q", n.User())
			}
			if !strings.HasPrefix(string(n.SuccessData()), "v=") {
				t.Errorf("SuccessData = %q", n.SuccessData())
			}
			_, wrong := login("alice", "correct horse battery stapler")
			_, unknown := login("mallory", alicePassword)
			fw := wantFailure(t, wrong, CondNotAuthorized)
			fu := wantFailure(t, unknown, CondNotAuthorized)
			if *fw != *fu {
				t.Errorf("wrong password %#v and unknown user %#v fail differently", fw, fu)
			}
		})
	}
}

func TestSCRAMUsernameForms(t *testing.T) {
	a, _ := newTestAuth(t)
	for _, user := range []string{"alice", "ALICE", "Alice", "alice@example.org", "alice@EXAMPLE.org", "alice@example.org."} {
		conv := scramClient(t, scram.SHA256, user, alicePassword, "").NewConversation()
		n, err := scramLogin(t, a, plainConfig(), MechSCRAMSHA256, conv)
		if err != nil {
			t.Errorf("username %q: %v", user, err)
			continue
		}
		if n.User() != "alice@example.org" {
			t.Errorf("username %q: User = %q", user, n.User())
		}
	}
	for _, user := range []string{"alice@other.org", "alice@example.org/phone", "@example.org", "al ice", "alice@"} {
		conv := scramClient(t, scram.SHA256, user, alicePassword, "").NewConversation()
		_, err := scramLogin(t, a, plainConfig(), MechSCRAMSHA256, conv)
		wantFailure(t, err, CondNotAuthorized)
	}
}

func TestSCRAMAuthzid(t *testing.T) {
	a, _ := newTestAuth(t)
	for _, authz := range []string{"alice@example.org", "Alice@Example.org"} {
		conv := scramClient(t, scram.SHA256, "alice", alicePassword, authz).NewConversation()
		if _, err := scramLogin(t, a, plainConfig(), MechSCRAMSHA256, conv); err != nil {
			t.Errorf("authzid %q: %v", authz, err)
		}
	}
	for _, authz := range []string{"bob@example.org", "alice@other.org", "alice", "alice@example.org/res"} {
		c := scramClient(t, scram.SHA256, "alice", alicePassword, authz)
		first, _ := c.NewConversation().Step("")
		_, _, err := a.Start(context.Background(), plainConfig(), MechSCRAMSHA256, []byte(first))
		wantFailure(t, err, CondInvalidAuthzid)
	}
}

// newFixedAuth returns an Authenticator whose server nonce is fixed, with
// user "user" / "pencil" stored under the given salt (RFC test vectors).
func newFixedAuth(t testing.TB, serverNonce string, h Hash, salt string) *Authenticator {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(salt)
	if err != nil {
		t.Fatal(err)
	}
	acct := store.Account{JID: "user@" + testDomain}
	keys := DeriveKeys("pencil", h, raw, 4096)
	if h == SHA1 {
		acct.SHA1 = keys
	} else {
		acct.SHA256 = keys
	}
	a := NewAuthenticator(&memStore{accts: map[string]store.Account{acct.JID: acct}})
	a.nonce = func() string { return serverNonce }
	return a
}

func TestRFCVectors(t *testing.T) {
	tests := []struct {
		name                     string
		mech                     string
		hash                     Hash
		salt, serverNonce        string
		clientFirst, serverFirst string
		clientFinal, serverFinal string
	}{
		{
			name: "RFC 7677 section 3", mech: MechSCRAMSHA256, hash: SHA256,
			salt: "W22ZaJ0SNY7soEsUEjb6gQ==", serverNonce: "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
			clientFirst: "n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
			serverFirst: "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
			clientFinal: "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
			serverFinal: "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
		},
		{
			name: "RFC 5802 section 5", mech: MechSCRAMSHA1, hash: SHA1,
			salt: "QSXCR+Q6sek8bf92", serverNonce: "3rfcNHYJY1ZVvWVs7j",
			clientFirst: "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL",
			serverFirst: "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
			clientFinal: "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
			serverFinal: "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=",
		},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newFixedAuth(t, tt.serverNonce, tt.hash, tt.salt)
			// The client sends client-first as the initial response ...
			n, sf, err := a.Start(ctx, plainConfig(), tt.mech, []byte(tt.clientFirst))
			if err != nil {
				t.Fatal(err)
			}
			if string(sf) != tt.serverFirst {
				t.Fatalf("server-first\n got %s\nwant %s", sf, tt.serverFirst)
			}
			if ch, err := n.Step(ctx, []byte(tt.clientFinal)); err != nil || ch != nil {
				t.Fatalf("client-final: challenge %q, err %v", ch, err)
			}
			if !n.Done() || string(n.SuccessData()) != tt.serverFinal || n.User() != "user@example.org" {
				t.Fatalf("done %v, server-final %q, user %q", n.Done(), n.SuccessData(), n.User())
			}

			// ... or after an empty challenge.
			n, ch, err := a.Start(ctx, plainConfig(), tt.mech, nil)
			if err != nil || len(ch) != 0 || n.Done() {
				t.Fatalf("Start without initial response: %q, %v", ch, err)
			}
			if sf, err := n.Step(ctx, []byte(tt.clientFirst)); err != nil || string(sf) != tt.serverFirst {
				t.Fatalf("server-first %q, %v", sf, err)
			}
			if _, err := n.Step(ctx, []byte(tt.clientFinal)); err != nil || string(n.SuccessData()) != tt.serverFinal {
				t.Fatalf("server-final %q, %v", n.SuccessData(), err)
			}

			// One flipped bit in the proof.
			n, _, _ = a.Start(ctx, plainConfig(), tt.mech, []byte(tt.clientFirst))
			bad := []byte(tt.clientFinal)
			bad[len(bad)-3] ^= 1
			if _, err := n.Step(ctx, bad); err == nil {
				t.Fatal("tampered proof accepted")
			}
			if n.Done() || n.User() != "" {
				t.Fatal("failed exchange reports a user")
			}
			// And a step after the failure.
			_, err = n.Step(ctx, []byte(tt.clientFinal))
			wantFailure(t, err, CondMalformedRequest)
		})
	}
}

// A client that saw a tampered server-first (other salt or iteration
// count) computes a proof the server rejects.
func TestSCRAMServerFirstTampering(t *testing.T) {
	a := newFixedAuth(t, "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0", SHA256, "W22ZaJ0SNY7soEsUEjb6gQ==")
	ctx := context.Background()
	for _, tamper := range []func(string) string{
		func(s string) string { return strings.Replace(s, "i=4096", "i=4097", 1) },
		func(s string) string { return strings.Replace(s, "s=W22Z", "s=X22Z", 1) },
	} {
		c := scramClient(t, scram.SHA256, "user", "pencil", "").WithNonceGenerator(func() string { return "rOprNGfwEbeRWgbNEkqO" })
		conv := c.NewConversation()
		first, _ := conv.Step("")
		n, sf, err := a.Start(ctx, plainConfig(), MechSCRAMSHA256, []byte(first))
		if err != nil {
			t.Fatal(err)
		}
		final, err := conv.Step(tamper(string(sf)))
		if err != nil {
			t.Fatal(err)
		}
		_, err = n.Step(ctx, []byte(final))
		wantFailure(t, err, CondNotAuthorized)
	}
}

// tlsPair returns both ends of a TLS 1.3 connection over net.Pipe.
func tlsPair(t *testing.T) (server, client tls.ConnectionState) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: testDomain},
		DNSNames: []string{testDomain}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert := tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	c1, c2 := net.Pipe()
	t.Cleanup(func() { c1.Close(); c2.Close() })
	srv := tls.Server(c1, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13})
	cli := tls.Client(c2, &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS13}) //nolint:gosec // test pair
	errc := make(chan error, 1)
	go func() { errc <- srv.Handshake() }()
	if err := cli.Handshake(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	return srv.ConnectionState(), cli.ConnectionState()
}

// SCRAM-SHA-256-PLUS over a real TLS 1.3 connection: both ends export the
// same keying material; a client bound to another connection fails.
func TestSCRAMPlusRealTLS(t *testing.T) {
	a, _ := newTestAuth(t)
	srvState, cliState := tlsPair(t)
	cfg := plainConfig()
	cfg.ChannelBinding = func() ([]byte, bool) {
		b, err := srvState.ExportKeyingMaterial("EXPORTER-Channel-Binding", nil, 32)
		return b, err == nil
	}
	cb, err := scram.NewTLSExporterBinding(&cliState)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range scramMechs[:2] {
		conv := scramClient(t, m.hash, "alice", alicePassword, "").NewConversationWithChannelBinding(cb)
		if _, err := scramLogin(t, a, cfg, m.name, conv); err != nil {
			t.Errorf("%s: %v", m.name, err)
		}
	}
	// A man in the middle terminates TLS: the client's binding is another
	// connection's.
	_, otherCli := tlsPair(t)
	otherCB, _ := scram.NewTLSExporterBinding(&otherCli)
	conv := scramClient(t, scram.SHA256, "alice", alicePassword, "").NewConversationWithChannelBinding(otherCB)
	_, err = scramLogin(t, a, cfg, MechSCRAMSHA256Plus, conv)
	if f := wantFailure(t, err, CondNotAuthorized); !strings.Contains(f.Text, "binding") {
		t.Errorf("text %q", f.Text)
	}
}

func TestSCRAMClientThatCannotBindOurTypeSaysY(t *testing.T) {
	a, _ := newTestAuth(t)
	// A client that supports only tls-unique (undefined on TLS 1.3) says
	// "y" although we offered -PLUS: accepted, or it could never log in.
	conv := scramClient(t, scram.SHA256, "alice", alicePassword, "").NewConversationAdvertisingChannelBinding()
	if _, err := scramLogin(t, a, cbConfig([]byte("binding-data-binding-data-012345")), MechSCRAMSHA256, conv); err != nil {
		t.Errorf("y with -PLUS offered: %v", err)
	}
	// ... and its wrong password is still refused.
	conv = scramClient(t, scram.SHA256, "alice", "wrong", "").NewConversationAdvertisingChannelBinding()
	_, err := scramLogin(t, a, cbConfig([]byte("binding-data-binding-data-012345")), MechSCRAMSHA256, conv)
	wantFailure(t, err, CondNotAuthorized)
	// Without TLS 1.3 we offered no -PLUS: "y" is right.
	conv = scramClient(t, scram.SHA256, "alice", alicePassword, "").NewConversationAdvertisingChannelBinding()
	if _, err := scramLogin(t, a, plainConfig(), MechSCRAMSHA256, conv); err != nil {
		t.Errorf("y without -PLUS offered: %v", err)
	}
	// "n" on a TLS 1.3 connection is fine: the client does not support binding.
	conv = scramClient(t, scram.SHA256, "alice", alicePassword, "").NewConversation()
	if _, err := scramLogin(t, a, cbConfig([]byte("binding-data-binding-data-012345")), MechSCRAMSHA256, conv); err != nil {
		t.Errorf("n with -PLUS offered: %v", err)
	}
}

func TestSCRAMChannelBindingRules(t *testing.T) {
	a, _ := newTestAuth(t)
	ctx := context.Background()
	cb := cbConfig([]byte("binding-data-binding-data-012345"))
	tests := []struct {
		name, mech, first string
		cfg               Config
		cond              string
	}{
		{"PLUS with n", MechSCRAMSHA256Plus, "n,,n=alice,r=abc", cb, CondMalformedRequest},
		{"PLUS with y", MechSCRAMSHA1Plus, "y,,n=alice,r=abc", cb, CondMalformedRequest},
		{"PLUS with tls-unique", MechSCRAMSHA256Plus, "p=tls-unique,,n=alice,r=abc", cb, CondMalformedRequest},
		{"PLUS with tls-server-end-point", MechSCRAMSHA256Plus, "p=tls-server-end-point,,n=alice,r=abc", cb, CondMalformedRequest},
		{"PLUS with unknown type", MechSCRAMSHA256Plus, "p=foo,,n=alice,r=abc", cb, CondMalformedRequest},
		{"PLUS with bad type name", MechSCRAMSHA256Plus, "p=t ls,,n=alice,r=abc", cb, CondMalformedRequest},
		{"p with non-PLUS", MechSCRAMSHA256, "p=tls-exporter,,n=alice,r=abc", cb, CondMalformedRequest},
		{"PLUS not offered", MechSCRAMSHA256Plus, "p=tls-exporter,,n=alice,r=abc", plainConfig(), CondInvalidMechanism},
		{"unknown mechanism", "DIGEST-MD5", "n,,n=alice,r=abc", cb, CondInvalidMechanism},
		{"lower-case name", "scram-sha-256", "n,,n=alice,r=abc", cb, CondInvalidMechanism},
		{"PLAIN not offered", MechPlain, "\x00alice\x00x", Config{Domain: testDomain}, CondEncryptionRequired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, ch, err := a.Start(ctx, tt.cfg, tt.mech, []byte(tt.first))
			wantFailure(t, err, tt.cond)
			if n != nil || ch != nil {
				t.Error("failure returns a negotiation or challenge")
			}
		})
	}
	// c= must repeat the gs2 header (and the binding data for -PLUS).
	a.nonce = func() string { return "SERVER" }
	n, _, err := a.Start(ctx, cb, MechSCRAMSHA256, []byte("n,,n=alice,r=abc"))
	if err != nil {
		t.Fatal(err)
	}
	proof := base64.StdEncoding.EncodeToString(make([]byte, 32))
	_, err = n.Step(ctx, []byte("c="+base64.StdEncoding.EncodeToString([]byte("y,,"))+",r=abcSERVER,p="+proof))
	wantFailure(t, err, CondMalformedRequest)
}

// Garbage never panics and gets malformed-request (or invalid-authzid for
// an authzid that is well-formed but not the user's).
func TestSCRAMMalformed(t *testing.T) {
	a, _ := newTestAuth(t)
	a.nonce = func() string { return "SERVER" }
	ctx := context.Background()
	huge := "n,,n=alice,r=" + strings.Repeat("x", maxMessage)
	firsts := []string{
		"", // as a Step after an empty challenge
		"n", "n,", "x,,n=alice,r=abc", "N,,n=alice,r=abc", "p,,n=alice,r=abc", "p=,,n=alice,r=abc",
		"n,b=alice,n=alice,r=abc", "n,a=,n=alice,r=abc", "n,a=al=ice,n=alice,r=abc",
		"n,,", "n,,n=alice", "n,,r=abc,n=alice", "n,,m=ext,n=alice,r=abc", "n,,n=,r=abc", "n,,n=al=ZZice,r=abc",
		"n,,n=alice,r=", "n,,n=alice,r=a b", "n,,n=alice,r=\x7f", "n,,n=alice,x=abc", "n,,n=alice,r=abc,1=x", "n,,n=alice,r=abc,,",
		"n,,n=\xff\xfe,r=abc", huge,
	}
	for _, first := range firsts {
		n, _, err := a.Start(ctx, plainConfig(), MechSCRAMSHA256, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = n.Step(ctx, []byte(first))
		wantFailure(t, err, CondMalformedRequest)
		if first != "" {
			_, _, err = a.Start(ctx, plainConfig(), MechSCRAMSHA256, []byte(first))
			wantFailure(t, err, CondMalformedRequest)
		}
	}

	gs2 := base64.StdEncoding.EncodeToString([]byte("n,,"))
	proof := base64.StdEncoding.EncodeToString(make([]byte, 32))
	finals := []string{
		"", "c=biws", "c=biws,r=abcSERVER", "r=abcSERVER,c=biws,p=" + proof,
		"c=biws,r=abcSERVE,p=" + proof,              // wrong nonce
		"c=biws,r=abcSERVERX,p=" + proof,            // wrong nonce
		"c=biws,r=xyzSERVER,p=" + proof,             // wrong nonce
		"c=" + gs2 + ",r=abcSERVER,p=" + proof[:20], // short proof
		"c=" + gs2 + ",r=abcSERVER,p=!!!!",          // bad base64
		"c=!!!,r=abcSERVER,p=" + proof,
		"c=" + gs2 + ",r=abcSERVER,s=QSXCR+Q6sek8bf92,i=1",   // server-first attributes instead of a proof
		"c=" + gs2 + ",s=QSXCR+Q6sek8bf92,i=4096,p=" + proof, // and instead of the nonce
		"c=" + gs2 + ",r=abcSERVER,,p=" + proof,
		"c=" + gs2 + ",r=abcSERVER,p=" + proof + "," + strings.Repeat("x=y,", maxMessage/4),
		"c=" + base64.StdEncoding.EncodeToString([]byte("n,a=alice@example.org,")) + ",r=abcSERVER,p=" + proof, // c= not our gs2 header
	}
	for _, final := range finals {
		n, _, err := a.Start(ctx, plainConfig(), MechSCRAMSHA256, []byte("n,,n=alice,r=abc"))
		if err != nil {
			t.Fatal(err)
		}
		_, err = n.Step(ctx, []byte(final))
		wantFailure(t, err, CondMalformedRequest)
	}
	// Extensions are ignored, so a well-formed final with a wrong proof is
	// just not authorized.
	n, _, _ := a.Start(ctx, plainConfig(), MechSCRAMSHA256, []byte("n,,n=alice,r=abc,x=ext"))
	_, err := n.Step(ctx, []byte("c="+gs2+",r=abcSERVER,y=ext,p="+proof))
	wantFailure(t, err, CondNotAuthorized)
}

// An unknown user sees the same shape of server-first as a real one, with
// a salt that is stable per name and differs between names and servers.
func TestSCRAMUnknownUserShape(t *testing.T) {
	a, _ := newTestAuth(t)
	ctx := context.Background()
	serverFirst := func(a *Authenticator, user string) (salt, iter string) {
		_, sf, err := a.Start(ctx, plainConfig(), MechSCRAMSHA256, []byte("n,,n="+user+",r=abc"))
		if err != nil {
			t.Fatal(err)
		}
		f := strings.Split(string(sf), ",")
		if len(f) != 3 {
			t.Fatalf("server-first %q", sf)
		}
		raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(f[1], "s="))
		if err != nil || len(raw) != saltLen {
			t.Fatalf("salt %q: %v", f[1], err)
		}
		return f[1], f[2]
	}
	realSalt, realIter := serverFirst(a, "alice")
	s1, i1 := serverFirst(a, "mallory")
	s2, _ := serverFirst(a, "Mallory")
	s3, _ := serverFirst(a, "trent")
	other, _ := newTestAuth(t)
	s4, _ := serverFirst(other, "mallory")
	if i1 != realIter || realIter != "i=4096" {
		t.Errorf("iterations: unknown %s, real %s", i1, realIter)
	}
	if s1 != s2 {
		t.Error("the fake salt changes between attempts for the same user")
	}
	if s1 == s3 || s1 == s4 || s1 == realSalt {
		t.Error("fake salts collide")
	}
}

func TestSCRAMStoreError(t *testing.T) {
	a, st := newTestAuth(t)
	boom := errors.New("disk on fire")
	st.err = boom
	_, _, err := a.Start(context.Background(), plainConfig(), MechSCRAMSHA256, []byte("n,,n=alice,r=abc"))
	f := wantFailure(t, err, CondTemporaryAuthFailure)
	if !errors.Is(err, boom) || f.Text != "" {
		t.Errorf("failure %#v does not wrap the store error or shows it", f)
	}
}

// An account without keys for SHA-1 behaves like an unknown user.
func TestSCRAMMissingKeys(t *testing.T) {
	a, st := newTestAuth(t)
	acct := st.accts["alice@example.org"]
	acct.SHA1 = store.SCRAMKeys{}
	st.accts["alice@example.org"] = acct
	conv := scramClient(t, scram.SHA1, "alice", alicePassword, "").NewConversation()
	_, err := scramLogin(t, a, plainConfig(), MechSCRAMSHA1, conv)
	wantFailure(t, err, CondNotAuthorized)
	conv = scramClient(t, scram.SHA256, "alice", alicePassword, "").NewConversation()
	if _, err := scramLogin(t, a, plainConfig(), MechSCRAMSHA256, conv); err != nil {
		t.Error(err)
	}
}

func TestSCRAMNoStore(t *testing.T) {
	a := NewAuthenticator(nil)
	_, _, err := a.Start(context.Background(), plainConfig(), MechSCRAMSHA256, []byte("n,,n=alice,r=abc"))
	wantFailure(t, err, CondTemporaryAuthFailure)
	// Config.Store overrides.
	_, st := newTestAuth(t)
	cfg := plainConfig()
	cfg.Store = st
	conv := scramClient(t, scram.SHA256, "alice", alicePassword, "").NewConversation()
	if _, err := scramLogin(t, a, cfg, MechSCRAMSHA256, conv); err != nil {
		t.Error(err)
	}
}
