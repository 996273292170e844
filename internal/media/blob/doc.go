// Package blob is the storage of the media server: immutable byte blobs
// under keys the server chooses (never a client-chosen name). Store has two
// backends: FS, files in a directory (the default, inside the data
// directory), and S3, a bucket of an S3-compatible object store (for
// clusters, where several media servers share one store). Both pass the
// shared conformance suite in blob/blobtest.
//
// Keys are slash-separated paths of lower-case letters, digits, '-', '_'
// and '.', checked by ValidKey; a segment is never "." or "..".
//
// Contract: Put is atomic (a reader sees the whole blob or nothing, also
// after a crash in the middle of a Put); a Put to an existing key replaces
// it atomically. Stores are safe for concurrent use; the caller closes what
// Open returns.
package blob
