package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/parley-im/parley/client"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/wire/binary"
)

// TestExplainDial: each failed login gets the hint of its likely cause,
// and a refusal gets the wrong-password hint only when that is what the
// server said.
func TestExplainDial(t *testing.T) {
	bin := loginSettings{JID: "alice@localhost", Server: "127.0.0.1:5222", Encoding: encodingBinary, TLS: tlsStartTLS}
	xml, plain, direct := bin, bin, bin
	xml.Encoding, plain.Encoding, direct.Encoding = encodingXML, encodingXML, encodingXML
	plain.TLS, direct.TLS = tlsPlain, tlsDirect
	cases := []struct {
		s         loginSettings
		err       error
		want, not string
	}{
		{bin, &client.AuthError{Condition: "not-authorized"}, "wrong password or no such account", "wait"},
		{bin, &client.AuthError{Condition: "temporary-auth-failure", Text: "too many failed attempts"}, "wait a minute", "wrong password"},
		{bin, &client.AuthError{Condition: "invalid-mechanism"}, "invalid-mechanism", "wrong password"},
		{plain, errors.New("no supported SASL mechanism offered ([])"), "use --tls starttls", ""},
		{xml, fmt.Errorf("reading the stream: %w", io.EOF), "use --encoding binary", ""},
		{xml, io.ErrUnexpectedEOF, "use --tls direct", ""},
		{direct, stanza.NewStreamError(stanza.StreamNotWellFormed, "content outside the root element"), "use --encoding binary", ""},
		{bin, tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}, "Parley's binary protocol is on port 5224", ""},
		{direct, tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}, "use --tls starttls", ""},
		{bin, &binary.ProtocolError{Err: binary.ErrBadMagic}, "use --encoding xml", ""},
		{bin, io.EOF, "connecting to 127.0.0.1:5222 as alice@localhost: EOF", "("},
	}
	for _, tc := range cases {
		got := explainDial(tc.s, tc.err).Error()
		if !strings.Contains(got, tc.want) || (tc.not != "" && strings.Contains(got, tc.not)) {
			t.Errorf("%s over %s/%s: %q, want %q and not %q", tc.err, tc.s.Encoding, tc.s.TLS, got, tc.want, tc.not)
		}
		if !errors.Is(explainDial(tc.s, tc.err), tc.err) {
			t.Errorf("%q does not wrap the error", got)
		}
	}
}
