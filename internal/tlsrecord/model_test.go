package tlsrecord

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
)

// The record layer against a model: a script of records (application
// data with padding, KeyUpdates whole or in fragments, alerts, tampered
// and malformed records) is sealed the way a client would seal it, cut
// into random pieces and fed to a server Conn. What the Conn delivers
// must be exactly the application data before the first record that ends
// the stream, and it must end with the alert RFC 8446 prescribes.

var testSuites = []uint16{tls.TLS_AES_128_GCM_SHA256, tls.TLS_AES_256_GCM_SHA384, tls.TLS_CHACHA20_POLY1305_SHA256}

// testConn is a server Conn without a socket (only Feed is used) and the
// client's writing direction, which seals what the server reads.
func testConn(t testing.TB, id uint16) (*Conn, *direction) {
	t.Helper()
	s, ok := suiteFor(id)
	if !ok {
		t.Fatalf("suite %x", id)
	}
	secret := func(seed byte) []byte {
		b := make([]byte, s.hash().Size())
		for i := range b {
			b[i] = seed + byte(i)
		}
		return b
	}
	c, err := newConn(nil, s, secret(1), secret(100), NewPool())
	if err != nil {
		t.Fatal(err)
	}
	client := &direction{suite: s}
	if err := client.setSecret(secret(1)); err != nil {
		t.Fatal(err)
	}
	return c, client
}

// sealInner seals a whole TLSInnerPlaintext (content, type, padding) as
// the client would.
func sealInner(t testing.TB, d *direction, inner []byte) []byte {
	t.Helper()
	aead, err := d.cipher()
	if err != nil {
		t.Fatal(err)
	}
	n := len(inner) + aead.Overhead()
	hdr := []byte{typeApplicationData, 3, 3, byte(n >> 8), byte(n)}
	nonce := d.nonce()
	d.seq++
	return aead.Seal(bytes.Clone(hdr), nonce, inner, hdr)
}

func inner(content []byte, typ byte, padding int) []byte {
	b := append(bytes.Clone(content), typ)
	return append(b, make([]byte, padding)...)
}

// outcome is what the model expects from a script.
type outcome struct {
	data      []byte
	err       error // nil, io.EOF or an *AlertError with the alert to send
	updateDue bool
}

// buildScript turns script bytes into the wire bytes a client sends and
// the model's outcome.
func buildScript(t testing.TB, client *direction, script []byte) ([]byte, outcome) {
	var wire []byte
	var want outcome
	for len(script) >= 2 && want.err == nil {
		op, size := script[0]%11, int(script[1])
		script = script[2:]
		content := bytes.Repeat([]byte{'a' + byte(size%26)}, size*size%3000)
		switch op {
		case 0, 1, 2: // application data, some padded
			wire = append(wire, sealInner(t, client, inner(content, typeApplicationData, size%3*40))...)
			want.data = append(want.data, content...)
		case 3: // KeyUpdate, update_not_requested or update_requested
			wire = append(wire, sealInner(t, client, inner([]byte{handshakeKeyUpdate, 0, 0, 1, byte(size % 2)}, typeHandshake, 0))...)
			want.updateDue = want.updateDue || size%2 == 1
			if err := client.update(); err != nil {
				t.Fatal(err)
			}
		case 4: // KeyUpdate in two records
			wire = append(wire, sealInner(t, client, inner([]byte{handshakeKeyUpdate, 0}, typeHandshake, 0))...)
			wire = append(wire, sealInner(t, client, inner([]byte{0, 1, 0}, typeHandshake, 0))...)
			if err := client.update(); err != nil {
				t.Fatal(err)
			}
		case 5: // close_notify
			wire = append(wire, sealInner(t, client, inner([]byte{1, byte(AlertCloseNotify)}, typeAlert, 0))...)
			want.err = io.EOF
		case 6: // a record whose ciphertext was changed on the way
			rec := sealInner(t, client, inner(content, typeApplicationData, 0))
			rec[headerLen+size%(len(rec)-headerLen)] ^= 1 << (size % 8)
			wire = append(wire, rec...)
			want.err = fail(AlertBadRecordMAC, "")
		case 7: // only padding: no content type
			wire = append(wire, sealInner(t, client, make([]byte, 1+size%5))...)
			want.err = fail(AlertUnexpectedMessage, "")
		case 8: // a handshake message other than KeyUpdate (a ticket)
			wire = append(wire, sealInner(t, client, inner([]byte{4, 0, 0, 0}, typeHandshake, 0))...)
			want.err = fail(AlertUnexpectedMessage, "")
		case 9: // an unprotected record
			wire = append(wire, typeHandshake, 3, 3, 0, 1, 0)
			want.err = fail(AlertUnexpectedMessage, "")
		case 10: // a fatal alert from the client
			wire = append(wire, sealInner(t, client, inner([]byte{2, byte(AlertDecodeError)}, typeAlert, 0))...)
			want.err = &AlertError{Alert: AlertDecodeError, Received: true}
		}
	}
	return wire, want
}

// runScript feeds wire to c in pieces cut by rnd and checks the outcome.
func runScript(t testing.TB, c *Conn, wire []byte, want outcome, rnd *rand.Rand) {
	t.Helper()
	var got []byte
	for len(wire) > 0 {
		n := min(len(wire), 1+rnd.IntN(2*maxRecord))
		piece := bytes.Clone(wire[:n])
		wire = wire[n:]
		if c.Feed(piece, func(b []byte) { got = append(got, b...) }) != nil {
			break
		}
	}
	if !bytes.Equal(got, want.data) {
		t.Fatalf("delivered %d bytes, want %d", len(got), len(want.data))
	}
	checkErr(t, c.Err(), want.err)
	if want.err == nil && c.Pending() {
		t.Fatal("a record buffer is held after complete records")
	}
	if c.KeyUpdateDue() != want.updateDue {
		t.Fatalf("KeyUpdate due %v, want %v", c.KeyUpdateDue(), want.updateDue)
	}
}

func checkErr(t testing.TB, got, want error) {
	t.Helper()
	var g, w *AlertError
	switch {
	case errors.As(want, &w):
		if !errors.As(got, &g) || g.Alert != w.Alert || g.Received != w.Received {
			t.Fatalf("failure %v, want alert %v (received %v)", got, w.Alert, w.Received)
		}
	case got != want:
		t.Fatalf("failure %v, want %v", got, want)
	}
}

func TestRecordsAgainstTheModel(t *testing.T) {
	rnd := rand.New(rand.NewPCG(5, 8))
	for i := range 600 {
		script := make([]byte, 2*(1+rnd.IntN(12)))
		for j := range script {
			script[j] = byte(rnd.IntN(256))
		}
		c, client := testConn(t, testSuites[i%len(testSuites)])
		wire, want := buildScript(t, client, script)
		runScript(t, c, wire, want, rnd)
	}
}

// FuzzRecords is the model test with scripts from the fuzzer.
func FuzzRecords(f *testing.F) {
	f.Add([]byte{0, 10, 3, 1, 0, 200, 5, 0}, uint8(0), uint64(1))
	f.Add([]byte{4, 0, 0, 3, 6, 7}, uint8(1), uint64(2))
	f.Add([]byte{1, 255, 2, 128, 7, 1}, uint8(2), uint64(3))
	f.Add([]byte{8, 0}, uint8(0), uint64(4))
	f.Add([]byte{0, 1, 9, 0}, uint8(1), uint64(5))
	f.Add([]byte{3, 3, 10, 0}, uint8(2), uint64(6))
	f.Fuzz(func(t *testing.T, script []byte, suite uint8, cuts uint64) {
		if len(script) > 64 {
			return
		}
		c, client := testConn(t, testSuites[int(suite)%len(testSuites)])
		wire, want := buildScript(t, client, script)
		runScript(t, c, wire, want, rand.New(rand.NewPCG(cuts, 0)))
	})
}

// FuzzFeed feeds raw bytes (the corpus holds real records sealed with
// testConn's keys) cut in two: whatever they are, Feed never panics,
// delivers only what authenticated, and once failed delivers nothing more.
func FuzzFeed(f *testing.F) {
	seal := func(content []byte, typ byte, padding int) []byte {
		_, client := testConn(f, tls.TLS_AES_128_GCM_SHA256)
		return sealInner(f, client, inner(content, typ, padding))
	}
	f.Add(seal([]byte("<presence/>"), typeApplicationData, 0), uint16(3))
	f.Add(seal([]byte(" "), typeApplicationData, 7), uint16(0))
	f.Add(seal([]byte{handshakeKeyUpdate, 0, 0, 1, 1}, typeHandshake, 0), uint16(9))
	f.Add([]byte{23, 3, 3, 0x41, 0x01}, uint16(2))
	f.Fuzz(func(t *testing.T, wire []byte, cut uint16) {
		c, _ := testConn(t, tls.TLS_AES_128_GCM_SHA256)
		at := int(cut) % (len(wire) + 1)
		var got []byte
		deliver := func(b []byte) {
			if c.Err() != nil {
				t.Fatal("delivered after the failure")
			}
			got = append(got, b...)
		}
		err := c.Feed(bytes.Clone(wire[:at]), deliver)
		if err == nil {
			err = c.Feed(bytes.Clone(wire[at:]), deliver)
		}
		if err != nil && !errors.Is(err, io.EOF) && !errors.As(err, new(*AlertError)) {
			t.Fatalf("failure of an unexpected kind: %v", err)
		}
		if len(got) > len(wire) {
			t.Fatalf("delivered %d bytes from %d", len(got), len(wire))
		}
	})
}
