package c2s

import (
	"log/slog"
	"net"
	"testing"

	"github.com/parley-im/parley/internal/auth"
	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/stanza"
)

// TestStreamFeaturesAreBuiltOncePerState: the <features/> a connection is
// offered depend only on its state, so connections in the same state share
// one element, built at the first of them (a login built them twice, 65 of
// its allocations), and connections in other states get their own.
func TestStreamFeaturesAreBuiltOncePerState(t *testing.T) {
	srv := NewServer(Config{Domain: "localhost", AllowPlaintextAuth: true, Auth: &auth.Authenticator{},
		Log: slog.New(slog.DiscardHandler)})
	if srv.parker != nil {
		t.Cleanup(srv.parker.close)
	}
	open := func(kind Kind) *conn {
		server, client := net.Pipe()
		t.Cleanup(func() { server.Close(); client.Close() })
		return newConn(srv, server, kind)
	}
	a, b, ws := open(XMLStream), open(XMLStream), open(WebSocket)

	first := a.features()
	if mechs := first.Child(stanza.NSSASL, "mechanisms"); mechs == nil || len(mechs.Children) == 0 {
		t.Fatalf("features before authentication offer no SASL mechanisms: %+v", first)
	}
	if first.Child(stanza.NSSASL2, "authentication") == nil {
		t.Error("an XML stream is not offered SASL2")
	}
	if b.features() != first {
		t.Error("two connections in the same state got two <features/> elements")
	}
	if allocs := testing.AllocsPerRun(100, func() { b.features() }); allocs > 1 { // the mechanisms' list
		t.Errorf("features of a known state allocated %v times, want at most 1", allocs)
	}

	wsFeatures := ws.features()
	if wsFeatures == first || wsFeatures.Child(stanza.NSSASL2, "authentication") != nil {
		t.Errorf("a WebSocket connection got an XML stream's features: %+v", wsFeatures)
	}

	b.user = jid.MustParse("alice@localhost")
	bound := b.features()
	if bound == first || bound.Child(stanza.NSBind, "bind") == nil || bound.Child(stanza.NSSASL, "mechanisms") != nil {
		t.Errorf("features after authentication: %+v", bound)
	}
	if a.features() != first {
		t.Error("another connection's authentication changed the features of those that are not")
	}
}
