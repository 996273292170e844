package media

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// MinSecretBytes is the shortest signing secret accepted.
const MinSecretBytes = 16

// LoadOrCreateSecret reads the signing secret from path, creating the file
// with 32 random bytes (hex, mode 0600) when it does not exist. created
// reports whether it was made now. Surrounding white space is not part of
// the secret.
func LoadOrCreateSecret(path string) (secret []byte, created bool, err error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return createSecret(path)
	}
	if err != nil {
		return nil, false, fmt.Errorf("media: reading the secret: %w", err)
	}
	secret = bytes.TrimSpace(raw)
	if len(secret) < MinSecretBytes {
		return nil, false, fmt.Errorf("media: the secret in %s is %d bytes, want at least %d", path, len(secret), MinSecretBytes)
	}
	return secret, false, nil
}

func createSecret(path string) ([]byte, bool, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, false, err
	}
	secret := []byte(hex.EncodeToString(b[:]))
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, false, fmt.Errorf("media: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) { // another process made it first
		s, _, err := LoadOrCreateSecret(path)
		return s, false, err
	}
	if err != nil {
		return nil, false, fmt.Errorf("media: creating the secret: %w", err)
	}
	_, err = f.Write(append(secret, '\n'))
	if cerr := f.Sync(); err == nil {
		err = cerr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, false, fmt.Errorf("media: writing the secret: %w", err)
	}
	return secret, true, nil
}
