package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/parley-im/parley/internal/config"
	"github.com/parley-im/parley/internal/feature/upload"
	"github.com/parley-im/parley/internal/media"
	"github.com/parley-im/parley/internal/media/blob"
)

// sweepInterval is how often the media retention sweeper runs.
const sweepInterval = time.Hour

// buildMedia binds the media listener (its address makes the slot URLs
// unless --media-url is set) and builds the media service.
func (s *Server) buildMedia() (*media.Service, error) {
	cfg := s.cfg
	if s.mediaLn != nil {
		cfg.Media = s.mediaLn.Addr().String() // a port chosen by the system
	}
	return NewMedia(context.Background(), cfg, s.log, s.metrics)
}

// NewMedia builds the media service described by cfg: the signing secret
// (created in the data directory on first start unless configured), the
// blob store (the data directory, or S3) and the limits.
func NewMedia(ctx context.Context, cfg config.Config, log *slog.Logger, reg prometheus.Registerer) (*media.Service, error) {
	secret, created, err := media.LoadOrCreateSecret(config.MediaSecretPath(cfg))
	if err != nil {
		return nil, err
	}
	if created {
		log.Info("created the media signing secret; share this file with every chat and media server of the deployment",
			"file", config.MediaSecretPath(cfg))
	}
	blobs, err := openBlobs(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return media.New(media.Config{
		BaseURL: config.MediaBaseURL(cfg), Secret: secret, Blobs: blobs,
		StagingDir:  filepath.Join(cfg.Data, "media", "staging"),
		MaxFileSize: int64(cfg.MediaMaxFileSize), Quota: int64(cfg.MediaQuota), Retention: cfg.MediaRetention,
		Log: log.With("component", "media"), Registerer: reg,
	})
}

func openBlobs(ctx context.Context, cfg config.Config) (blob.Store, error) {
	if cfg.MediaS3Endpoint == "" {
		return blob.NewFS(filepath.Join(cfg.Data, "media", "blobs"))
	}
	key, err := readS3SecretKey(cfg)
	if err != nil {
		return nil, err
	}
	return blob.NewS3(ctx, blob.S3Config{Endpoint: cfg.MediaS3Endpoint, Bucket: cfg.MediaS3Bucket, Region: cfg.MediaS3Region,
		AccessKey: cfg.MediaS3AccessKey, SecretKey: key})
}

// readS3SecretKey reads the key of --media-s3-secret-key-file.
func readS3SecretKey(cfg config.Config) (string, error) {
	key, err := os.ReadFile(cfg.MediaS3SecretKeyFile)
	if err != nil {
		return "", fmt.Errorf("--media-s3-secret-key-file: %w", err)
	}
	return strings.TrimSpace(string(key)), nil
}

// mediaSlots adapts the media service to the upload feature.
type mediaSlots struct{ svc *media.Service }

func (m mediaSlots) Slot(ctx context.Context, r upload.Request) (upload.Slot, error) {
	s, err := m.svc.NewSlot(ctx, media.SlotRequest{User: r.User.String(), Filename: r.Filename, Size: r.Size,
		ContentType: r.ContentType, SHA256: r.SHA256})
	switch {
	case errors.Is(err, media.ErrTooLarge):
		return upload.Slot{}, upload.ErrTooLarge
	case errors.Is(err, media.ErrQuota):
		return upload.Slot{}, upload.ErrQuota
	case err != nil:
		return upload.Slot{}, err
	}
	return upload.Slot{PutURL: s.PutURL, GetURL: s.GetURL, PutHeaders: s.PutHeaders}, nil
}

// mediaServer is the HTTP server of the media listener inside "parley serve".
func mediaServer(svc *media.Service) *http.Server {
	return newHTTPServer(svc, httpIdleTimeout)
}

// RunMedia runs a standalone media server ("parley media"): the media API
// on --media, with /metrics and /healthz, and the retention sweeper, until
// ctx is cancelled.
func RunMedia(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	if cfg.Media == "" {
		return errors.New("--media: a listener address is required")
	}
	if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
		return fmt.Errorf("creating data directory: %w", err)
	}
	ln, err := net.Listen("tcp", cfg.Media)
	if err != nil {
		return fmt.Errorf("listening on --media %s: %w", cfg.Media, err)
	}
	defer ln.Close()
	cfg.Media = ln.Addr().String()
	reg := prometheus.NewRegistry()
	svc, err := NewMedia(ctx, cfg, log, reg)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/", svc)
	mux.Handle("GET /metrics", metricsHandler(cfg, reg))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{"status":"ok"}` + "\n")) })
	hs := newHTTPServer(clientAddress(config.TrustedProxyList(cfg), mux), httpIdleTimeout)
	go svc.RunSweeper(ctx, sweepInterval)
	log.Info("parley media is serving", "media", ln.Addr().String(), "url", config.MediaBaseURL(cfg), "data", cfg.Data,
		"s3", cfg.MediaS3Endpoint != "", "version", Version())
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case <-ctx.Done():
	case err := <-errc:
		return err
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = hs.Shutdown(sctx)
	log.Info("stopped")
	return nil
}
