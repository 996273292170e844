package server

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/parley-im/parley/internal/component"
	"github.com/parley-im/parley/internal/config"
	"github.com/parley-im/parley/internal/feature/push"
	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/wire/xmlstream"
)

// componentServer builds the XEP-0114 component server when --component is
// set (nil otherwise); secrets are read from their files here.
func (s *Server) componentServer(limits xmlstream.Limits, r component.Router) (*component.Server, error) {
	if s.cfg.Component == "" {
		return nil, nil
	}
	files, err := config.ComponentSecretFiles(s.cfg)
	if err != nil {
		return nil, fmt.Errorf("--component-secrets: %w", err)
	}
	secrets, err := readComponentSecrets(files)
	if err != nil {
		return nil, err
	}
	return component.NewServer(component.Config{Secrets: secrets, Limits: limits, Router: r,
		Log: s.log.With("component", "xep0114")}), nil
}

// remote routes stanzas for other domains to components (router.Config.Remote;
// s.components is set during build, before anything is routed).
func (s *Server) remote(ctx context.Context, st *stanza.Element, to jid.JID) *stanza.Error {
	if ok, err := s.hub.service(ctx, st, to); ok {
		return err
	}
	if s.components == nil {
		return stanza.NewError(stanza.RemoteServerNotFound, "this server talks to no other server")
	}
	return s.components.Route(ctx, st, to)
}

// pushFeature builds push notifications (XEP-0357) when an app server can
// be reached (config.PushEnabled), or nil.
func (s *Server) pushFeature() (*push.Feature, error) {
	if !config.PushEnabled(s.cfg) {
		return nil, nil
	}
	opts := push.Options{IncludeBody: s.cfg.PushIncludeBody, Interval: s.cfg.PushInterval,
		Metrics: push.NewMetrics(s.metrics)}
	if s.components != nil {
		opts.Components = s.components.Domains()
	}
	if s.cfg.PushWebhook != "" {
		secret, err := readWebhookSecret(s.cfg)
		if err != nil {
			return nil, err
		}
		opts.Webhook = push.WebhookOptions{URL: s.cfg.PushWebhook, Secret: secret}
	}
	return push.New(s.store, opts)
}

// readComponentSecrets reads the secret of each component (domain ->
// secret file), reporting every file that cannot serve.
func readComponentSecrets(files map[string]string) (map[string]string, error) {
	secrets := make(map[string]string, len(files))
	var errs []error
	for _, domain := range slices.Sorted(maps.Keys(files)) {
		b, err := os.ReadFile(files[domain])
		if err != nil {
			errs = append(errs, fmt.Errorf("--component-secrets: secret of %s: %w", domain, err))
			continue
		}
		if secrets[domain] = strings.TrimSpace(string(b)); secrets[domain] == "" {
			errs = append(errs, fmt.Errorf("--component-secrets: the secret file of %s is empty", domain))
		}
	}
	return secrets, errors.Join(errs...)
}

// readWebhookSecret reads the secret of --push-webhook-secret-file.
func readWebhookSecret(cfg config.Config) ([]byte, error) {
	secret, err := os.ReadFile(cfg.PushWebhookSecretFile)
	if err != nil {
		return nil, fmt.Errorf("--push-webhook-secret-file: %w", err)
	}
	return []byte(strings.TrimSpace(string(secret))), nil
}
