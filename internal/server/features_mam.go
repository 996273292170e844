package server

import (
	"time"

	"github.com/parley-im/parley/internal/feature/mam"
)

// archiveSweepInterval is how often the archive retention sweeper runs.
const archiveSweepInterval = 10 * time.Minute

// archiveFeature builds message archive management (XEP-0313), or nil with
// --no-server-history: then nothing is archived and MAM is not offered.
func (s *Server) archiveFeature(codec mam.Codec) (*mam.Feature, error) {
	if s.cfg.NoServerHistory {
		return nil, nil
	}
	opts := mam.DefaultOptions()
	opts.Retention = s.cfg.ArchiveRetention
	// A page waits in the device's mailbox until the query returns.
	opts.MaxPage = max(1, min(opts.MaxPage, s.cfg.MailboxSize/2))
	opts.DefaultPage = min(opts.DefaultPage, opts.MaxPage)
	return mam.New(s.store, codec, opts)
}
