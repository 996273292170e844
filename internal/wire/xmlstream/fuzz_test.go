package xmlstream

import (
	"errors"
	"testing"

	"github.com/parley-im/parley/internal/stanza"
)

// fuzzLimits are small so that the fuzzer reaches them.
var fuzzLimits = Limits{MaxStanzaBytes: 4096, MaxDepth: 12, MaxAttrs: 12}

// reparseLimits are for re-parsing serialized output, which may be longer
// (escapes) and carry more attributes (generated prefix declarations).
var reparseLimits = Limits{MaxStanzaBytes: 1 << 20, MaxDepth: 64, MaxAttrs: 1024}

type fuzzResult struct {
	toks []Token
	err  error // final error other than ErrNeedMore, or nil
}

// fuzzParse feeds data in chunks whose sizes come from the bits of chunks
// (all at once when chunks is 0).
// A split parse (chunks != 0) also uses a scratch pool and parks the
// stream whenever it is between stanzas waiting for input, resuming it for
// the next chunk: it must read on exactly as an unparked parser.
func fuzzParse(t *testing.T, data []byte, chunks uint64) fuzzResult {
	var pool *ScratchPool
	if chunks != 0 {
		pool = NewScratchPool()
	}
	p := NewPooledParser(fuzzLimits, pool)
	var res fuzzResult
	fed := 0
	for i := 0; i < len(data) && res.err == nil; {
		n := len(data) - i
		if chunks != 0 {
			n = min(n, 1+int(chunks&31))
			chunks = chunks>>5 | chunks<<59 // rotate: chunk sizes repeat
		}
		p.Feed(data[i : i+n])
		i += n
		fed += n
		for res.err == nil {
			tok, err := p.Next()
			if errors.Is(err, ErrNeedMore) {
				if pool != nil {
					if ps, ok := p.Park(); ok {
						p = ps.Resume(fuzzLimits, pool)
					}
				}
				break
			}
			if err != nil {
				var se *stanza.StreamError
				if !errors.As(err, &se) {
					t.Fatalf("error %v is not a *stanza.StreamError", err)
				}
				if _, again := p.Next(); again != err {
					t.Fatalf("error not sticky: %v then %v", err, again)
				}
				res.err = err
				break
			}
			res.toks = append(res.toks, tok)
		}
		if b := p.Buffered(); b > fed {
			t.Fatalf("Buffered() = %d after feeding %d bytes", b, fed)
		}
	}
	return res
}

func checkRoundTrip(t *testing.T, e *stanza.Element) {
	for _, parentNS := range []string{stanza.NSClient, ""} {
		b := AppendElement(nil, e, parentNS)
		got, err := ParseElement(b, parentNS, reparseLimits)
		if err != nil {
			t.Fatalf("re-parse of %q (parentNS %q): %v\nelement %v", b, parentNS, err, e)
		}
		if !stanza.Equal(got, e) {
			t.Fatalf("round trip (parentNS %q) changed the tree:\n in %v\nout %v\nxml %q", parentNS, e, got, b)
		}
	}
}

func FuzzParser(f *testing.F) {
	f.Add([]byte(sampleStream), uint64(0))
	f.Add([]byte(sampleStream), uint64(0x0123456789abcdef))
	for _, s := range realistic {
		f.Add([]byte(header+s), uint64(1))
	}
	f.Fuzz(func(t *testing.T, data []byte, chunks uint64) {
		whole := fuzzParse(t, data, 0)
		split := fuzzParse(t, data, chunks)
		// Feeding the same bytes in other pieces gives the same tokens and
		// the same error condition.
		if len(whole.toks) != len(split.toks) {
			t.Fatalf("%d tokens whole, %d split (errors %v, %v)", len(whole.toks), len(split.toks), whole.err, split.err)
		}
		for i := range whole.toks {
			a, b := whole.toks[i], split.toks[i]
			if a.Kind != b.Kind || a.Header != b.Header || !stanza.Equal(a.Element, b.Element) {
				t.Fatalf("token %d differs: %v %v / %v %v", i, a.Kind, a.Element, b.Kind, b.Element)
			}
		}
		if (whole.err == nil) != (split.err == nil) ||
			whole.err != nil && whole.err.(*stanza.StreamError).Condition != split.err.(*stanza.StreamError).Condition {
			t.Fatalf("errors differ: whole %v, split %v", whole.err, split.err)
		}
		for _, tok := range whole.toks {
			if tok.Kind == Stanza {
				checkRoundTrip(t, tok.Element)
			}
		}
	})
}

func FuzzParseElement(f *testing.F) {
	for _, s := range realistic {
		f.Add([]byte(s))
	}
	f.Add([]byte(`<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="localhost" version="1.0"/>`))
	f.Add([]byte(`<close xmlns="urn:ietf:params:xml:ns:xmpp-framing"/>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := ParseElement(data, stanza.NSClient, fuzzLimits)
		if err != nil {
			var se *stanza.StreamError
			if !errors.As(err, &se) {
				t.Fatalf("error %v is not a *stanza.StreamError", err)
			}
			return
		}
		checkRoundTrip(t, e)
		// The same bytes as a stanza in a stream parse to the same tree.
		res := fuzzParse(t, append([]byte(header), data...), 0)
		if res.err != nil || len(res.toks) != 2 || !stanza.Equal(res.toks[1].Element, e) {
			// A leading XML declaration is fine for ParseElement only.
			if len(data) > 1 && data[0] == '<' && data[1] == '?' || startsWithSpaceThenDecl(data) {
				return
			}
			t.Fatalf("in a stream: %v, %v; ParseElement gave %v", res.toks, res.err, e)
		}
	})
}

func startsWithSpaceThenDecl(b []byte) bool {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	return len(b) > 1 && b[0] == '<' && b[1] == '?'
}
