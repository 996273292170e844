package server

import (
	"context"
	"fmt"
	"testing"

	"github.com/parley-im/parley/internal/auth"
	"github.com/parley-im/parley/internal/config"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/xmpptest"
)

// BenchmarkOfflineDrain times the drain of 500 stored messages into an XMPP
// session over a real socket (STARTTLS): from the device's initial
// presence to the last message read by the client (whose parsing is
// included). The messages are stored and the device logs in outside the
// timer.
//
//	go test ./internal/server -run '^$' -bench BenchmarkOfflineDrain -benchmem
func BenchmarkOfflineDrain(b *testing.B) {
	const n = 500
	ts := startBenchServer(b)
	ctx := context.Background()
	a, err := auth.NewAccount("bob@localhost", "pw-bob", 4096)
	if err != nil {
		b.Fatal(err)
	}
	if err := ts.store.CreateAccount(ctx, a); err != nil {
		b.Fatal(err)
	}
	codec := xmlCodec{}
	payloads := make([][]byte, n)
	for i := range payloads {
		m := stanza.NewElement(stanza.NSClient, "message", "to", "bob@localhost", "from", "alice@localhost/phone",
			"type", "chat", "id", fmt.Sprintf("m%d", i))
		m.AddChild(&stanza.Element{Space: stanza.NSClient, Name: "body", Text: fmt.Sprintf("offline message %d with a body of about a hundred bytes, as the load generator sends", i)})
		m.AddChild(stanza.NewElement(stanza.NSSID, "stanza-id", "by", "bob@localhost", "id", fmt.Sprintf("sid%d", i)))
		payloads[i] = codec.Encode(m)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		if _, err := ts.store.Enqueue(ctx, "bob@localhost", payloads...); err != nil {
			b.Fatal(err)
		}
		bob := xmpptest.Dial(b, ts.Addrs().C2S, xmpptest.Options{User: "bob", Password: "pw-bob"})
		b.StartTimer()
		bob.SendRaw("<presence/>")
		for got := 0; got < n; {
			if el := bob.Expect("a stored message", func(el *stanza.Element) bool { return el.Name == "message" }); el != nil {
				got++
			}
		}
		b.StopTimer()
		bob.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/message")
}

// BenchmarkOfflineBurst times one device sending 100 messages in one write
// to a user with no device online, over a real socket (STARTTLS), until
// the server's <a/> covers them all: each is stored durably before it is
// counted. One op is one burst.
//
//	go test ./internal/server -run '^$' -bench BenchmarkOfflineBurst -benchmem
func BenchmarkOfflineBurst(b *testing.B) {
	b.Run("history", func(b *testing.B) { benchmarkOfflineBurst(b, false) })
	b.Run("no-history", func(b *testing.B) { benchmarkOfflineBurst(b, true) })
}

// benchmarkOfflineBurst is BenchmarkOfflineBurst on a server with the
// archive (Parley's default) or without it (noHistory: as parley bench's
// offline figure, --no-server-history).
func benchmarkOfflineBurst(b *testing.B, noHistory bool) {
	cfg := config.Default()
	cfg.Data = b.TempDir()
	cfg.C2S, cfg.C2STLS, cfg.Native, cfg.HTTP, cfg.Media = "127.0.0.1:0", "", "", "", "127.0.0.1:0"
	cfg.TURN = ""
	cfg.NoServerHistory = noHistory
	const n = 100
	ts := startConfiguredBenchServer(b, cfg)
	ctx := context.Background()
	for _, name := range []string{"alice", "bob"} {
		a, err := auth.NewAccount(name+"@localhost", "pw-"+name, 4096)
		if err != nil {
			b.Fatal(err)
		}
		if err := ts.store.CreateAccount(ctx, a); err != nil {
			b.Fatal(err)
		}
	}
	alice := xmpptest.Dial(b, ts.Addrs().C2S, xmpptest.Options{User: "alice", Password: "pw-alice", EnableSM: true})
	var burst []byte
	for i := range n {
		burst = fmt.Appendf(burst, "<message to='bob@localhost' type='chat' id='m%d'><body>offline message %d with a body of about a hundred bytes, as the load generator sends</body></message>", i, i)
	}
	burst = append(burst, "<r xmlns='urn:xmpp:sm:3'/>"...)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		alice.SendRaw(string(burst))
		want := fmt.Sprint((i + 1) * n)
		alice.Expect("the ack of the burst", func(el *stanza.Element) bool { return el.Name == "a" && el.Attr("h") == want })
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/message")
}
