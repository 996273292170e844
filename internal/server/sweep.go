package server

import (
	"context"
	"time"

	"github.com/parley-im/parley/internal/router"
	"github.com/parley-im/parley/internal/session"
	"github.com/parley-im/parley/internal/stanza"
)

// keepAlive pings sessions that have been quiet for pingInterval and closes
// those that do not answer within pingTimeout (XEP-0199). One sweep over
// the registry replaces a timer per session.
func (s *Server) keepAlive(ctx context.Context) {
	every := max(time.Second, min(5*time.Second, s.cfg.PingInterval/4))
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.sweep(time.Now())
		}
	}
}

func (s *Server) sweep(now time.Time) {
	s.reg.Each(func(d router.Device) {
		sess, ok := d.(*session.Session)
		if !ok {
			return
		}
		if sent := sess.PingSent(); !sent.IsZero() {
			if now.Sub(sent) >= s.cfg.PingTimeout {
				sess.Close(stanza.NewStreamError(stanza.StreamConnectionTimeout, "no answer to ping"), true)
			}
			return
		}
		if now.Sub(sess.LastTraffic()) >= s.cfg.PingInterval {
			sess.Ping()
		}
	})
}

// flushLoop writes lazily persisted state (last activity) periodically.
func (s *Server) flushLoop(ctx context.Context) {
	t := time.NewTicker(10 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.lastActivity.Flush(ctx); err != nil {
				s.log.Warn("flushing last activity", "err", err)
			}
		}
	}
}
