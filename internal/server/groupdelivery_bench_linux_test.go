package server

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/config"
	"github.com/parley-im/parley/internal/proccpu"
	"github.com/parley-im/parley/internal/xmpptest"
)

// BenchmarkGroupDelivery measures the server's whole path of a group post's
// copies to its online members, through real loopback sockets: u0 posts to
// a group of members (u0 included, every member online over XMPP, plain
// TCP, with stream management and Parley's ack promise, as `parley bench`'s
// devices make it); the server stores the post in the group outbox (synced
// before u0's ack), fans it out, encodes each member's copy and writes it
// to the member's connection, and takes the members' acks. One op is one
// copy delivered to a member other than the poster.
//
// posts-in-flight is how many posts u0 sends before the first of them has
// reached a member (u1): 1 makes each post a wave of its own (a post every
// now and then: one write per copy); 16 lets the fan-out take several posts
// in one wave and each member get them in one write, as under load; 64 is
// the best case, a server so busy that each wave is full (64 outbox
// entries) and all of it goes to the same members.
//
// The members run in a process of their own (this test binary again,
// TestGroupClientProcess) that reads their sockets and counts what arrives
// without parsing it, so that the clients cost far less than the server
// per copy (`parley bench`'s devices, the client library, cost as much as
// the server, and a run on two cores measures them both). This process is
// the server: server-µs/delivery is its CPU (getrusage) per copy,
// reads/delivery and writes/delivery its system calls, and
// deliveries/server-core-s is 1 / server-µs/delivery, what one core of
// this machine would deliver flat out; clients-µs/delivery is the
// client process's CPU. These divide by the copies delivered: b.N rounded
// up to whole posts, up to 1,022 more. ns/op, allocs/op and B/op divide by
// b.N, as every Go benchmark's: give -benchtime 100000x or more, so that
// the difference stays under 1%.
//
//	go test -c -o server.test ./internal/server && cd internal/server && \
//	  PARLEY_BENCH_CLIENT_CPUS=0 taskset -c 1 ../../server.test -test.run '^$' \
//	    -test.bench GroupDelivery -test.benchtime 200000x
func BenchmarkGroupDelivery(b *testing.B) {
	const members = 1024
	for _, window := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("members=%d/posts-in-flight=%d", members, window), func(b *testing.B) {
			benchGroupDelivery(b, members, window)
		})
	}
}

func benchGroupDelivery(b *testing.B, members, window int) {
	cfg := config.Default()
	cfg.Data = b.TempDir()
	cfg.C2S, cfg.C2STLS, cfg.Native, cfg.HTTP, cfg.Media, cfg.TURN = "127.0.0.1:0", "", "", "", "", ""
	cfg.AllowPlaintextAuth = true
	s := startConfiguredBenchServer(b, cfg)
	createBenchAccounts(b, s, members)
	owner := xmpptest.Dial(b, s.Addrs().C2S, xmpptest.Options{User: "u0", Password: "pw", Resource: "owner", NoTLS: true})
	names := make([]string, members-1)
	for i := range names {
		names[i] = "u" + strconv.Itoa(i+1)
	}
	group := createBenchGroup(b, owner, names)
	owner.Close()
	clients := startBenchClients(b, "TestGroupClientProcess",
		fmt.Sprintf("%s=%s %s %d %d", groupClientEnv, s.Addrs().C2S, group, members, window))
	clients.run(b, 20*(members-1)) // warm up: sessions, pools, the group's state
	posts := (b.N + members - 2) / (members - 1)
	copies := float64(posts * (members - 1))
	b.ReportAllocs()
	b.ResetTimer()
	before, ioBefore := proccpu.Now(), readIOCalls(b)
	clientCPU := clients.run(b, posts*(members-1))
	serverCPU, io := proccpu.Now()-before, readIOCalls(b).minus(ioBefore)
	b.StopTimer()
	perCopy := float64(serverCPU.Nanoseconds()) / 1e3 / copies
	b.ReportMetric(perCopy, "server-µs/delivery")
	b.ReportMetric(1e6/perCopy, "deliveries/server-core-s")
	b.ReportMetric(float64(io.reads)/copies, "reads/delivery")
	b.ReportMetric(float64(io.writes)/copies, "writes/delivery")
	b.ReportMetric(float64(clientCPU.Nanoseconds())/1e3/copies, "clients-µs/delivery")
}

// groupClientEnv set to "addr group members window" makes
// TestGroupClientProcess the client process of BenchmarkGroupDelivery: it
// logs u0 to u<members-1> in, says oneToOneReady, then for each number n
// read from its stdin has u0 post n/(members-1) times (window posts in
// flight) and waits until every other member has every copy.
const groupClientEnv = "PARLEY_GROUP_CLIENT"

// TestGroupClientProcess is BenchmarkGroupDelivery's client process, not a
// test: it is skipped unless the benchmark started it.
func TestGroupClientProcess(t *testing.T) {
	var addr, group string
	var members, window int
	clientProcessArgs(t, groupClientEnv, "BenchmarkGroupDelivery", &addr, &group, &members, &window)
	peers := make([]*rawPeer, members)
	for i := range peers {
		peers[i] = dialGroupPeer(t, addr, "u"+strconv.Itoa(i))
	}
	poster := &groupPoster{rawPeer: peers[0], peers: peers, group: group, window: window,
		reached: make(chan struct{}, 1), failed: make(chan error, 1)}
	go poster.readAll()
	serveRuns(t, func(n int) error { return poster.postTo(peers[1:], n/(members-1)) })
}

// dialGroupPeer is dialRawPeer for a member that promises to acknowledge
// before it closes (as `parley bench`'s devices do): the server then asks
// for acks lazily. It counts the posts' copies and the errors it gets.
func dialGroupPeer(t testing.TB, addr, name string) *rawPeer {
	c := xmpptest.Dial(t, addr, xmpptest.Options{User: name, Password: "pw", Resource: "r",
		NoTLS: true, EnableSM: true, AcksBeforeClose: true, NoReader: true})
	p := &rawPeer{conn: c.Conn(), in: make([]byte, 64<<10), out: make([]byte, 0, 4<<10), marker: []byte(groupPostMarker)}
	if err := p.write(append(p.out[:0], "<presence/>"...)); err != nil {
		t.Fatal(err)
	}
	return p
}

// groupPoster is u0: it posts, and its own reader answers the server's ack
// requests. reached gets a signal each time u1 counts a copy.
type groupPoster struct {
	*rawPeer
	peers   []*rawPeer // every member, u0 included
	group   string
	window  int
	reached chan struct{}
	failed  chan error   // the first failure (fail)
	atU1    atomic.Int64 // copies u1 has counted, all runs
	mu      sync.Mutex   // the poster's writes: posts, and its reader's acks
	posted  int          // posts sent, all runs
}

// runTimeout bounds one run: a run whose copies stop coming fails then.
const runTimeout = 10 * time.Minute

// fail records err as the run's failure, if it is the first, and ends
// every member's blocked read at once, so that the run ends with err
// instead of waiting for runTimeout.
func (p *groupPoster) fail(err error) {
	select {
	case p.failed <- err:
		for _, m := range p.peers {
			_ = m.conn.SetDeadline(time.Now())
		}
	default:
	}
}

// readAll reads u0's stream until it fails, answering ack requests; an
// error the server sends u0 (a refused post, a stream error) fails the run.
func (p *groupPoster) readAll() {
	for {
		c, err := p.read()
		if err == nil && c.errors > 0 {
			err = errors.New("the server answered a post with an error")
		}
		if err != nil {
			p.fail(fmt.Errorf("u0: %w", err))
			return
		}
		p.mu.Lock()
		buf := p.appendAck(nil)
		if len(buf) > 0 {
			err = p.write(buf)
		}
		p.mu.Unlock()
		if err != nil {
			p.fail(fmt.Errorf("u0: %w", err))
			return
		}
	}
}

// postTo posts n times, at most window posts ahead of u1 (members[0]), and
// returns when every member has counted exactly n more copies, or with
// the first failure.
func (p *groupPoster) postTo(members []*rawPeer, n int) error {
	for _, m := range p.peers {
		_ = m.conn.SetDeadline(time.Now().Add(runTimeout))
	}
	done := make(chan struct{}, len(members))
	for i, m := range members {
		go func() {
			if err := p.countCopies(m, n, i == 0); err != nil {
				p.fail(fmt.Errorf("u%d: %w", i+1, err))
			}
			done <- struct{}{}
		}()
	}
	for sent := 0; sent < n; {
		if int64(p.posted)-p.atU1.Load() >= int64(p.window) {
			select {
			case <-p.reached:
			case err := <-p.failed:
				return err
			}
			continue
		}
		p.mu.Lock()
		buf := appendGroupPost(p.out[:0], p.group, p.posted)
		buf = append(buf, "<r xmlns='urn:xmpp:sm:3'/>"...) // one per write, as the client library does
		err := p.write(buf)
		p.mu.Unlock()
		if err != nil {
			return err
		}
		p.posted++
		sent++
	}
	for range members {
		select {
		case <-done:
		case err := <-p.failed:
			return err
		}
	}
	return nil
}

// countCopies reads m's stream until n more posts came (the group's
// membership messages queued for it are not counted), answering ack
// requests; u1's count paces the poster. More than n (a copy twice) or an
// error from the server fails.
func (p *groupPoster) countCopies(m *rawPeer, n int, isU1 bool) error {
	got := 0
	for got < n {
		c, err := m.read()
		if err != nil {
			return err
		}
		if c.errors > 0 {
			return errors.New("the server sent an error")
		}
		got += c.marked
		if isU1 && c.marked > 0 {
			p.atU1.Add(int64(c.marked))
			select {
			case p.reached <- struct{}{}:
			default:
			}
		}
		if buf := m.appendAck(m.out[:0]); len(buf) > 0 {
			if err := m.write(buf); err != nil {
				return err
			}
		}
	}
	if got != n {
		return fmt.Errorf("%d copies of %d posts", got, n)
	}
	return nil
}

// groupPostMarker begins the body of every post.
const groupPostMarker = "group post "

// appendGroupPost is the client library's SendGroupMessage stanza, with a
// body of the bench's size.
func appendGroupPost(buf []byte, group string, i int) []byte {
	buf = append(buf, "<message to='"...)
	buf = append(buf, group...)
	buf = append(buf, "' type='groupchat' id='p"...)
	buf = strconv.AppendInt(buf, int64(i), 10)
	buf = append(buf, "'><body>"+groupPostMarker...)
	buf = strconv.AppendInt(buf, int64(i), 10)
	buf = append(buf, " with a body of about the bench's size, one hundred bytes long or so</body>"+
		"<origin-id xmlns='urn:xmpp:sid:0' id='p"...)
	buf = strconv.AppendInt(buf, int64(i), 10)
	return append(buf, "'/></message>"...)
}
