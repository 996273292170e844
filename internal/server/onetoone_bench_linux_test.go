package server

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/auth"
	"github.com/parley-im/parley/internal/config"
	"github.com/parley-im/parley/internal/proccpu"
	"github.com/parley-im/parley/internal/xmpptest"
)

// BenchmarkOneToOne measures the server's whole path of one one-to-one
// message, end to end through real loopback sockets, as `parley bench
// --scenarios throughput` drives it: alice sends a chat message with a
// receipt request and an XEP-0198 ack request; the server stores it
// (synced before alice's ack), delivers it to bob with an ack request; bob
// acks (<a h/>) and sends the receipt, which the server stores, delivers to
// alice, who acks it. One op is one message and its receipt, both
// delivered. pairs of such devices run at once (one pair: every message
// waits for a WAL sync of its own; a hundred: they share them, as under
// load); inflight is how many messages a sender sends before it waits for
// their receipts (1: nothing coalesces; 32: the mailbox batches).
//
// ack-window: the server's --ack-window. At 0 every message is stored
// before delivery, as described above; at the default (100ms) bob's and
// alice's acks settle the message and its receipt, which are then never
// stored (router.Pending).
//
// xmpp: XMPP over plain TCP. binary: Parley's binary encoding over TLS,
// the clients being the client library (libraryPeer).
//
// The clients run in a process of their own (this test binary again, see
// TestOneToOneClientProcess); the XMPP ones write prepared bytes and never
// parse XML:
// the benchmark's process is the server, so allocs/op and B/op are the
// server's, server-µs/op is its CPU (getrusage) per message and
// goroutines/op the goroutines it started, reads/op and writes/op its
// read and write system calls; clients-µs/op is the client process's CPU.
//
//	go test ./internal/server -run '^$' -bench BenchmarkOneToOne -benchmem
func BenchmarkOneToOne(b *testing.B) {
	for _, proto := range []string{"xmpp", "binary"} {
		for _, c := range []struct{ pairs, inflight int }{{1, 1}, {1, 32}, {100, 1}} {
			for _, window := range []time.Duration{config.Default().AckWindow, 0} {
				name := fmt.Sprintf("%s/pairs=%d/inflight=%d/ack-window=%v", proto, c.pairs, c.inflight, window)
				b.Run(name, func(b *testing.B) {
					benchOneToOne(b, proto, c.pairs, c.inflight, window)
				})
			}
		}
	}
}

func benchOneToOne(b *testing.B, proto string, pairs, inflight int, ackWindow time.Duration) {
	s := startOneToOneServer(b, 2*pairs, ackWindow)
	addr := s.Addrs().C2S
	if proto == "binary" {
		addr = s.Addrs().Native
	}
	clients := startClientProcess(b, proto, addr, pairs, inflight)
	clients.run(b, 200*pairs) // warm up: sessions, queues, pools
	reportServerShare(b, clients)
}

// reportServerShare has the clients run b.N ops and reports the server's
// share of them (this process's allocations, CPU, goroutines started and
// read and write system calls per op) and the clients' CPU per op.
func reportServerShare(b *testing.B, clients *clientProcess) {
	b.ReportAllocs()
	b.ResetTimer()
	before, goBefore, ioBefore := proccpu.Now(), goroutinesStarted(), readIOCalls(b)
	clientCPU := clients.run(b, b.N)
	serverCPU, started, io := proccpu.Now()-before, goroutinesStarted()-goBefore, readIOCalls(b).minus(ioBefore)
	b.StopTimer()
	b.ReportMetric(float64(started)/float64(b.N), "goroutines/op")
	b.ReportMetric(float64(io.reads)/float64(b.N), "reads/op")
	b.ReportMetric(float64(io.writes)/float64(b.N), "writes/op")
	b.ReportMetric(float64(serverCPU.Nanoseconds())/1e3/float64(b.N), "server-µs/op")
	b.ReportMetric(float64(clientCPU.Nanoseconds())/1e3/float64(b.N), "clients-µs/op")
}

// ioCalls counts the process's read and write system calls (all of them:
// sockets, and the WAL's writes).
type ioCalls struct{ reads, writes int64 }

func (a ioCalls) minus(b ioCalls) ioCalls { return ioCalls{a.reads - b.reads, a.writes - b.writes} }

// readIOCalls reads the process's system call counts (syscr and syscw
// in /proc/self/io: read, readv, write, writev and the like, not
// recvfrom's peeks), which no load on the machine changes.
func readIOCalls(tb testing.TB) ioCalls {
	data, err := os.ReadFile("/proc/self/io")
	if err != nil {
		tb.Fatal(err)
	}
	var c ioCalls
	for line := range strings.Lines(string(data)) {
		name, value, _ := strings.Cut(strings.TrimSpace(line), ": ")
		n, _ := strconv.ParseInt(value, 10, 64)
		switch name {
		case "syscr":
			c.reads = n
		case "syscw":
			c.writes = n
		}
	}
	return c
}

// The client process: the benchmark starts this test binary with
// oneToOneClientEnv set to "proto addr pairs inflight"; it logs the devices in,
// says oneToOneReady, then for each number n read from its stdin has the
// pairs exchange n messages and answers with the CPU it used.
const (
	oneToOneClientEnv = "PARLEY_ONETOONE_CLIENT"
	oneToOneReady     = "onetoone: ready"
	oneToOneDone      = "onetoone: done "
)

// clientProcessArgs reads into args what a benchmark gave its client
// process (this test binary again) in the environment variable env, or
// skips the test when no benchmark started it.
func clientProcessArgs(t *testing.T, env, bench string, args ...any) {
	spec := os.Getenv(env)
	if spec == "" {
		t.Skip("run by " + bench)
	}
	if _, err := fmt.Sscan(spec, args...); err != nil {
		t.Fatal(err)
	}
}

// TestOneToOneClientProcess is BenchmarkOneToOne's client process, not a
// test: it is skipped unless the benchmark started it.
func TestOneToOneClientProcess(t *testing.T) {
	var proto, addr string
	var pairs, inflight int
	clientProcessArgs(t, oneToOneClientEnv, "BenchmarkOneToOne", &proto, &addr, &pairs, &inflight)
	senders, receivers := make([]peer, pairs), make([]peer, pairs)
	for i := range pairs {
		if proto == "binary" {
			senders[i] = dialLibraryPeer(t, addr, fmt.Sprintf("u%d", 2*i))
			receivers[i] = dialLibraryPeer(t, addr, fmt.Sprintf("u%d", 2*i+1))
		} else {
			senders[i] = dialRawPeer(t, addr, fmt.Sprintf("u%d", 2*i))
			receivers[i] = dialRawPeer(t, addr, fmt.Sprintf("u%d", 2*i+1))
		}
	}
	serveRuns(t, func(n int) error { return exchange(senders, receivers, n, inflight) })
}

// serveRuns is a client process's side of clientProcess.run: it says
// oneToOneReady, then for each number n read from stdin calls run(n) and
// says oneToOneDone with the process's CPU for it, in nanoseconds.
func serveRuns(t *testing.T, run func(n int) error) {
	fmt.Println(oneToOneReady)
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		n, err := strconv.Atoi(in.Text())
		if err != nil {
			t.Fatal(err)
		}
		before := proccpu.Now()
		if err := run(n); err != nil {
			t.Fatal(err)
		}
		fmt.Printf("%s%d\n", oneToOneDone, proccpu.Now()-before)
	}
}

// exchange has each pair exchange its share of n messages.
func exchange(senders, receivers []peer, n, inflight int) error {
	pairs := len(senders)
	errs := make(chan error, 2*pairs)
	for i := range pairs {
		share := n / pairs
		if i < n%pairs {
			share++
		}
		from, to := fmt.Sprintf("u%d@localhost", 2*i), fmt.Sprintf("u%d@localhost", 2*i+1)
		go func() { errs <- receivers[i].receive(share, from) }()
		go func() { errs <- senders[i].send(share, inflight, to) }()
	}
	var first error
	for range 2 * pairs {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// clientProcess is the benchmark's end of the client process.
type clientProcess struct {
	stdin io.Writer
	out   *bufio.Scanner
}

func startClientProcess(b *testing.B, proto, addr string, pairs, inflight int) *clientProcess {
	return startBenchClients(b, "TestOneToOneClientProcess",
		fmt.Sprintf("%s=%s %s %d %d", oneToOneClientEnv, proto, addr, pairs, inflight))
}

// startBenchClients runs test (a client process's test function) in this
// test binary again, with env added to the environment, and waits for it
// to say oneToOneReady.
func startBenchClients(b *testing.B, test, env string) *clientProcess {
	cmd := clientCommand("-test.run=^"+test+"$", "-test.v")
	cmd.Env = append(os.Environ(), env)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { stdin.Close(); _ = cmd.Wait() })
	c := &clientProcess{stdin: stdin, out: bufio.NewScanner(stdout)}
	c.expect(b, oneToOneReady)
	return c
}

// clientCommand runs this test binary again with args, as a benchmark's
// client process: on the CPUs PARLEY_BENCH_CLIENT_CPUS lists (taskset's
// list, "0") when it is set, so that the server, pinned by running the
// benchmark under taskset, and its clients each have cores of their own.
func clientCommand(args ...string) *exec.Cmd {
	if cpus := os.Getenv("PARLEY_BENCH_CLIENT_CPUS"); cpus != "" {
		return exec.Command("taskset", append([]string{"-c", cpus, os.Args[0]}, args...)...)
	}
	return exec.Command(os.Args[0], args...)
}

// run has the clients exchange n messages and returns their CPU.
func (c *clientProcess) run(b *testing.B, n int) time.Duration {
	if _, err := fmt.Fprintln(c.stdin, n); err != nil {
		b.Fatal(err)
	}
	cpu, err := strconv.ParseInt(strings.TrimPrefix(c.expect(b, oneToOneDone), oneToOneDone), 10, 64)
	if err != nil {
		b.Fatal(err)
	}
	return time.Duration(cpu)
}

// expect skips the test framework's lines up to one starting with prefix.
// If the process ends first, the failure shows its last lines (its own
// failure's message among them).
func (c *clientProcess) expect(b *testing.B, prefix string) string {
	var last []string
	for c.out.Scan() {
		if strings.HasPrefix(c.out.Text(), prefix) {
			return c.out.Text()
		}
		last = append(last, c.out.Text())
		if len(last) > 10 {
			last = last[1:]
		}
	}
	b.Fatalf("the client process ended before %q:\n%s", prefix, strings.Join(last, "\n"))
	return ""
}

func startOneToOneServer(b *testing.B, users int, ackWindow time.Duration) *Server {
	cfg := config.Default()
	cfg.AckWindow = ackWindow
	cfg.Data = b.TempDir()
	cfg.C2S, cfg.C2STLS, cfg.Native, cfg.HTTP, cfg.Media, cfg.TURN = "127.0.0.1:0", "", "127.0.0.1:0", "", "", ""
	cfg.AllowPlaintextAuth = true
	cfg.NoServerHistory = true // as `parley bench` is run against the peers, which keep no archive
	s := startConfiguredBenchServer(b, cfg)
	createBenchAccounts(b, s, users)
	return s
}

// createBenchAccounts creates u0@localhost to u<n-1>@localhost, password
// "pw".
func createBenchAccounts(b *testing.B, s *Server, n int) {
	for i := range n {
		a, err := auth.NewAccount(fmt.Sprintf("u%d@localhost", i), "pw", 4096)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.store.CreateAccount(context.Background(), a); err != nil {
			b.Fatal(err)
		}
	}
}

// peer is a logged-in device of the benchmark's client process.
type peer interface {
	// send sends n messages to `to`, at most inflight without their
	// receipt, and returns once every receipt came.
	send(n, inflight int, to string) error
	// receive waits for n messages, sending a receipt for each to `to`.
	receive(n int, to string) error
}

// rawPeer is a logged-in XMPP device with stream management whose stream
// the benchmark reads itself.
type rawPeer struct {
	conn    net.Conn
	in, out []byte
	carry   int    // bytes of an unfinished tag kept at the front of in
	handled int64  // stanzas received since stream management was enabled
	ids     int    // messages (or receipts) sent before this run: ids stay unique
	ackOwed bool   // the server asked for an ack not yet sent (it asks once until answered)
	marker  []byte // counted in what arrives, when set (counts.marked)
}

func dialRawPeer(t testing.TB, addr, name string) *rawPeer {
	c := xmpptest.Dial(t, addr, xmpptest.Options{User: name, Password: "pw", Resource: "r",
		NoTLS: true, EnableSM: true, NoReader: true})
	p := &rawPeer{conn: c.Conn(), in: make([]byte, 64<<10), out: make([]byte, 0, 64<<10)}
	// A safety net: a benchmark whose peer fails must not hang.
	_ = p.conn.SetDeadline(time.Now().Add(10 * time.Minute))
	if err := p.write(append(p.out[:0], "<presence/>"...)); err != nil {
		t.Fatal(err)
	}
	return p
}

// counts is what one read brought: with a marker set, marked counts it
// and errors the error stanzas and stream errors.
type counts struct{ messages, stanzas, marked, errors int }

// read reads once and counts what arrived: the scenario's stanzas carry no
// nested <message>, <presence> or <iq>, so the tags at the start of an
// element say it all; an unfinished tag waits for the next read.
func (p *rawPeer) read() (counts, error) {
	n, err := p.conn.Read(p.in[p.carry:])
	if err != nil {
		return counts{}, fmt.Errorf("read: %w", err)
	}
	data := p.in[:p.carry+n]
	end := bytes.LastIndexByte(data, '>') + 1
	var c counts
	c.messages = bytes.Count(data[:end], []byte("<message"))
	c.stanzas = c.messages + bytes.Count(data[:end], []byte("<presence")) + bytes.Count(data[:end], []byte("<iq "))
	if p.marker != nil {
		c.marked = bytes.Count(data[:end], p.marker)
		c.errors = bytes.Count(data[:end], []byte(`type="error"`)) + bytes.Count(data[:end], []byte(`type='error'`)) +
			bytes.Count(data[:end], []byte("<stream:error"))
	}
	if bytes.Contains(data[:end], []byte("<r ")) {
		p.ackOwed = true
	}
	p.carry = copy(p.in, data[end:])
	p.handled += int64(c.stanzas)
	return c, nil
}

func (p *rawPeer) write(buf []byte) error {
	if _, err := p.conn.Write(buf); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}

// appendAck answers the server's ack request, if it made one.
func (p *rawPeer) appendAck(buf []byte) []byte {
	if !p.ackOwed {
		return buf
	}
	p.ackOwed = false
	buf = append(buf, "<a xmlns='urn:xmpp:sm:3' h='"...)
	buf = strconv.AppendInt(buf, p.handled, 10)
	return append(buf, "'/>"...)
}

// send sends n messages to `to`, at most inflight without their receipt.
func (p *rawPeer) send(n, inflight int, to string) error {
	sent, receipts := 0, 0
	for receipts < n {
		buf := p.out[:0]
		first := sent
		for sent < n && sent-receipts < inflight {
			buf = appendChatMessage(buf, to, p.ids+sent)
			sent++
		}
		if sent > first { // one ack request per write, as the client library does
			buf = append(buf, "<r xmlns='urn:xmpp:sm:3'/>"...)
		}
		buf = p.appendAck(buf)
		if len(buf) > 0 {
			if err := p.write(buf); err != nil {
				return err
			}
		}
		c, err := p.read()
		if err != nil {
			return err
		}
		receipts += c.messages
	}
	p.ids += n
	return nil
}

// receive waits for n messages, acking what the server asks and sending a
// receipt for each message to `to`.
func (p *rawPeer) receive(n int, to string) error {
	for got := 0; got < n; {
		c, err := p.read()
		if err != nil {
			return err
		}
		buf := p.out[:0]
		for i := range c.messages {
			buf = appendReceipt(buf, to, p.ids+got+i)
		}
		got += c.messages
		buf = p.appendAck(buf)
		if len(buf) > 0 {
			if err := p.write(buf); err != nil {
				return err
			}
		}
	}
	p.ids += n
	return nil
}

// appendChatMessage is the client library's SendMessage stanza.
func appendChatMessage(buf []byte, to string, i int) []byte {
	buf = append(buf, "<message to='"...)
	buf = append(buf, to...)
	buf = append(buf, "' type='chat' id='m"...)
	buf = strconv.AppendInt(buf, int64(i), 10)
	buf = append(buf, "'><body>bench message "...)
	buf = strconv.AppendInt(buf, int64(i), 10)
	buf = append(buf, " with a body of about the bench's size, one hundred bytes long or so</body>"+
		"<request xmlns='urn:xmpp:receipts'/><markable xmlns='urn:xmpp:chat-markers:0'/>"+
		"<origin-id xmlns='urn:xmpp:sid:0' id='m"...)
	buf = strconv.AppendInt(buf, int64(i), 10)
	return append(buf, "'/></message>"...)
}

// appendReceipt is the client library's SendReceipt stanza for message i.
func appendReceipt(buf []byte, to string, i int) []byte {
	buf = append(buf, "<message to='"...)
	buf = append(buf, to...)
	buf = append(buf, "' id='r"...)
	buf = strconv.AppendInt(buf, int64(i), 10)
	buf = append(buf, "'><received xmlns='urn:xmpp:receipts' id='m"...)
	buf = strconv.AppendInt(buf, int64(i), 10)
	return append(buf, "'/></message>"...)
}
