package server

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-im/parley/client"
	"github.com/parley-im/parley/internal/auth"
	"github.com/parley-im/parley/internal/config"
	"github.com/parley-im/parley/internal/stanza"
)

// What an idle, logged-in, available device holds in the server's heap
// (issue 5: memory per idle device). The devices log in as `parley bench`'s
// do (the client library, PLAIN over plain TCP, stream management, an
// available presence) from a process of their own (this test binary again,
// TestIdleDevicesClientProcess), so that the server's heap is all the
// process holds. The figure is marginal: the heap after a first batch of
// devices is subtracted from the heap after a second, both after
// collections and once every device is parked, so what the server
// allocates once (pools, caches) does not count.

const (
	idleClientEnv   = "PARLEY_IDLE_CLIENTS"
	idleClientReady = "IDLE-CLIENTS-READY"
)

// idleHeap is the server heap per idle device, marginal.
type idleHeap struct{ bytes, objects float64 }

// measureIdleHeap logs first devices in, then more, and returns what each
// of the more holds. With PARLEY_IDLE_HEAP_PROFILE set, it writes a heap
// profile of the server there at the end (every allocation sampled).
// With burst > 0 each device, once available, sends burst messages to
// itself and reads them before it goes idle.
func measureIdleHeap(tb testing.TB, first, more, burst int) idleHeap {
	profile := os.Getenv("PARLEY_IDLE_HEAP_PROFILE")
	if profile != "" {
		old := runtime.MemProfileRate
		runtime.MemProfileRate = 1
		tb.Cleanup(func() { runtime.MemProfileRate = old })
	}
	s := startIdleServer(tb, first+more)
	clients := startIdleClients(tb, s.Addrs().C2S, first+more, burst)
	clients.login(tb, first)
	waitParked(tb, s, first)
	before := settledHeap()
	clients.login(tb, more)
	waitParked(tb, s, first+more)
	after := settledHeap()
	if profile != "" {
		writeHeapProfile(tb, profile)
	}
	return idleHeap{
		bytes:   float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(more),
		objects: float64(int64(after.HeapObjects)-int64(before.HeapObjects)) / float64(more),
	}
}

func startIdleServer(tb testing.TB, users int) *Server {
	cfg := config.Default()
	cfg.Data = tb.TempDir()
	cfg.C2S, cfg.C2STLS, cfg.Native, cfg.HTTP, cfg.Media, cfg.TURN = "127.0.0.1:0", "", "", "", "", ""
	cfg.AllowPlaintextAuth = true
	cfg.NoServerHistory = true // as `parley bench` is run
	cfg.MinFreeDiskMB = 0
	s, err := newServer(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), nil, nil)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = s.Serve(ctx); close(done) }()
	tb.Cleanup(func() { cancel(); <-done })
	for i := range users {
		a, err := auth.NewAccount(fmt.Sprintf("idle%d@localhost", i), "pw", 4096)
		if err != nil {
			tb.Fatal(err)
		}
		if err := s.store.CreateAccount(context.Background(), a); err != nil {
			tb.Fatal(err)
		}
	}
	return s
}

// waitParked waits until n connections are parked (idle, no goroutine).
func waitParked(tb testing.TB, s *Server, n int) {
	tb.Helper()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if s.c2s.ParkedConnections() == n {
			return
		}
	}
	tb.Fatalf("%d connections parked, want %d", s.c2s.ParkedConnections(), n)
}

// settledHeap collects until the heap stops shrinking (finalizers, and the
// sync.Pools' two-cycle release) and returns the statistics.
func settledHeap() runtime.MemStats {
	var m runtime.MemStats
	for range 4 {
		runtime.GC()
	}
	runtime.ReadMemStats(&m)
	return m
}

func writeHeapProfile(tb testing.TB, path string) {
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		tb.Fatal(err)
	}
}

// idleClients is the measuring side's end of the client process.
type idleClients struct {
	stdin io.Writer
	out   *bufio.Scanner
}

func startIdleClients(tb testing.TB, addr string, devices, burst int) *idleClients {
	cmd := exec.Command(os.Args[0], "-test.run=^TestIdleDevicesClientProcess$", "-test.v")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s %d %d", idleClientEnv, addr, devices, burst))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { stdin.Close(); _ = cmd.Wait() })
	return &idleClients{stdin: stdin, out: bufio.NewScanner(stdout)}
}

// login has the client process log n more devices in, available.
func (c *idleClients) login(tb testing.TB, n int) {
	tb.Helper()
	if _, err := fmt.Fprintln(c.stdin, n); err != nil {
		tb.Fatal(err)
	}
	for c.out.Scan() {
		if strings.HasPrefix(c.out.Text(), idleClientReady) {
			return
		}
	}
	tb.Fatal("the client process ended before its devices were logged in")
}

// TestIdleDevicesClientProcess is the client process of measureIdleHeap:
// for each number read from stdin it logs that many more devices in (100
// at a time, as `parley bench`'s ramp), makes them available, and leaves
// them idle until stdin closes.
func TestIdleDevicesClientProcess(t *testing.T) {
	var addr string
	var devices, burst int
	clientProcessArgs(t, idleClientEnv, "measureIdleHeap", &addr, &devices, &burst)
	var conns []*client.Client
	defer func() {
		for _, c := range conns {
			_ = c.Close()
		}
	}()
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		n, err := strconv.Atoi(in.Text())
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, loginIdleDevices(t, addr, len(conns), n, burst)...)
		fmt.Println(idleClientReady)
	}
}

// loginIdleDevices logs devices from..from+n in, at most 100 at a time;
// each sends burst messages to itself and reads them.
func loginIdleDevices(t *testing.T, addr string, from, n, burst int) []*client.Client {
	out := make([]*client.Client, n)
	slots := make(chan struct{}, 100)
	var wg sync.WaitGroup
	for i := range n {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			c, err := loginIdleDevice(from+i, addr, burst)
			if err != nil {
				t.Error(err)
				return
			}
			out[i] = c
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return out
}

func loginIdleDevice(i int, addr string, burst int) (*client.Client, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, client.Options{JID: fmt.Sprintf("idle%d@localhost/bench", i), Password: "pw",
		Addr: addr, Transport: client.Plaintext, Mechanism: "PLAIN", Encoding: client.XML, EventBuffer: 4096})
	if err != nil {
		return nil, err
	}
	received := make(chan struct{}, burst)
	go func() {
		for e := range c.Events() {
			if _, ok := e.(*client.Message); ok {
				received <- struct{}{}
			}
		}
	}()
	if err := c.SetPresence("", ""); err != nil {
		return nil, err
	}
	for range burst {
		if _, err := c.SendMessage(c.JID(), "a message of the burst"); err != nil {
			return nil, err
		}
	}
	for range burst {
		select {
		case <-received:
		case <-ctx.Done():
			return nil, fmt.Errorf("device %d: its burst did not come back: %w", i, ctx.Err())
		}
	}
	return c, nil
}

// BenchmarkIdleDeviceHeap reports the server heap each idle, logged-in,
// available device holds (marginal, over 1,000 devices after 200), right
// after its login, and after it sent itself a burst of 64 messages:
//
//	go test ./internal/server -run '^$' -bench BenchmarkIdleDeviceHeap -benchtime 1x
//
// With PARLEY_IDLE_HEAP_PROFILE=file, a heap profile of the server with
// every allocation sampled (go tool pprof -sample_index=inuse_space).
func BenchmarkIdleDeviceHeap(b *testing.B) {
	for _, burst := range []int{0, 64} {
		b.Run(fmt.Sprintf("burst=%d", burst), func(b *testing.B) {
			for range b.N {
				h := measureIdleHeap(b, 200, 1000, burst)
				b.ReportMetric(h.bytes, "heap-B/device")
				b.ReportMetric(h.objects, "objects/device")
			}
		})
	}
}

// TestPlainPresenceBuiltOnDemand: a device's plain available presence,
// which its session keeps as no element, still reaches the user's other
// resources as before: when one logs in after it, it gets <presence/> from
// the first device's full JID.
func TestPlainPresenceBuiltOnDemand(t *testing.T) {
	ts := startServer(t, nil)
	ts.addUser(t, "alice", "pw-alice")
	phone := ts.login(t, "alice", "phone")
	phone.SendRaw("<presence/>")
	phone.Expect("its own presence back", func(el *stanza.Element) bool {
		return el.Name == stanza.KindPresence && el.Attr("from") == "alice@localhost/phone"
	})
	laptop := ts.login(t, "alice", "laptop")
	laptop.SendRaw("<presence/>")
	got := laptop.Expect("the phone's presence", func(el *stanza.Element) bool {
		return el.Name == stanza.KindPresence && el.Attr("from") == "alice@localhost/phone"
	})
	if got.Type() != "" || len(got.Children) != 0 || got.Attr("to") != "alice@localhost/laptop" {
		t.Fatalf("laptop got %v, want a plain available presence to it", got)
	}
}

// TestQuietSessionsHoldNoBuffers: devices that sent themselves a burst of
// messages and went quiet (parked) hold none of the buffers their
// sessions grew for it: the read's unsettled messages (704 bytes each
// after 64 messages) and the mailbox's items. Counted from a heap profile
// with every allocation sampled: the bytes still in use that were
// allocated by those two growers.
func TestQuietSessionsHoldNoBuffers(t *testing.T) {
	if testing.Short() {
		t.Skip("logs 100 devices in from a second process")
	}
	old := runtime.MemProfileRate
	runtime.MemProfileRate = 1
	t.Cleanup(func() { runtime.MemProfileRate = old })
	const devices, burst = 100, 64
	s := startIdleServer(t, devices)
	clients := startIdleClients(t, s.Addrs().C2S, devices, burst)
	clients.login(t, devices)
	waitParked(t, s, devices)
	settledHeap()
	held := heldBytesAllocatedIn("session.(*Session).routeMessage", "session.(*Session).push")
	if held > devices*64 { // room for a few devices whose own copy is still in flight
		t.Fatalf("%d quiet devices hold %d bytes of their sessions' message and mailbox buffers", devices, held)
	}
}

// heldBytesAllocatedIn sums the heap bytes in use (as of the last
// collection) allocated directly by a function whose name ends with one of
// funcs.
func heldBytesAllocatedIn(funcs ...string) int64 {
	var recs []runtime.MemProfileRecord
	n, _ := runtime.MemProfile(nil, false)
	for {
		recs = make([]runtime.MemProfileRecord, n+50)
		var ok bool
		if n, ok = runtime.MemProfile(recs, false); ok {
			recs = recs[:n]
			break
		}
	}
	var held int64
	for _, r := range recs {
		if allocatedIn(r.Stack(), funcs) {
			held += r.InUseBytes()
		}
	}
	return held
}

// allocatedIn reports whether the first frame outside the runtime (the
// allocating function) ends with one of funcs.
func allocatedIn(stack []uintptr, funcs []string) bool {
	frames := runtime.CallersFrames(stack)
	for {
		f, more := frames.Next()
		if !strings.HasPrefix(f.Function, "runtime.") {
			for _, name := range funcs {
				if strings.HasSuffix(f.Function, name) {
					return true
				}
			}
			return false
		}
		if !more {
			return false
		}
	}
}
