package server

import (
	"errors"

	"github.com/parley-im/parley/internal/config"
)

// CheckFiles reads the files cfg names as the servers read them at start
// (the TLS certificate and key, the secrets of components, of the push
// webhook and of S3) and returns every problem, so that "parley config
// check" finds what "parley serve" would fail on. Files a server creates
// when they are missing (the self-signed certificate, the media and TURN
// secrets) are not checked, and settings Validate refuses are left to it.
func CheckFiles(cfg config.Config) error {
	var errs []error
	if cfg.TLSCert != "" && cfg.TLSKey != "" {
		_, err := loadCertificate(cfg.TLSCert, cfg.TLSKey)
		errs = append(errs, err)
	}
	if files, err := config.ComponentSecretFiles(cfg); err == nil {
		_, err := readComponentSecrets(files)
		errs = append(errs, err)
	}
	if cfg.PushWebhookSecretFile != "" {
		_, err := readWebhookSecret(cfg)
		errs = append(errs, err)
	}
	if cfg.MediaS3SecretKeyFile != "" {
		_, err := readS3SecretKey(cfg)
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
