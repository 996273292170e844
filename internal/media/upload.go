package media

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/parley-im/parley/internal/media/blob"
)

// An upload is one PUT: the whole file, or with Content-Range one part of
// it starting where the staged bytes end (a resumed upload).
//
//	PUT  /upload/<user>/<slot>/<name>?size=&type=&exp=[&sha256=]   Authorization: Bearer <sig>
//	     201 Created                 the file is complete and stored
//	     204 No Content              a part was stored; Upload-Offset says how much is staged
//	HEAD the same URL                200 with Upload-Offset (and Upload-Complete: ?1 when done)

// span is the part of the file a PUT carries: bytes [from, from+n).
type span struct {
	from, n int64
	partial bool // sent with Content-Range
}

// errTooLarge marks a Content-Range whose total exceeds the slot.
var errTooLarge = errors.New("Content-Range total larger than the slot")

// parseSpan reads Content-Range ("bytes a-b/total") or, without it, takes
// the whole file.
func parseSpan(r *http.Request, size int64) (span, error) {
	cr := r.Header.Get("Content-Range")
	if cr == "" {
		return span{from: 0, n: size}, nil
	}
	rng, ok := strings.CutPrefix(cr, "bytes ")
	first, rest, ok1 := strings.Cut(rng, "-")
	last, total, ok2 := strings.Cut(rest, "/")
	a, err1 := strconv.ParseInt(first, 10, 64)
	b, err2 := strconv.ParseInt(last, 10, 64)
	t, err3 := strconv.ParseInt(total, 10, 64)
	if !ok || !ok1 || !ok2 || err1 != nil || err2 != nil || err3 != nil || a < 0 || b < a {
		return span{}, errors.New("malformed Content-Range (want bytes first-last/total)")
	}
	switch {
	case t > size:
		return span{}, errTooLarge
	case t != size || b >= t:
		return span{}, errors.New("Content-Range does not fit the slot's size")
	}
	return span{from: a, n: b - a + 1, partial: true}, nil
}

func (s *Service) put(w http.ResponseWriter, r *http.Request) {
	c, err := parsePut(s.sign, r, s.cfg.Now())
	if err != nil {
		s.refuseURL(w, err)
		return
	}
	if c.size > s.cfg.MaxFileSize {
		s.refuse(w, http.StatusRequestEntityTooLarge, reasonTooLarge, "file larger than the server's limit")
		return
	}
	sp, err := parseSpan(r, c.size)
	switch {
	case errors.Is(err, errTooLarge):
		s.refuse(w, http.StatusRequestEntityTooLarge, reasonTooLarge, "larger than the slot")
		return
	case err != nil:
		s.refuse(w, http.StatusBadRequest, reasonBadRequest, err.Error())
		return
	case r.ContentLength > sp.n:
		s.refuse(w, http.StatusRequestEntityTooLarge, reasonTooLarge, "larger than the slot")
		return
	case r.ContentLength >= 0 && r.ContentLength < sp.n:
		s.refuse(w, http.StatusBadRequest, reasonBadRequest, "Content-Length differs from the slot's size (send a part with Content-Range)")
		return
	}
	if !s.acquire(c.slot) {
		s.refuse(w, http.StatusConflict, reasonBusy, "an upload to this slot is in progress")
		return
	}
	defer s.release(c.slot)
	s.upload(w, r, c, sp)
}

// upload stages the request's bytes and completes the file when they are all there.
func (s *Service) upload(w http.ResponseWriter, r *http.Request, c putClaims, sp span) {
	ctx := context.WithoutCancel(r.Context()) // a completed upload is stored even if the client is gone
	if s.used(ctx, c) {
		s.refuse(w, http.StatusConflict, reasonUsed, "slot already used")
		return
	}
	st, err := s.admit(ctx, c, sp)
	var off *offsetError
	switch {
	case errors.As(err, &off):
		w.Header().Set("Upload-Offset", strconv.FormatInt(off.have, 10))
		s.refuse(w, http.StatusConflict, reasonBadRequest, "Content-Range must start at the staged offset")
		return
	case errors.Is(err, ErrQuota):
		s.refuse(w, http.StatusRequestEntityTooLarge, reasonQuota, "quota exceeded (stored files and unfinished uploads count)")
		return
	case err != nil:
		s.internal(w, "staging an upload", err)
		return
	}
	defer st.close()
	n, err := st.receive(r.Body, sp.n)
	s.m.uploadBytes.Add(float64(n))
	switch {
	case errors.Is(err, errTooLarge):
		s.refuse(w, http.StatusRequestEntityTooLarge, reasonTooLarge, "larger than the slot")
		return
	case err != nil:
		_ = st.f.Sync() // what arrived stays for a resumption
		s.log.Info("upload interrupted; the staged part can be resumed", "slot", c.slot[:8], "staged", st.have, "err", err)
		s.refuse(w, http.StatusBadRequest, reasonBadRequest, "upload interrupted")
		return
	}
	if st.have < c.size {
		if err := st.f.Sync(); err != nil { // the offset announced is durable
			s.internal(w, "syncing a partial upload", err)
			return
		}
		w.Header().Set("Upload-Offset", strconv.FormatInt(st.have, 10))
		w.WriteHeader(http.StatusNoContent)
		return
	}
	s.complete(ctx, w, c, st)
}

// admit opens the slot's staging file if the user's quota has room for the
// whole slot besides the user's stored files and other unfinished uploads.
// The check and the file's creation are one step per user, so that a
// concurrent upload of the same user counts this one.
func (s *Service) admit(ctx context.Context, c putClaims, sp span) (*staged, error) {
	unlock := s.users.lock(c.user)
	defer unlock()
	if err := s.checkQuota(ctx, c.user, c.slot, c.size); err != nil {
		return nil, err
	}
	return s.openStaged(c, sp)
}

// complete checks the staged file and stores it as a blob and a slot record.
func (s *Service) complete(ctx context.Context, w http.ResponseWriter, c putClaims, st *staged) {
	sum, err := st.sum()
	if err != nil {
		s.internal(w, "hashing an upload", err)
		return
	}
	if c.sha != "" && sum != c.sha {
		st.discard()
		s.refuse(w, http.StatusBadRequest, reasonHash, "the bytes do not match the declared SHA-256")
		return
	}
	err = s.storeWithinQuota(ctx, c, st, sum)
	switch {
	case errors.Is(err, ErrQuota):
		st.discard()
		s.refuse(w, http.StatusRequestEntityTooLarge, reasonQuota, "quota exceeded")
		return
	case err != nil:
		s.internal(w, "storing an upload", err)
		return
	}
	s.m.uploads.Inc()
	w.Header().Set("ETag", `"`+sum+`"`)
	w.WriteHeader(http.StatusCreated)
}

// storeWithinQuota stores the upload and removes its staging file if the
// user's quota still has room for it (another media server on the same
// store may have added files since the upload was admitted). The check,
// the storing and the removal are one step per user, so that concurrent
// completions of one user cannot all pass a check that only some fit.
func (s *Service) storeWithinQuota(ctx context.Context, c putClaims, st *staged, sum string) error {
	unlock := s.users.lock(c.user)
	defer unlock()
	if err := s.checkQuota(ctx, c.user, c.slot, c.size); err != nil {
		return err
	}
	if err := s.store(ctx, c, st, sum); err != nil {
		return err
	}
	st.discard()
	return nil
}

// store writes the blob (unless identical bytes are stored already) and
// then the slot record.
func (s *Service) store(ctx context.Context, c putClaims, st *staged, sum string) error {
	s.finishing.RLock()
	defer s.finishing.RUnlock()
	key := blobKey(sum)
	if info, err := s.cfg.Blobs.Stat(ctx, key); err == nil && info.Size == c.size {
		s.m.dedup.Inc()
	} else {
		if _, err := st.f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		if err := s.cfg.Blobs.Put(ctx, key, st.f, c.size); err != nil {
			return err
		}
	}
	err := s.writeRecord(ctx, c.user, c.slot, record{SHA256: sum, Size: c.size, Type: c.ctype, Name: c.name,
		Uploaded: s.cfg.Now().UTC()})
	if err == nil {
		s.noteStored(sum)
	}
	return err
}

// noteStored tells a running sweep that a record of these bytes was
// written. It comes after the write and before finishing is released: a
// sweep that began listing the records before the write is already
// watching and keeps the blob, even one reused without being rewritten
// (its modification time can be older than a slot's lifetime); a sweep
// that began after lists the record.
func (s *Service) noteStored(sum string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.storedDuringSweep != nil {
		s.storedDuringSweep[sum] = true
	}
}

// used reports whether the slot already holds a completed upload.
func (s *Service) used(ctx context.Context, c putClaims) bool {
	_, err := s.cfg.Blobs.Stat(ctx, recordKey(c.user, c.slot))
	return !errors.Is(err, blob.ErrNotFound)
}

// uploadStatus answers HEAD on an upload URL: how much is staged.
func (s *Service) uploadStatus(w http.ResponseWriter, r *http.Request) {
	c, err := parsePut(s.sign, r, s.cfg.Now())
	if err != nil {
		s.refuseURL(w, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	if s.used(r.Context(), c) {
		w.Header().Set("Upload-Offset", strconv.FormatInt(c.size, 10))
		w.Header().Set("Upload-Complete", "?1")
		return
	}
	var have int64
	if fi, err := os.Stat(s.stagingPath(c)); err == nil {
		have = fi.Size()
	}
	w.Header().Set("Upload-Offset", strconv.FormatInt(have, 10))
	w.Header().Set("Upload-Complete", "?0")
}

// internal answers 500 and logs the cause.
func (s *Service) internal(w http.ResponseWriter, what string, err error) {
	s.log.Error("media: "+what, "err", err)
	s.refuse(w, http.StatusInternalServerError, reasonInternal, "internal error")
}

func (s *Service) acquire(slot string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.busy[slot] {
		return false
	}
	s.busy[slot] = true
	return true
}

func (s *Service) release(slot string) {
	s.mu.Lock()
	delete(s.busy, slot)
	s.mu.Unlock()
}

// staged is the staging file of one slot, open for an upload.
type staged struct {
	f    *os.File
	have int64     // bytes staged
	h    hash.Hash // hash of bytes [0, have) when they all came in this request, else nil
}

type offsetError struct{ have int64 }

func (e *offsetError) Error() string { return fmt.Sprintf("staged offset is %d", e.have) }

// stagingPath is the slot's staging file; its name is made of the checked
// user hash and slot id only.
func (s *Service) stagingPath(c putClaims) string {
	return filepath.Join(s.cfg.StagingDir, c.user+"-"+c.slot)
}

// openStaged opens the slot's staging file positioned for sp: truncated
// for a whole-file PUT, at the end for a part that continues it.
func (s *Service) openStaged(c putClaims, sp span) (*staged, error) {
	f, err := os.OpenFile(s.stagingPath(c), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	st := &staged{f: f}
	fi, err := f.Stat()
	if err == nil && !sp.partial {
		err = f.Truncate(0)
	} else if err == nil {
		st.have = fi.Size()
	}
	if err == nil && sp.from != st.have {
		err = &offsetError{have: st.have}
	}
	if err == nil {
		_, err = f.Seek(st.have, io.SeekStart)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	if st.have == 0 {
		st.h = sha256.New()
	}
	return st, nil
}

// receive appends up to n bytes of body (unsynced: the caller syncs a
// partial upload; a complete one is synced by the blob store). More than n is errTooLarge (and
// nothing of this request is kept); an interrupted body keeps what arrived.
func (st *staged) receive(body io.Reader, n int64) (int64, error) {
	var w io.Writer = st.f
	if st.h != nil {
		w = io.MultiWriter(st.f, st.h)
	}
	got, err := io.Copy(w, io.LimitReader(body, n))
	if err == nil && got == n {
		var one [1]byte
		if k, _ := io.ReadFull(body, one[:]); k > 0 {
			_ = st.f.Truncate(st.have)
			return 0, errTooLarge
		}
	}
	st.have += got
	if err == nil && got < n {
		err = io.ErrUnexpectedEOF
	}
	return got, err
}

// sum returns the SHA-256 of the staged file, in hex.
func (st *staged) sum() (string, error) {
	if st.h != nil {
		return hex.EncodeToString(st.h.Sum(nil)), nil
	}
	h := sha256.New()
	if _, err := st.f.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	if _, err := io.Copy(h, st.f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func (st *staged) close() { _ = st.f.Close() }

// discard removes the staging file (the upload is done or refused).
func (st *staged) discard() { _ = os.Remove(st.f.Name()) }
