package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// ErrNotFound is returned for a key that holds no blob.
var ErrNotFound = errors.New("blob: not found")

// ErrBadKey is returned for a key that ValidKey refuses.
var ErrBadKey = errors.New("blob: invalid key")

// Info describes a stored blob.
type Info struct {
	Key      string
	Size     int64
	Modified time.Time
}

// Store keeps immutable blobs.
type Store interface {
	// Put stores size bytes read from r under key, atomically. If r yields
	// fewer or more than size bytes, Put fails and stores nothing.
	Put(ctx context.Context, key string, r io.Reader, size int64) error
	// Open returns a reader of n bytes of the blob from offset off (n < 0:
	// to the end). The caller closes it.
	Open(ctx context.Context, key string, off, n int64) (io.ReadCloser, error)
	// Stat describes the blob at key, or returns ErrNotFound.
	Stat(ctx context.Context, key string) (Info, error)
	// Delete removes the blob at key; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// List calls fn for every blob whose key starts with prefix, in no
	// particular order; an error from fn stops the walk and is returned.
	List(ctx context.Context, prefix string, fn func(Info) error) error
}

// ValidKey checks a key: slash-separated segments of [a-z0-9._-] that start
// with a letter or a digit (so never "." or ".."), at most 512 bytes.
func ValidKey(key string) error {
	if key == "" || len(key) > 512 {
		return fmt.Errorf("%w %q", ErrBadKey, key)
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || !isAlnum(rune(seg[0])) {
			return fmt.Errorf("%w %q", ErrBadKey, key)
		}
		for _, r := range seg {
			if !isAlnum(r) && r != '-' && r != '_' && r != '.' {
				return fmt.Errorf("%w %q", ErrBadKey, key)
			}
		}
	}
	return nil
}

func isAlnum(r rune) bool { return r >= 'a' && r <= 'z' || r >= '0' && r <= '9' }

// validPrefix checks a List prefix: empty, or a valid key optionally
// followed by a slash.
func validPrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	return ValidKey(strings.TrimSuffix(prefix, "/"))
}

// sizedReader checks that r yields exactly size bytes.
type sizedReader struct {
	r    io.Reader
	left int64
}

var errShort = errors.New("blob: fewer bytes than the declared size")
var errLong = errors.New("blob: more bytes than the declared size")

func (s *sizedReader) Read(p []byte) (int, error) {
	if s.left <= 0 {
		var one [1]byte
		if n, _ := s.r.Read(one[:]); n > 0 {
			return 0, errLong
		}
		return 0, io.EOF
	}
	if int64(len(p)) > s.left {
		p = p[:s.left]
	}
	n, err := s.r.Read(p)
	s.left -= int64(n)
	if err == io.EOF && s.left > 0 {
		return n, errShort
	}
	if err == io.EOF {
		err = nil
	}
	return n, err
}
