package tlsrecord

import (
	"crypto/tls"
	"net"
	"syscall"
	"testing"
)

// BenchmarkFullHandshake: one full TLS 1.3 handshake over loopback, a Go
// client against the Acceptor (both sides' work: the certificate's ECDSA
// P-256 signature and its check, the key exchange, the key schedule), with
// the server's key exchange group preferences: Go's default, which picks
// X25519MLKEM768 (hybrid post-quantum) when the client offers it, as Go
// clients do, against X25519 alone. cpu-ns/op is the process's CPU time
// (both sides) per handshake, which depends less on the machine's load
// than ns/op.
func BenchmarkFullHandshake(b *testing.B) {
	for _, bc := range []struct {
		name   string
		groups []tls.CurveID
	}{
		{"default", nil},
		{"X25519", []tls.CurveID{tls.X25519}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			cfg := serverConfig(b)
			cfg.CurvePreferences = bc.groups
			a := NewAcceptor(cfg, NewPool())
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			defer ln.Close()
			done := make(chan tls.CurveID)
			go func() {
				for {
					raw, err := ln.Accept()
					if err != nil {
						return
					}
					nc, st, err := a.Server(raw)
					if err != nil {
						raw.Close()
						done <- 0
						continue
					}
					nc.Close()
					done <- st.CurveID
				}
			}()
			b.ReportAllocs()
			var group tls.CurveID
			cpu0 := processCPU(b)
			for b.Loop() {
				raw, err := net.Dial("tcp", ln.Addr().String())
				if err != nil {
					b.Fatal(err)
				}
				tc := tls.Client(raw, clientConfig())
				if err := tc.Handshake(); err != nil {
					b.Fatal(err)
				}
				group = <-done
				tc.Close()
			}
			b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N), "cpu-ns/op")
			if group == 0 {
				b.Fatal("the server's handshake failed")
			}
			b.Logf("negotiated %v", group)
		})
	}
}

// processCPU is the CPU time (user and system) this process used so far.
func processCPU(tb testing.TB) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
