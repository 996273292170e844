package binary

import (
	"errors"
	"strconv"

	"github.com/parley-im/parley/internal/stanza"
)

// ErrNeedMore is returned by Decoder.Next when the input holds no complete
// token yet. It is not a protocol error: feed more bytes and call Next again.
var ErrNeedMore = errors.New("binary: need more input")

// The kinds of protocol error. Decoder.Next wraps them in a *ProtocolError;
// test them with errors.Is.
var (
	// ErrBadMagic: the stream does not start with the Parley binary magic
	// (the peer speaks something else, XML for instance).
	ErrBadMagic = errors.New("binary: not a Parley binary stream")
	// ErrUnsupportedVersion: the preamble names a protocol version this
	// decoder does not implement.
	ErrUnsupportedVersion = errors.New("binary: unsupported protocol version")
	// ErrUnknownDictionary: the preamble names a dictionary version this
	// decoder does not have.
	ErrUnknownDictionary = errors.New("binary: unknown dictionary version")
	// ErrFrameTooLarge: a frame's length prefix exceeds Limits.MaxFrameBytes.
	ErrFrameTooLarge = errors.New("binary: frame too large")
	// ErrLimit: a frame exceeds another limit (depth, attributes, decoded
	// string bytes).
	ErrLimit = errors.New("binary: limit exceeded")
	// ErrMalformed: bytes that are not a valid encoding (unknown tag, token
	// outside the dictionary, truncated frame, bad packing, trailing bytes,
	// data after the stream end).
	ErrMalformed = errors.New("binary: malformed input")
)

// ProtocolError is the error Decoder.Next returns for bad input. After one
// the Decoder is dead and returns the same error forever; the connection
// sends StreamError() to the peer and closes.
type ProtocolError struct {
	Err    error  // ErrBadMagic, ErrUnsupportedVersion, ErrUnknownDictionary, ErrFrameTooLarge, ErrLimit or ErrMalformed
	Offset int64  // offset in the stream (from its first preamble byte) where the problem was found
	Detail string // what was wrong, for logs and the stream error text
}

func (e *ProtocolError) Error() string {
	return e.Err.Error() + ": " + e.Detail + " (at byte " + strconv.FormatInt(e.Offset, 10) + ")"
}

// Unwrap returns the kind of error, for errors.Is.
func (e *ProtocolError) Unwrap() error { return e.Err }

// StreamError maps the error to the RFC 6120 stream error the server sends
// before closing: unsupported-encoding for a bad magic, unsupported-version
// for the protocol or dictionary version, policy-violation for a limit,
// bad-format for malformed bytes.
func (e *ProtocolError) StreamError() *stanza.StreamError {
	cond := stanza.StreamBadFormat
	switch e.Err {
	case ErrBadMagic:
		cond = stanza.StreamUnsupportedEncoding
	case ErrUnsupportedVersion, ErrUnknownDictionary:
		cond = stanza.StreamUnsupportedVersion
	case ErrFrameTooLarge, ErrLimit:
		cond = stanza.StreamPolicyViolation
	}
	return stanza.NewStreamError(cond, e.Detail)
}
