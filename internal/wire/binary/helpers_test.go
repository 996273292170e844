package binary

import (
	"errors"
	"testing"

	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/wire/xmlstream"
)

// testDomain is the server domain the tests declare in their preambles.
const testDomain = "example.com"

func testEncoder(t testing.TB) *Encoder {
	t.Helper()
	enc, err := NewEncoder(Preamble{Strings: []string{testDomain}})
	if err != nil {
		t.Fatal(err)
	}
	return enc
}

// parseXML parses one stanza as it would arrive in a client stream.
func parseXML(t testing.TB, s string) *stanza.Element {
	t.Helper()
	el, err := xmlstream.ParseElement([]byte(s), stanza.NSClient, xmlstream.DefaultLimits())
	if err != nil {
		t.Fatalf("%v\n%s", err, s)
	}
	return el
}

type decodeResult struct {
	toks []Token
	err  error // final error other than ErrNeedMore, or nil
}

// decodeAll feeds data in chunks whose sizes come from the bits of chunks
// (all at once when chunks is 0) and collects every token.
func decodeAll(t testing.TB, data []byte, chunks uint64, lim Limits) decodeResult {
	t.Helper()
	d := NewDecoder(lim)
	var res decodeResult
	fed := 0
	for i := 0; i < len(data) && res.err == nil; {
		n := len(data) - i
		if chunks != 0 {
			n = min(n, 1+int(chunks&31))
			chunks = chunks>>5 | chunks<<59
		}
		d.Feed(data[i : i+n])
		i += n
		fed += n
		for res.err == nil {
			tok, err := d.Next()
			if err == ErrNeedMore {
				break
			}
			if err != nil {
				var pe *ProtocolError
				if !errors.As(err, &pe) {
					t.Fatalf("error %v is not a *ProtocolError", err)
				}
				if _, again := d.Next(); again != err {
					t.Fatalf("error not sticky: %v then %v", err, again)
				}
				res.err = err
				break
			}
			res.toks = append(res.toks, tok)
		}
		if b := d.Buffered(); b > fed {
			t.Fatalf("Buffered() = %d after feeding %d bytes", b, fed)
		}
	}
	return res
}

// roundTrip encodes el in a stream (preamble, frame) and decodes it back.
func roundTrip(t testing.TB, enc *Encoder, el *stanza.Element) *stanza.Element {
	t.Helper()
	b := enc.AppendStanza(enc.AppendPreamble(nil), el)
	res := decodeAll(t, b, 0, Limits{MaxFrameBytes: 1 << 24, MaxDepth: 1000, MaxAttrs: 1 << 20})
	if res.err != nil || len(res.toks) != 2 || res.toks[1].Kind != Stanza {
		t.Fatalf("decode: %v, %d tokens\nelement %v", res.err, len(res.toks), el)
	}
	return res.toks[1].Element
}
