package turn

import (
	"io"
	"net"
	"sync"
)

// tracker remembers open sockets so that Close can end them: pion's
// Server.Close closes the listeners but neither the relay sockets of live
// allocations nor accepted TCP connections.
type tracker struct {
	mu     sync.Mutex
	open   map[io.Closer]struct{} // guarded by mu
	closed bool                   // guarded by mu
}

func newTracker() *tracker { return &tracker{open: make(map[io.Closer]struct{})} }

// add records c; it closes c at once when the tracker was closed.
func (t *tracker) add(c io.Closer) {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		_ = c.Close()
		return
	}
	t.open[c] = struct{}{}
	t.mu.Unlock()
}

func (t *tracker) remove(c io.Closer) {
	t.mu.Lock()
	delete(t.open, c)
	t.mu.Unlock()
}

// closeAll closes everything recorded and what is added later.
func (t *tracker) closeAll() {
	t.mu.Lock()
	t.closed = true
	open := t.open
	t.open = make(map[io.Closer]struct{})
	t.mu.Unlock()
	for c := range open {
		_ = c.Close()
	}
}

// trackedListener records the connections it accepts.
type trackedListener struct {
	net.Listener
	t *tracker
}

func (l trackedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: c, t: l.t}
	l.t.add(tc)
	return tc, nil
}

type trackedConn struct {
	net.Conn
	t    *tracker
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() { c.t.remove(c) })
	return c.Conn.Close()
}
