package client_test

import (
	"bufio"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	endian "encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/devicelink"
	"github.com/parley-im/parley/internal/servertest"
	"github.com/parley-im/parley/internal/stanza"
	pb "github.com/parley-im/parley/internal/wire/binary"
)

// wsBinary is a minimal browser stand-in: Parley's binary encoding over
// WebSocket at /ws (subprotocol "parley"), as the web client will speak it.
type wsBinary struct {
	t   *testing.T
	c   net.Conn
	r   *bufio.Reader
	enc *pb.Encoder
	dec *pb.Decoder
}

func dialWSBinary(t *testing.T, addr string) *wsBinary {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	key := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef"))
	req := "GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: parley\r\n\r\n"
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(c)
	resp, err := http.ReadResponse(r, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("WebSocket upgrade: %v %v", resp, err)
	}
	enc, _ := pb.NewEncoder(pb.Preamble{Strings: []string{"localhost"}})
	w := &wsBinary{t: t, c: c, r: r, enc: enc, dec: pb.NewDecoder(pb.DefaultLimits())}
	w.write(enc.AppendStanza(enc.AppendPreamble(nil), stanza.NewElement(stanza.NSFraming, "open", "to", "localhost", "version", "1.0")))
	if f := w.read(); f.Name != "features" {
		w.t.Fatalf("got <%s>, want the stream features", f.Name)
	}
	return w
}

// write sends b as one masked binary WebSocket message.
func (w *wsBinary) write(b []byte) {
	hdr := []byte{0x82}
	switch {
	case len(b) < 126:
		hdr = append(hdr, 0x80|byte(len(b)))
	case len(b) < 1<<16:
		hdr = append(hdr, 0x80|126)
		hdr = endian.BigEndian.AppendUint16(hdr, uint16(len(b)))
	default:
		hdr = append(hdr, 0x80|127)
		hdr = endian.BigEndian.AppendUint64(hdr, uint64(len(b)))
	}
	mask := []byte{1, 2, 3, 4}
	out := append(hdr, mask...)
	for i, x := range b {
		out = append(out, x^mask[i%4])
	}
	if _, err := w.c.Write(out); err != nil {
		w.t.Fatal(err)
	}
}

func (w *wsBinary) send(el *stanza.Element) { w.write(w.enc.AppendStanza(nil, el)) }

// read returns the next element from the server (skipping its preamble
// and <open/>); a stream error fails the test.
func (w *wsBinary) read() *stanza.Element {
	w.t.Helper()
	for {
		tok, err := w.dec.Next()
		if errors.Is(err, pb.ErrNeedMore) {
			w.dec.Feed(w.message())
			continue
		}
		if err != nil {
			w.t.Fatal(err)
		}
		if tok.Kind != pb.Stanza || tok.Element.Space == stanza.NSFraming {
			continue
		}
		return tok.Element
	}
}

// message reads one unmasked WebSocket message from the server.
func (w *wsBinary) message() []byte {
	w.t.Helper()
	var h [2]byte
	if _, err := io.ReadFull(w.r, h[:]); err != nil {
		w.t.Fatal(err)
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		_, _ = io.ReadFull(w.r, b[:])
		n = uint64(endian.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		_, _ = io.ReadFull(w.r, b[:])
		n = endian.BigEndian.Uint64(b[:])
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(w.r, p); err != nil {
		w.t.Fatal(err)
	}
	return p
}

// TestPairingOverWebSocket: the browser's path. Over /ws, a new device
// asks for a reference, the phone links it, the sealed credential arrives
// on the WebSocket and opens with the device's key, and the device logs in
// with X-PARLEY-DEVICE on the same stream.
func TestPairingOverWebSocket(t *testing.T) {
	srv := servertest.Start(t, nil)
	srv.AddUser(t, "alice@localhost", "pw-alice")
	phone := dial(t, srv, "alice@localhost/phone", "pw-alice", binary(srv))
	browser := dialWSBinary(t, srv.HTTP)

	key, _ := ecdh.X25519().GenerateKey(rand.Reader)
	pair := stanza.NewElement(devicelink.NS, "pair", "key", devicelink.EncodeKey(key.PublicKey().Bytes()))
	browser.send(stanza.NewElement(stanza.NSClient, "iq", "type", "set", "id", "p1").AddChild(pair))
	res := browser.read()
	ref := res.Child(devicelink.NS, "pair")
	if res.Type() != "result" || ref == nil {
		t.Fatalf("pair answer %v", res)
	}
	payload := devicelink.Payload{Ref: ref.Attr("ref"), Key: key.PublicKey().Bytes()}.String()
	if _, err := phone.Link(testCtx(t), payload, "browser"); err != nil {
		t.Fatal(err)
	}
	paired := browser.read()
	if paired.Name != "paired" {
		t.Fatalf("got %v, want <paired/>", paired)
	}
	eph, _ := devicelink.DecodeKey(paired.Attr("eph"))
	sealed, _ := devicelink.DecodeBytes(paired.Attr("credential"))
	token, err := devicelink.Open(key, eph, sealed, devicelink.AAD(paired.Attr("jid"), paired.Attr("id")))
	if err != nil {
		t.Fatal(err)
	}
	msg := "alice\x00" + paired.Attr("id") + "\x00" + string(token)
	auth := stanza.NewElement(stanza.NSSASL, "auth", "mechanism", devicelink.Mechanism)
	auth.Text = base64.StdEncoding.EncodeToString([]byte(msg))
	browser.send(auth)
	if got := browser.read(); got.Name != "success" {
		t.Fatalf("device login over WebSocket: %v", got)
	}
}
