// Package blobtest is the conformance suite every blob.Store backend runs:
// the same tests, in the same words, against the filesystem and against a
// real S3-compatible server.
package blobtest
