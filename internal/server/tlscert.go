package server

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/parley-im/parley/internal/selfsigned"
)

// loadOrCreateCertificate returns the configured certificate, or a
// self-signed one kept in dataDir/tls (created on first start).
func loadOrCreateCertificate(certFile, keyFile, dataDir, domain string) (tls.Certificate, bool, error) {
	if certFile != "" {
		c, err := loadCertificate(certFile, keyFile)
		return c, false, err
	}
	dir := filepath.Join(dataDir, "tls")
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if c, err := tls.LoadX509KeyPair(certFile, keyFile); err == nil {
		return c, false, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return tls.Certificate{}, false, fmt.Errorf("loading %s: %w", certFile, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return tls.Certificate{}, false, err
	}
	certPEM, keyPEM, err := selfsigned.PEM(domain)
	if err != nil {
		return tls.Certificate{}, false, err
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		return tls.Certificate{}, false, err
	}
	if err := os.WriteFile(certFile, certPEM, 0o644); err != nil {
		return tls.Certificate{}, false, err
	}
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	return c, true, err
}

// loadCertificate loads the certificate of --tls-cert and --tls-key.
func loadCertificate(certFile, keyFile string) (tls.Certificate, error) {
	c, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("loading --tls-cert/--tls-key: %w", err)
	}
	return c, nil
}
