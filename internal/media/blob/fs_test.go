package blob_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/parley-im/parley/internal/media/blob"
	"github.com/parley-im/parley/internal/media/blob/blobtest"
)

func TestFS(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store {
		s, err := blob.NewFS(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestFSCrashLeftovers: temporary files of a Put interrupted by a crash are
// never visible as blobs, and are removed at the next start.
func TestFSCrashLeftovers(t *testing.T) {
	dir := t.TempDir()
	if _, err := blob.NewFS(dir); err != nil {
		t.Fatal(err)
	}
	partial := filepath.Join(dir, ".tmp", "put-123")
	if err := os.WriteFile(partial, []byte("half a blob"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := blob.NewFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(partial); !os.IsNotExist(err) {
		t.Fatalf("leftover temporary file still there: %v", err)
	}
	if keys := listAll(t, s); len(keys) != 0 {
		t.Fatalf("blobs after a crash: %v", keys)
	}
}
