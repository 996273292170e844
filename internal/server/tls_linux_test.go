package server

import (
	"bytes"
	"crypto/tls"
	"net"
	"testing"
	"time"
)

// finishedWithData holds the client's second write (its Finished) back
// and sends it with the third (its first application data), as a
// pipelining client's flight arrives when the server reads it late.
type finishedWithData struct {
	net.Conn
	writes int
	held   []byte
}

func (f *finishedWithData) Write(p []byte) (int, error) {
	f.writes++
	switch f.writes {
	case 2:
		f.held = bytes.Clone(p)
		return len(p), nil
	case 3:
		_, err := f.Conn.Write(append(f.held, p...))
		return len(p), err
	}
	return f.Conn.Write(p)
}

const tlsStreamOpen = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' " +
	"xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>"

// TestStreamOpenWithTheFinishedIsAnswered: a stream header that arrives
// in the same read as the client's Finished (direct TLS, and after
// STARTTLS) is answered with the stream features: the handshake's last
// read brought it, and the server feeds it to the stream.
func TestStreamOpenWithTheFinishedIsAnswered(t *testing.T) {
	ts := startServer(t, nil)
	t.Run("direct TLS", func(t *testing.T) {
		raw, err := net.Dial("tcp", ts.addrs.C2STLS)
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		openStreamOverTLS(t, raw)
	})
	t.Run("STARTTLS", func(t *testing.T) {
		raw, err := net.Dial("tcp", ts.addrs.C2S)
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		if _, err := raw.Write([]byte(tlsStreamOpen)); err != nil {
			t.Fatal(err)
		}
		readUntil(t, raw, "</stream:features>")
		if _, err := raw.Write([]byte("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")); err != nil {
			t.Fatal(err)
		}
		readUntil(t, raw, "<proceed")
		openStreamOverTLS(t, raw)
	})
}

// openStreamOverTLS runs a TLS handshake on raw whose Finished carries the
// stream open (finishedWithData), then expects the stream features.
func openStreamOverTLS(t *testing.T, raw net.Conn) {
	t.Helper()
	tc := tls.Client(&finishedWithData{Conn: raw}, &tls.Config{InsecureSkipVerify: true})
	_ = tc.SetDeadline(time.Now().Add(10 * time.Second))
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	if _, err := tc.Write([]byte(tlsStreamOpen)); err != nil {
		t.Fatal(err)
	}
	readUntil(t, tc, "</stream:features>")
}
