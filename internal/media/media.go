package media

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/parley-im/parley/internal/media/blob"
)

// Config configures a Service.
type Config struct {
	// BaseURL is the public URL of the media listener's root, as clients
	// reach it (for example https://media.example.org), without a trailing
	// slash. Slot URLs are made from it.
	BaseURL string
	// Secret signs slot URLs; every chat and media server of a deployment
	// shares it. At least MinSecretBytes.
	Secret []byte
	// Blobs stores the files and the slot records.
	Blobs blob.Store
	// StagingDir holds partial uploads (local to this media server).
	StagingDir string
	// MaxFileSize is the largest file accepted, in bytes.
	MaxFileSize int64
	// Quota is the most bytes one user may have stored or be uploading
	// (staged here) at a time (0: no limit).
	Quota int64
	// Retention is how long a file stays after its upload.
	Retention time.Duration
	// SlotTTL is how long a PUT URL stays valid (default 24h, so that a
	// large upload over a bad network can resume for a day).
	SlotTTL time.Duration
	// Log receives the server's logs (never a signature or a secret).
	Log *slog.Logger
	// Registerer receives the metrics (nil: not registered).
	Registerer prometheus.Registerer
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Service is the media server: it makes upload slots and serves the HTTP API.
type Service struct {
	cfg     Config
	sign    signer
	log     *slog.Logger
	m       *metrics
	handler http.Handler

	mu   sync.Mutex
	busy map[string]bool // slots with an upload in progress; guarded by mu

	users userLocks // a user's quota checks and what they allow, one at a time

	// finishing is held for reading while an upload completes and for
	// writing while the sweeper deletes, so that it never deletes a blob
	// that a new slot record is about to reference.
	finishing sync.RWMutex

	// sweeping runs one sweep at a time.
	sweeping sync.Mutex
	// storedDuringSweep holds, while a sweep runs (nil otherwise), the
	// hashes of the uploads stored since it began listing the records: the
	// listing may have missed their records, so the sweep keeps their
	// blobs. Guarded by mu.
	storedDuringSweep map[string]bool
}

// New checks cfg and returns a Service.
func New(cfg Config) (*Service, error) {
	switch {
	case len(cfg.Secret) < MinSecretBytes:
		return nil, fmt.Errorf("media: the secret must be at least %d bytes", MinSecretBytes)
	case cfg.Blobs == nil:
		return nil, errors.New("media: no blob store")
	case cfg.MaxFileSize <= 0:
		return nil, errors.New("media: the maximum file size must be positive")
	case cfg.Retention <= 0:
		return nil, errors.New("media: the retention must be positive")
	case cfg.StagingDir == "":
		return nil, errors.New("media: no staging directory")
	}
	if cfg.SlotTTL <= 0 {
		cfg.SlotTTL = 24 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	cfg.BaseURL = strings.TrimSuffix(cfg.BaseURL, "/")
	if err := os.MkdirAll(cfg.StagingDir, 0o700); err != nil {
		return nil, fmt.Errorf("media: staging directory: %w", err)
	}
	s := &Service{cfg: cfg, sign: signer{key: cfg.Secret}, log: cfg.Log, m: newMetrics(cfg.Registerer),
		busy: make(map[string]bool)}
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /upload/{user}/{slot}/{name}", s.put)
	mux.HandleFunc("HEAD /upload/{user}/{slot}/{name}", s.uploadStatus)
	mux.HandleFunc("GET /media/{user}/{slot}/{name}", s.get) // and HEAD
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		s.refuse(w, http.StatusNotFound, reasonNotFound, "not found")
	})
	s.handler = mux
	return s, nil
}

// BaseURL is the public URL the slots point to.
func (s *Service) BaseURL() string { return s.cfg.BaseURL }

// MaxFileSize is the largest file accepted, in bytes.
func (s *Service) MaxFileSize() int64 { return s.cfg.MaxFileSize }

// ServeHTTP serves the media API.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	setCORS(w.Header())
	if preflight(w, r) {
		return
	}
	s.handler.ServeHTTP(w, r)
}

// refuse answers an error: the status and a one-line reason in the body.
func (s *Service) refuse(w http.ResponseWriter, status int, reason, text string) {
	s.m.rejections.WithLabelValues(reason).Inc()
	h := w.Header()
	for _, k := range []string{"Content-Disposition", "ETag", "Cache-Control", "Accept-Ranges"} {
		h.Del(k)
	}
	if status != http.StatusRequestedRangeNotSatisfiable {
		h.Del("Content-Range")
	}
	http.Error(w, text, status)
}

// refuseURL answers a request whose signed URL did not check out.
func (s *Service) refuseURL(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, errExpired):
		s.refuse(w, http.StatusForbidden, reasonExpired, "URL expired")
	case errors.Is(err, errSignature):
		s.refuse(w, http.StatusForbidden, reasonSignature, "invalid signature")
	default:
		s.refuse(w, http.StatusBadRequest, reasonBadRequest, "malformed URL")
	}
}

// Keys in the blob store.
func blobKey(sha string) string          { return "blobs/" + sha[:2] + "/" + sha }
func recordKey(user, slot string) string { return "slots/" + user + "/" + slot }
