//go:build !linux

package c2s

// Elsewhere there is no parker: an idle connection keeps one goroutine
// waiting in the runtime's netpoller (still without a read buffer).
type parker struct{}

func newParker() (*parker, error) { return nil, nil }

func (p *parker) park(c *conn)        { go c.resumeWhenReadable() }
func (p *parker) unpark(c *conn) bool { return false }
func (p *parker) count() int          { return 0 }
func (p *parker) close()              {}

// unreadTraffic: without a parker every byte is read as it comes.
func (c *conn) unreadTraffic() bool { return false }

// outputDrained: without a parker the sweep's pings go through the
// session's mailbox.
func (c *conn) outputDrained() bool { return false }
