package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Config says how to reach a bucket of an S3-compatible object store.
type S3Config struct {
	// Endpoint is the store's URL: https://host[:port] (http:// only on
	// a trusted network).
	Endpoint string
	Bucket   string
	Region   string // "" for us-east-1
	// AccessKey and SecretKey are the credentials (AWS signature v4).
	AccessKey, SecretKey string
	// CreateBucket creates the bucket when it does not exist.
	CreateBucket bool
}

// S3 is a Store keeping each blob as an object of one bucket. An object
// becomes visible only when its upload completed, so Put is atomic.
type S3 struct {
	c      *minio.Client
	bucket string
}

// NewS3 connects to the bucket described by cfg and checks that it exists
// (or creates it, with CreateBucket).
func NewS3(ctx context.Context, cfg S3Config) (*S3, error) {
	u, err := url.Parse(cfg.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("blob: S3 endpoint %q: want http(s)://host[:port]", cfg.Endpoint)
	}
	c, err := minio.New(u.Host, &minio.Options{
		Creds:  credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure: u.Scheme == "https", Region: cfg.Region, BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		return nil, fmt.Errorf("blob: S3 client: %w", err)
	}
	ok, err := c.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		return nil, fmt.Errorf("blob: S3 bucket %q at %s: %w", cfg.Bucket, u.Host, err)
	}
	if !ok && !cfg.CreateBucket {
		return nil, fmt.Errorf("blob: S3 bucket %q does not exist at %s", cfg.Bucket, u.Host)
	}
	if !ok {
		if err := c.MakeBucket(ctx, cfg.Bucket, minio.MakeBucketOptions{Region: cfg.Region}); err != nil {
			return nil, fmt.Errorf("blob: creating S3 bucket %q: %w", cfg.Bucket, err)
		}
	}
	return &S3{c: c, bucket: cfg.Bucket}, nil
}

// partSize is the multipart chunk for large blobs: memory per Put is about
// this much, whatever the blob's size.
const partSize = 16 << 20

// Put implements Store.
func (s *S3) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	if err := ValidKey(key); err != nil {
		return err
	}
	body := r
	if f, ok := r.(*os.File); !ok || !sameSize(f, size) {
		body = &sizedReader{r: r, left: size} // an *os.File of the right size is read with ReadAt, in parallel parts
	}
	_, err := s.c.PutObject(ctx, s.bucket, key, body, size, minio.PutObjectOptions{
		ContentType: "application/octet-stream", PartSize: partSize, NumThreads: 2,
	})
	if err != nil {
		return fmt.Errorf("blob: S3 put %s: %w", key, err)
	}
	return nil
}

func sameSize(f *os.File, size int64) bool {
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	off, err := f.Seek(0, io.SeekCurrent)
	return err == nil && off == 0 && fi.Size() == size
}

// Open implements Store.
func (s *S3) Open(ctx context.Context, key string, off, n int64) (io.ReadCloser, error) {
	if err := ValidKey(key); err != nil {
		return nil, err
	}
	var opts minio.GetObjectOptions
	switch {
	case n == 0:
		if _, err := s.Stat(ctx, key); err != nil {
			return nil, err
		}
		return io.NopCloser(eofReader{}), nil
	case n > 0:
		if err := opts.SetRange(off, off+n-1); err != nil {
			return nil, fmt.Errorf("blob: %w", err)
		}
	case off > 0:
		if err := opts.SetRange(off, 0); err != nil {
			return nil, fmt.Errorf("blob: %w", err)
		}
	}
	obj, err := s.c.GetObject(ctx, s.bucket, key, opts)
	if err != nil {
		return nil, s3Error(key, err)
	}
	if _, err := obj.Stat(); err != nil { // sends the request: a missing key fails here
		obj.Close()
		return nil, s3Error(key, err)
	}
	return obj, nil
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// Stat implements Store.
func (s *S3) Stat(ctx context.Context, key string) (Info, error) {
	if err := ValidKey(key); err != nil {
		return Info{}, err
	}
	oi, err := s.c.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{})
	if err != nil {
		return Info{}, s3Error(key, err)
	}
	return Info{Key: key, Size: oi.Size, Modified: oi.LastModified}, nil
}

// Delete implements Store.
func (s *S3) Delete(ctx context.Context, key string) error {
	if err := ValidKey(key); err != nil {
		return err
	}
	if err := s.c.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{}); err != nil {
		if errors.Is(s3Error(key, err), ErrNotFound) {
			return nil
		}
		return fmt.Errorf("blob: S3 delete %s: %w", key, err)
	}
	return nil
}

// List implements Store.
func (s *S3) List(ctx context.Context, prefix string, fn func(Info) error) error {
	if err := validPrefix(prefix); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the listing goroutine if fn stops early
	for oi := range s.c.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if oi.Err != nil {
			return fmt.Errorf("blob: S3 list %s: %w", prefix, oi.Err)
		}
		if ValidKey(oi.Key) != nil {
			continue
		}
		if err := fn(Info{Key: oi.Key, Size: oi.Size, Modified: oi.LastModified}); err != nil {
			return err
		}
	}
	return nil
}

func s3Error(key string, err error) error {
	resp := minio.ToErrorResponse(err)
	if resp.Code == "NoSuchKey" || resp.StatusCode == http.StatusNotFound {
		return ErrNotFound
	}
	return fmt.Errorf("blob: S3 %s: %w", key, err)
}
