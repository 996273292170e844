// Package binary is Parley's compact binary encoding of XMPP stanzas, in the
// spirit of WhatsApp's "modified XMPP": the same stanza.Element trees as the
// XML codec (package wire/xmlstream), written with a token dictionary,
// packed forms for numbers, hex strings, UUIDs, base64 and JIDs, and
// length-prefixed frames. The byte-level specification is
// docs/protocol/binary.md; this comment is the summary.
//
// # Stream
//
// Each side starts with a preamble: the magic "PRLB", the protocol version
// (1), the dictionary version its frames use (1), and up to 16 strings of
// its own, typically its domain, that its frames can then write as one
// byte. Then come frames: a uvarint length followed by that many bytes. A
// frame of length 0 is a keep-alive (skipped), a frame holding the single
// byte 0 ends the stream, and any other frame holds exactly one element.
//
// # Elements and strings
//
// An element is a header byte (namespace present, text present, attribute
// and child counts up to 6 inline), its name, its namespace when it differs
// from its parent's (a top-level element's parent namespace is
// jabber:client), its attributes, its text and its children. Every string
// is a tag byte and what the tag calls for: nothing for "", nothing more
// for a one-byte token, one byte for a two-byte token, an index into the
// preamble strings, or a length and bytes for the literal and packed forms.
// The encoder picks the shortest form; every form decodes to exactly the
// original bytes (JIDs are split, never normalized), so any tree,
// including every tree the XML parser produces, round-trips unchanged.
//
// # Decoding
//
// Decoder is a push decoder shaped like xmlstream.Parser: the connection
// feeds it whatever bytes arrived (Feed, which copies them) and calls Next
// until ErrNeedMore. Next never reads and never blocks. A frame's length is
// checked against Limits.MaxFrameBytes as soon as its prefix is read, before
// anything is buffered for it. Each frame is decoded in two passes, the
// first validating and counting, the second building the tree with four
// allocations (elements, attributes, child pointers, one string buffer);
// dictionary and preamble strings are shared, not copied. Any string kept
// from a stanza keeps that stanza's string buffer alive. An idle decoder
// (nothing buffered) holds no buffer.
//
// Errors are *ProtocolError values wrapping one of ErrBadMagic,
// ErrUnsupportedVersion, ErrUnknownDictionary, ErrFrameTooLarge, ErrLimit
// and ErrMalformed, with the stream offset; StreamError maps them to the
// RFC 6120 stream error to send. After an error the Decoder is dead.
//
// # Encoding
//
// Encoder holds the preamble it writes (versions and strings) and appends
// to the caller's slice: AppendPreamble, AppendStanza (one frame),
// AppendKeepAlive, AppendStreamEnd. It allocates nothing when the slice has
// room.
//
// # Versions
//
// Dictionaries are append-only: version N+1 extends version N, so codes
// never change meaning. testdata/dictionary-v1.txt pins every code of
// version 1 and testdata/golden pins whole stanzas; the tests fail if the
// format drifts.
//
// # Concurrency
//
// A Decoder is owned by one goroutine. An Encoder and a Dictionary are
// immutable and safe for concurrent use. Elements returned by Next belong
// to the caller and share no memory with the Decoder. The package has no
// mutable package-level state: the dictionaries and character tables are
// built once and never modified. It imports only stanza from Parley.
package binary
