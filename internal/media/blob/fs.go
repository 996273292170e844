package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// tmpDir is where FS writes blobs before renaming them into place. Its name
// starts with a dot, which no key segment can.
const tmpDir = ".tmp"

// FS is a Store keeping each blob in a file under a root directory: key
// "a/b" is the file root/a/b. Put writes a temporary file, syncs it and
// renames it into place, so a crash leaves no partial blob under a key.
type FS struct{ root string }

// NewFS opens (creating it if needed) a file store in dir and removes the
// temporary files a crash may have left.
func NewFS(dir string) (*FS, error) {
	if err := os.RemoveAll(filepath.Join(dir, tmpDir)); err != nil {
		return nil, fmt.Errorf("blob: cleaning %s: %w", dir, err)
	}
	if err := os.MkdirAll(filepath.Join(dir, tmpDir), 0o700); err != nil {
		return nil, fmt.Errorf("blob: %w", err)
	}
	return &FS{root: dir}, nil
}

func (s *FS) path(key string) string { return filepath.Join(s.root, filepath.FromSlash(key)) }

// Put implements Store.
func (s *FS) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	if err := ValidKey(key); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Join(s.root, tmpDir), "put-*")
	if err != nil {
		return fmt.Errorf("blob: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename this finds nothing
	if err := s.fill(ctx, tmp, r, size); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("blob: %w", err)
	}
	dst := s.path(key)
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return fmt.Errorf("blob: %w", err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return fmt.Errorf("blob: %w", err)
	}
	return syncDir(filepath.Dir(dst))
}

// fill copies exactly size bytes of r into f and syncs f.
func (s *FS) fill(ctx context.Context, f *os.File, r io.Reader, size int64) error {
	if _, err := io.Copy(f, &sizedReader{r: ctxReader{ctx, r}, left: size}); err != nil {
		return fmt.Errorf("blob: writing: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("blob: %w", err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("blob: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("blob: syncing %s: %w", dir, err)
	}
	return nil
}

// Open implements Store. The reader hands the file to the destination's
// ReadFrom (sendfile for a socket).
func (s *FS) Open(_ context.Context, key string, off, n int64) (io.ReadCloser, error) {
	if err := ValidKey(key); err != nil {
		return nil, err
	}
	f, err := os.Open(s.path(key))
	if err != nil {
		return nil, notFound(err)
	}
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		f.Close()
		return nil, fmt.Errorf("blob: %w", err)
	}
	if n < 0 {
		n = 1<<63 - 1
	}
	return &fileReader{lr: &io.LimitedReader{R: f, N: n}, f: f}, nil
}

// fileReader is a section of a file. WriteTo passes the *io.LimitedReader
// over the *os.File unwrapped, so net/http can use sendfile.
type fileReader struct {
	lr *io.LimitedReader
	f  *os.File
}

func (r *fileReader) Read(p []byte) (int, error) { return r.lr.Read(p) }
func (r *fileReader) Close() error               { return r.f.Close() }

func (r *fileReader) WriteTo(w io.Writer) (int64, error) {
	if rf, ok := w.(io.ReaderFrom); ok {
		return rf.ReadFrom(r.lr)
	}
	return io.Copy(w, r.lr)
}

// Stat implements Store.
func (s *FS) Stat(_ context.Context, key string) (Info, error) {
	if err := ValidKey(key); err != nil {
		return Info{}, err
	}
	fi, err := os.Stat(s.path(key))
	if err != nil {
		return Info{}, notFound(err)
	}
	if !fi.Mode().IsRegular() {
		return Info{}, ErrNotFound
	}
	return Info{Key: key, Size: fi.Size(), Modified: fi.ModTime()}, nil
}

// Delete implements Store.
func (s *FS) Delete(_ context.Context, key string) error {
	if err := ValidKey(key); err != nil {
		return err
	}
	if err := os.Remove(s.path(key)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("blob: %w", err)
	}
	return nil
}

// List implements Store.
func (s *FS) List(ctx context.Context, prefix string, fn func(Info) error) error {
	if err := validPrefix(prefix); err != nil {
		return err
	}
	dir := s.root
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		dir = s.path(prefix[:i])
	}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() {
			if d.Name() == tmpDir {
				return filepath.SkipDir
			}
			return ctx.Err()
		}
		return s.visit(p, prefix, fn)
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

func (s *FS) visit(p, prefix string, fn func(Info) error) error {
	rel, err := filepath.Rel(s.root, p)
	if err != nil {
		return err
	}
	key := filepath.ToSlash(rel)
	if !strings.HasPrefix(key, prefix) || ValidKey(key) != nil {
		return nil
	}
	fi, err := os.Stat(p)
	if err != nil {
		return nil // deleted meanwhile
	}
	return fn(Info{Key: key, Size: fi.Size(), Modified: fi.ModTime()})
}

func notFound(err error) error {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrInvalid) {
		return ErrNotFound
	}
	if errors.Is(err, syscall.ENOTDIR) {
		return ErrNotFound
	}
	return fmt.Errorf("blob: %w", err)
}

// ctxReader stops reading when ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
