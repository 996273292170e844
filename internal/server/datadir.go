package server

import (
	"fmt"
	"io/fs"
	"log/slog"
	"os"
)

// MakeDataDir creates the data directory, private to the server's user,
// or makes an existing one private: it holds the store (SCRAM keys,
// device token hashes, messages) and the TLS key, and the embedded store
// creates its files readable by all, trusting the directory above them. A
// directory a package or an operator created readable by others (0755)
// is narrowed to its owner, with a warning.
func MakeDataDir(dir string, log *slog.Logger) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating data directory: %w", err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	perm := fi.Mode().Perm()
	if perm&0o077 == 0 {
		return nil
	}
	if err := os.Chmod(dir, perm&^0o077); err != nil {
		return fmt.Errorf("data directory %s is open to other users (%v) and could not be made private: %w", dir, perm, err)
	}
	log.Warn("the data directory was open to other users: made it private to its owner", "dir", dir, "was", fs.FileMode(perm).String(), "now", fs.FileMode(perm&^0o077).String())
	return nil
}
