package media

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"path"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// SlotRequest is a client's request for an upload slot.
type SlotRequest struct {
	User        string // the uploader's bare JID
	Filename    string // as the client named the file (only shown, never a path)
	Size        int64
	ContentType string // "" for application/octet-stream
	SHA256      []byte // the hash of the bytes to come, or nil
}

// Slot is an upload slot: where to PUT the file, with which headers, and
// where it will be found.
type Slot struct {
	PutURL     string
	PutHeaders map[string]string
	GetURL     string
	Expires    time.Time // of the PUT URL
}

// Errors of NewSlot.
var (
	ErrTooLarge   = errors.New("media: file too large")
	ErrQuota      = errors.New("media: quota exceeded")
	ErrBadRequest = errors.New("media: invalid slot request")
)

// NewSlot checks a slot request against the size limit and the user's
// quota and returns the slot's signed URLs. Errors wrap ErrTooLarge,
// ErrQuota or ErrBadRequest, or are internal (the blob store failed).
func (s *Service) NewSlot(ctx context.Context, req SlotRequest) (Slot, error) {
	if req.Size < 0 || req.User == "" || (req.SHA256 != nil && len(req.SHA256) != 32) {
		s.m.rejections.WithLabelValues(reasonBadRequest).Inc()
		return Slot{}, fmt.Errorf("%w: size, user or hash", ErrBadRequest)
	}
	if req.Size > s.cfg.MaxFileSize {
		s.m.rejections.WithLabelValues(reasonTooLarge).Inc()
		return Slot{}, fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, req.Size, s.cfg.MaxFileSize)
	}
	user := s.sign.userHash(req.User)
	if err := s.checkQuota(ctx, user, "", req.Size); err != nil {
		if errors.Is(err, ErrQuota) {
			s.m.rejections.WithLabelValues(reasonQuota).Inc()
		}
		return Slot{}, err
	}
	now := s.cfg.Now()
	pc := putClaims{user: user, slot: newSlotID(req.Size), name: cleanName(req.Filename),
		ctype: cleanType(req.ContentType), size: req.Size, exp: now.Add(s.cfg.SlotTTL).Unix()}
	if req.SHA256 != nil {
		pc.sha = hex.EncodeToString(req.SHA256)
	}
	gc := getClaims{user: user, slot: pc.slot, exp: now.Add(s.cfg.SlotTTL + s.cfg.Retention).Unix()}
	s.m.slots.Inc()
	return Slot{
		PutURL:     putURL(s.cfg.BaseURL, pc),
		PutHeaders: map[string]string{"Authorization": "Bearer " + pc.sign(s.sign)},
		GetURL:     getURL(s.cfg.BaseURL, pc.name, gc, gc.sign(s.sign)),
		Expires:    time.Unix(pc.exp, 0),
	}, nil
}

// record describes a completed upload (JSON under slots/<user>/<slot>).
type record struct {
	SHA256   string    `json:"sha256"`
	Size     int64     `json:"size"`
	Type     string    `json:"type"`
	Name     string    `json:"name"`
	Uploaded time.Time `json:"uploaded"`
}

const maxRecordBytes = 4096

func (s *Service) readRecord(ctx context.Context, user, slot string) (record, error) {
	rc, err := s.cfg.Blobs.Open(ctx, recordKey(user, slot), 0, maxRecordBytes)
	if err != nil {
		return record{}, err
	}
	defer rc.Close()
	var rec record
	raw, err := io.ReadAll(rc)
	if err == nil {
		err = json.Unmarshal(raw, &rec)
	}
	if err == nil && (!shaRe.MatchString(rec.SHA256) || rec.Size < 0) {
		err = errors.New("invalid record")
	}
	if err != nil {
		return record{}, fmt.Errorf("media: slot record %s: %w", slot, err)
	}
	return rec, nil
}

func (s *Service) writeRecord(ctx context.Context, user, slot string, rec record) error {
	raw, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return s.cfg.Blobs.Put(ctx, recordKey(user, slot), strings.NewReader(string(raw)), int64(len(raw)))
}

// cleanName makes a client's file name safe to show and to put in a URL
// path and a Content-Disposition header: its last path element, without
// control characters, at most 200 bytes; "file" when nothing is left.
func cleanName(name string) string {
	name = strings.ToValidUTF8(name, "")
	name = path.Base(strings.ReplaceAll(name, `\`, "/"))
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '/' || unicode.Is(unicode.Bidi_Control, r) {
			return -1
		}
		return r
	}, name)
	name = strings.Trim(name, " .")
	for len(name) > 200 {
		_, n := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-n]
	}
	if name == "" {
		return "file"
	}
	return name
}

var tokenRe = regexp.MustCompile(`^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$`)

// cleanType keeps a media type's type/subtype (lower case, no parameters)
// when it is well formed, and says application/octet-stream otherwise.
func cleanType(ct string) string {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return "application/octet-stream"
	}
	typ, sub, ok := strings.Cut(strings.ToLower(mt), "/")
	if !ok || !tokenRe.MatchString(typ) || !tokenRe.MatchString(sub) {
		return "application/octet-stream"
	}
	return typ + "/" + sub
}
