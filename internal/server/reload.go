package server

import (
	"crypto/tls"
	"fmt"
	"reflect"
	"sync/atomic"

	"github.com/parley-im/parley/internal/config"
)

// certificate returns the TLS certificate new connections get (the
// tls.Config's GetCertificate): Reload swaps it without a restart.
func (s *Server) certificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return s.cert.Load(), nil
}

// reloadable reports the settings Reload applies while the server runs
// (the log level is the caller's: it owns the logger).
func reloadable(key string) bool {
	switch key {
	case "tls_cert", "tls_key", "log_level", "ping_interval", "ping_timeout", "mailbox_size", "auth_failures_per_minute":
		return true
	}
	return false
}

// liveLimits are the limits a reload changes while the server runs; read
// at each use.
type liveLimits struct {
	pingInterval, pingTimeout atomic.Int64 // nanoseconds
	mailbox                   atomic.Int64 // stanzas queued per session
}

func (l *liveLimits) set(cfg config.Config) {
	l.pingInterval.Store(int64(cfg.PingInterval))
	l.pingTimeout.Store(int64(cfg.PingTimeout))
	l.mailbox.Store(int64(cfg.MailboxSize))
}

func (l *liveLimits) mailboxSize() int { return int(l.mailbox.Load()) }

// Reload applies a changed configuration to the running server: a new TLS
// certificate (from --tls-cert/--tls-key, or the self-signed one in the data
// directory) for new connections; the keep-alive ping interval and timeout
// (at the next sweep), the mailbox size (for every session, at its next
// delivery) and the login failures allowed per address. It returns the settings that changed but
// take a restart to apply. A bad certificate leaves the current one in use.
func (s *Server) Reload(cfg config.Config) (needRestart []string, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cert, _, err := loadOrCreateCertificate(cfg.TLSCert, cfg.TLSKey, cfg.Data, cfg.Domain)
	if err != nil {
		return nil, fmt.Errorf("keeping the current TLS certificate: %w", err)
	}
	s.cert.Store(&cert)
	s.live.set(cfg)
	s.failures.SetMax(cfg.AuthFailuresPerMinute)
	needRestart = changedSettings(s.cfg, cfg)
	s.log.Info("configuration reloaded", "restart_needed_for", needRestart)
	return needRestart, nil
}

// changedSettings lists the config keys that differ, reloadable ones aside.
func changedSettings(old, cur config.Config) []string {
	var out []string
	ov, cv := reflect.ValueOf(old), reflect.ValueOf(cur)
	t := ov.Type()
	for i := range t.NumField() {
		key := t.Field(i).Tag.Get("toml")
		if key == "" || reloadable(key) {
			continue
		}
		if !reflect.DeepEqual(ov.Field(i).Interface(), cv.Field(i).Interface()) {
			out = append(out, key)
		}
	}
	return out
}
