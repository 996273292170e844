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
	for {
		every := max(time.Second, min(5*time.Second, time.Duration(s.live.pingInterval.Load())/4))
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
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
			if now.Sub(sent) >= time.Duration(s.live.pingTimeout.Load()) {
				sess.Close(stanza.NewStreamError(stanza.StreamConnectionTimeout, "no answer to ping"), true)
			}
			return
		}
		if now.Sub(sess.LastTraffic()) >= time.Duration(s.live.pingInterval.Load()) {
			sess.PingNow()
		}
	})
}

// flushLoop writes lazily persisted state (last activity) periodically,
// and deletes expired resumption records.
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
			if _, err := s.store.DeleteExpiredResumptions(ctx, time.Now()); err != nil {
				s.log.Warn("deleting expired resumption records", "err", err)
			}
		}
	}
}
