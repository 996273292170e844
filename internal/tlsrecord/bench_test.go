package tlsrecord

import (
	"crypto/tls"
	"io"
	"net"
	"testing"
)

// BenchmarkOpen200: opening one 200-byte record (a typical stanza) fed
// from a read buffer, as the connection's reader does.
func BenchmarkOpen200(b *testing.B) {
	c, client := testConn(b, tls.TLS_AES_128_GCM_SHA256)
	rec := sealInner(b, client, inner(make([]byte, 200), typeApplicationData, 0))
	buf := make([]byte, len(rec))
	deliver := func([]byte) {}
	b.SetBytes(200)
	b.ReportAllocs()
	for b.Loop() {
		copy(buf, rec)
		c.in.seq = 0
		if err := c.Feed(buf, deliver); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpen200AfterRelease: the same for a parked connection, whose
// cipher is rebuilt from the key for each record (a keep-alive's cost).
func BenchmarkOpen200AfterRelease(b *testing.B) {
	c, client := testConn(b, tls.TLS_AES_128_GCM_SHA256)
	rec := sealInner(b, client, inner(make([]byte, 200), typeApplicationData, 0))
	buf := make([]byte, len(rec))
	deliver := func([]byte) {}
	b.ReportAllocs()
	for b.Loop() {
		copy(buf, rec)
		c.in.seq = 0
		c.ReleaseCiphers()
		if err := c.Feed(buf, deliver); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWrite200: sealing and writing a 200-byte stanza to a real
// loopback socket (drained by a reader).
func BenchmarkWrite200(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		peer, err := ln.Accept()
		if err == nil {
			_, _ = io.Copy(io.Discard, peer)
		}
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Close()
	s, _ := suiteFor(tls.TLS_AES_128_GCM_SHA256)
	c, err := newConn(raw, s, make([]byte, 32), make([]byte, 32), NewPool())
	if err != nil {
		b.Fatal(err)
	}
	msg := make([]byte, 200)
	b.SetBytes(200)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Write(msg); err != nil {
			b.Fatal(err)
		}
	}
}
