package c2s

import (
	"errors"
	"io"
	"net"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// BenchmarkLoopbackFloor measures, outside Parley, what this machine's
// kernel charges for the socket operations a delivery is made of: the
// floor under issue 5's CPU per message, which no change in Parley's own
// code can go below while every delivery is a write of its own
// (docs/benchmarks.md, "What limits each target"). Each op is one system
// call on a loopback TCP connection, with stanza-sized (200-byte) writes:
//
//   - write: a write the peer reads at once (the kernel runs the peer's TCP
//     input and wakes its reader inside the writer's call), on one
//     connection, then spread over 1,000 (colder caches, as on a server);
//   - read-empty: a non-blocking read of an empty socket, what Go's poller
//     does before every wait (EAGAIN);
//   - accept-close: a connection accepted (with what Go's net package does
//     around accept4) and closed, what every login costs besides its
//     round trips;
//   - round-trip: a 200-byte request and the peer's 200-byte answer, as a
//     message and its ack: a write and a read on each side, per op.
//
// Besides the wall time per op, all but round-trip report thread-µs/op:
// the CPU (user and system) of the benchmark's own thread per op, the
// share a server would pay, while the peers run on the other core:
//
//	go test -run '^$' -bench LoopbackFloor -cpu 2 ./internal/c2s
func BenchmarkLoopbackFloor(b *testing.B) {
	payload := make([]byte, 200)
	for _, conns := range []int{1, 1000} {
		b.Run("write/conns="+strconv.Itoa(conns), func(b *testing.B) {
			writers := make([]net.Conn, conns)
			for i := range writers {
				w, r := tcpPair(b)
				writers[i] = w
				go func() { _, _ = io.Copy(io.Discard, r) }()
			}
			i := 0
			defer threadCPU(b)()
			for b.Loop() {
				if _, err := writers[i].Write(payload); err != nil {
					b.Fatal(err)
				}
				if i++; i == conns {
					i = 0
				}
			}
		})
	}
	b.Run("read-empty", func(b *testing.B) {
		c, _ := tcpPair(b)
		fd := socketFD(b, c)
		buf := make([]byte, 4096)
		defer threadCPU(b)()
		for b.Loop() {
			if _, err := syscall.Read(fd, buf); !errors.Is(err, syscall.EAGAIN) {
				b.Fatalf("read of an empty socket: %v", err)
			}
		}
	})
	b.Run("accept-close", func(b *testing.B) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		defer ln.Close()
		for range 4 { // enough that a connection always waits to be accepted
			go dialUntilRefused(ln.Addr().String())
		}
		defer threadCPU(b)()
		for b.Loop() {
			c, err := ln.Accept()
			if err != nil {
				b.Fatal(err)
			}
			_ = c.Close()
		}
	})
	b.Run("round-trip", func(b *testing.B) {
		c, peer := tcpPair(b)
		go echo(peer)
		answer := make([]byte, len(payload))
		for b.Loop() { // not locked to a thread: its waits would put the thread to sleep
			if _, err := c.Write(payload); err != nil {
				b.Fatal(err)
			}
			if _, err := io.ReadFull(c, answer); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// threadCPU locks the benchmark to its OS thread and returns the func
// that reports the thread's CPU time per op since (call it deferred, after
// the b.Loop loop).
func threadCPU(b *testing.B) func() {
	runtime.LockOSThread()
	start := threadRusage(b)
	return func() {
		used := threadRusage(b) - start
		runtime.UnlockOSThread()
		b.ReportMetric(float64(used.Microseconds())/float64(b.N), "thread-µs/op")
	}
}

// threadRusage is the calling thread's user and system CPU time.
func threadRusage(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// dialUntilRefused dials addr, closing each connection, until a dial
// fails (the listener closed).
func dialUntilRefused(addr string) {
	for {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return
		}
		_ = c.Close()
	}
}

// echo writes back what c reads until it closes.
func echo(c net.Conn) {
	buf := make([]byte, 64<<10)
	for {
		n, err := c.Read(buf)
		if err != nil {
			return
		}
		if _, err := c.Write(buf[:n]); err != nil {
			return
		}
	}
}

// socketFD is c's file descriptor (non-blocking, as Go's net package
// leaves it), open as long as c is.
func socketFD(t testing.TB, c net.Conn) int {
	t.Helper()
	raw, err := c.(syscall.Conn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var fd int
	if err := raw.Control(func(f uintptr) { fd = int(f) }); err != nil {
		t.Fatal(err)
	}
	return fd
}
