package xmlstream

// ParkedStream is what a stream parser between two stanzas needs to read
// the rest of its stream: the namespace its stanzas inherit, the prefixes
// the header declared, the header's name (for the end tag) and a few lexer
// flags. A connection that goes idle keeps this (about 70 bytes, inline)
// instead of its Parser (about 300 bytes and its slices), and gets a
// Parser back from it when bytes come (Resume).
type ParkedStream struct {
	owned       []string  // Parser.owned: owned[0] is the content namespace
	streamBinds []binding // prefixes declared on the header, refs into owned
	rootQName   string
	declSeen    bool
	cr          bool
}

// Park gives the parser's stream context, when the parser is between
// stanzas and holds nothing (AtKeepAlivePoint); the parser is then spent
// (returned to the pool it came from, if any) and must not be used again.
// ok is false, and the parser untouched, anywhere else.
func (p *Parser) Park() (ps ParkedStream, ok bool) {
	if !p.AtKeepAlivePoint() {
		return ParkedStream{}, false
	}
	ps = ParkedStream{owned: p.owned, streamBinds: p.streamBinds, rootQName: p.rootQName, declSeen: p.declSeen, cr: p.cr}
	p.release()
	pool := p.pool
	*p = Parser{}
	pool.putParser(p)
	return ps, true
}

// Resume returns a parser that reads on the parked stream as the parked
// one would have, taken from pool (nil: allocated). The ParkedStream must
// not be resumed twice: the parser takes over its slices.
func (ps ParkedStream) Resume(l Limits, pool *ScratchPool) *Parser {
	p := pool.getParser()
	*p = Parser{
		lim: l.withDefaults(), mode: modeStream, state: stBetween, pool: pool,
		started: true, bomChecked: true, declSeen: ps.declSeen, cr: ps.cr,
		owned: ps.owned, streamBinds: ps.streamBinds, rootQName: ps.rootQName,
	}
	return p
}
