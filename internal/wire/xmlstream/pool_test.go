package xmlstream

import (
	"strings"
	"testing"
	"unsafe"
)

const testHeader = `<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>`

// TestPooledParserGivesItsScratchBackBetweenStanzas: a pooled parser that
// has read a stanza and holds no input gives its working memory back, and
// the next stanza (its own or another parser's) gets it from the pool
// instead of allocating. sync.Pool drops a quarter of what it is given
// under the race detector, so a reuse is required in one of many rounds.
func TestPooledParserGivesItsScratchBackBetweenStanzas(t *testing.T) {
	pool := NewScratchPool()
	p := NewPooledParser(Limits{}, pool)
	p.Feed([]byte(testHeader))
	readAll(t, p)
	reused := 0
	for range 20 {
		p.Feed([]byte(`<iq type='result' id='ping1' to='a@localhost/x'/>`))
		s := readUntilStanza(t, p)
		readAll(t, p)
		if p.s != nil {
			t.Fatal("a parser with no input left holds its scratch")
		}
		if got := pool.get(); got == s {
			reused++
		}
	}
	if reused == 0 {
		t.Error("no stanza's scratch went back to the pool")
	}
}

// TestPooledScratchIsTrimmed: a stanza that grew the working memory past
// its arrays does not leave the grown buffers in the pool.
func TestPooledScratchIsTrimmed(t *testing.T) {
	pool := NewScratchPool()
	p := NewPooledParser(Limits{}, pool)
	p.Feed([]byte(testHeader))
	readAll(t, p)
	p.Feed([]byte(`<message><body>` + strings.Repeat("x", 4000) + `</body></message>`))
	s := readUntilStanza(t, p)
	readAll(t, p)
	if cap(s.str) != len(s.strArr) {
		t.Errorf("pooled scratch keeps a %d-byte string buffer, want its %d-byte array", cap(s.str), len(s.strArr))
	}
}

// readUntilStanza returns the scratch the parser used for the next stanza.
func readUntilStanza(t *testing.T, p *Parser) *scratch {
	t.Helper()
	for {
		tok, err := p.Next()
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		if tok.Kind == Stanza {
			return p.s
		}
	}
}

// readAll reads tokens until the parser needs more input.
func readAll(t *testing.T, p *Parser) {
	t.Helper()
	for {
		if _, err := p.Next(); err == ErrNeedMore {
			return
		} else if err != nil {
			t.Fatalf("Next: %v", err)
		}
	}
}

// TestPooledParserReusesItsInputBuffer: a pooled parser that read all its
// input gives its input buffer back, and the next burst's bytes go into a
// pooled one: a stanza read alone costs only its tree's four allocations,
// where a fresh input buffer for every burst was a fifth. (Not counted
// under the race detector, whose sync.Pool drops items at random.)
func TestPooledParserReusesItsInputBuffer(t *testing.T) {
	pool := NewScratchPool()
	p := NewPooledParser(Limits{}, pool)
	p.Feed([]byte(testHeader))
	readAll(t, p)
	stanza := []byte(`<message to='bob@localhost' id='m1'><body>hi</body></message>`)
	allocs := testing.AllocsPerRun(100, func() {
		p.Feed(stanza)
		readUntilStanza(t, p)
		readAll(t, p)
		if p.in != nil {
			t.Fatal("a parser with no input left holds its input buffer")
		}
	})
	if allocs > 4 && !raceEnabled {
		t.Errorf("a stanza fed alone: %.0f allocations, want 4 (its tree)", allocs)
	}
}

// TestAStanzaWithoutChildrenIsOneAllocation: a stanza with no child
// element and few attributes (a stream-management ack or ack request, a
// plain presence) is built as one allocation, element and attributes
// together (with the spare slot for "from"), plus its text's string when
// it has text to hold: two allocations before.
func TestAStanzaWithoutChildrenIsOneAllocation(t *testing.T) {
	pool := NewScratchPool()
	p := NewPooledParser(Limits{}, pool)
	p.Feed([]byte(testHeader))
	readAll(t, p)
	for _, tt := range []struct {
		in   string
		want float64
	}{
		{`<r xmlns='urn:xmpp:sm:3'/>`, 1},
		{`<presence/>`, 1},
		{`<a xmlns='urn:xmpp:sm:3' h='12'/>`, 2}, // and the string holding "12"
	} {
		allocs := testing.AllocsPerRun(100, func() {
			p.Feed([]byte(tt.in))
			readUntilStanza(t, p)
			readAll(t, p)
		})
		if allocs > tt.want && !raceEnabled {
			t.Errorf("%s: %.0f allocations, want %.0f", tt.in, allocs, tt.want)
		}
	}
}

// TestAnXMLDeclarationCostsNoAllocation: a stream header with an XML
// declaration allocates as much as one without. The declaration is read
// byte by byte into scratch memory, which used to grow from nothing each
// time: four allocations per stream opened, 3% of a login's CPU.
func TestAnXMLDeclarationCostsNoAllocation(t *testing.T) {
	pool := NewScratchPool()
	open := func(in string) float64 {
		return testing.AllocsPerRun(100, func() {
			p := NewPooledParser(Limits{}, pool)
			p.Feed([]byte(in))
			readAll(t, p)
		})
	}
	without := open(testHeader)
	with := open(`<?xml version='1.0' encoding='UTF-8'?>` + testHeader)
	if with > without && !raceEnabled {
		t.Errorf("a header with an XML declaration: %v allocations, without: %v", with, without)
	}
}

// TestScratchStaysInItsSizeClass: a pooled scratch is 1,536 bytes at
// most, Go's size class for it; a few bytes more (the XML declaration's
// array was 64 bytes at first) would take the next class, 1,792.
func TestScratchStaysInItsSizeClass(t *testing.T) {
	if size := unsafe.Sizeof(scratch{}); size > 1536 {
		t.Errorf("a scratch is %d bytes, more than the 1,536-byte size class", size)
	}
}
