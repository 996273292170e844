package media

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/parley-im/parley/internal/media/blob"
)

// SweepStats counts what one sweep removed.
type SweepStats struct {
	Records, Blobs, Staged int
}

// RunSweeper sweeps every interval until ctx is done.
func (s *Service) RunSweeper(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		st, err := s.Sweep(ctx)
		if err != nil && ctx.Err() == nil {
			s.log.Error("media: retention sweep", "err", err)
		} else if st != (SweepStats{}) {
			s.log.Info("media: retention sweep", "records", st.Records, "blobs", st.Blobs, "staged", st.Staged)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Sweep applies the retention: it removes slot records older than the
// retention, then blobs that no remaining record references (and that are
// older than a slot's lifetime, so an upload completing meanwhile keeps its
// new blob, and that no upload stored during the sweep reuses), then
// partial uploads whose PUT URL has expired.
func (s *Service) Sweep(ctx context.Context) (SweepStats, error) {
	s.sweeping.Lock()
	defer s.sweeping.Unlock()
	defer s.watchStores()() // from before the records are listed to the end
	var st SweepStats
	now := s.cfg.Now()
	live := make(map[string]bool)
	var expired []string
	err := s.cfg.Blobs.List(ctx, "slots/", func(i blob.Info) error {
		parts := strings.Split(i.Key, "/")
		if len(parts) != 3 {
			return nil
		}
		rec, err := s.readRecord(ctx, parts[1], parts[2])
		switch {
		case err != nil:
			live[""] = true // unreadable: keep every blob this time
		case now.Sub(rec.Uploaded) > s.cfg.Retention:
			expired = append(expired, i.Key)
		default:
			live[rec.SHA256] = true
		}
		return nil
	})
	if err != nil {
		return st, err
	}
	for _, k := range expired {
		if err := s.cfg.Blobs.Delete(ctx, k); err != nil {
			return st, err
		}
		st.Records++
	}
	if st.Blobs, err = s.sweepBlobs(ctx, live, now); err != nil {
		return st, err
	}
	st.Staged = s.sweepStaging(now)
	s.m.swept.Add(float64(st.Records + st.Blobs + st.Staged))
	return st, nil
}

// sweepBlobs deletes blobs that no live record references.
func (s *Service) sweepBlobs(ctx context.Context, live map[string]bool, now time.Time) (int, error) {
	if live[""] {
		return 0, nil
	}
	s.finishing.Lock() // no upload of this process completes meanwhile
	defer s.finishing.Unlock()
	s.keepStoredDuringSweep(live)
	var orphans []string
	err := s.cfg.Blobs.List(ctx, "blobs/", func(i blob.Info) error {
		if !live[filepath.Base(i.Key)] && now.Sub(i.Modified) > s.cfg.SlotTTL {
			orphans = append(orphans, i.Key)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	for _, k := range orphans {
		if err := s.cfg.Blobs.Delete(ctx, k); err != nil {
			return 0, err
		}
	}
	return len(orphans), nil
}

// watchStores starts collecting the hashes of the uploads stored from now
// on, until the returned function is called.
func (s *Service) watchStores() (stop func()) {
	s.mu.Lock()
	s.storedDuringSweep = make(map[string]bool)
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		s.storedDuringSweep = nil
		s.mu.Unlock()
	}
}

// keepStoredDuringSweep adds to live the hashes of the uploads stored since
// the sweep began listing the records. The caller holds finishing, so that
// none is stored while the orphans are deleted.
func (s *Service) keepStoredDuringSweep(live map[string]bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for sum := range s.storedDuringSweep {
		live[sum] = true
	}
}

// sweepStaging removes partial uploads untouched for longer than a PUT
// URL lives (they can no longer be resumed).
func (s *Service) sweepStaging(now time.Time) int {
	entries, err := os.ReadDir(s.cfg.StagingDir)
	if err != nil {
		return 0
	}
	n := 0
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil || now.Sub(fi.ModTime()) <= s.cfg.SlotTTL {
			continue
		}
		if os.Remove(filepath.Join(s.cfg.StagingDir, e.Name())) == nil {
			n++
		}
	}
	return n
}
