package binary

import (
	"strconv"
	"sync"
)

// Token codes. A dictionary entry i (0-based) is written as the single byte
// i+1 when i < onePageTokens, else as tagPage0+(i-onePageTokens)/256
// followed by the byte (i-onePageTokens)%256.
const (
	onePageTokens = 0xCF // one-byte tokens: tags 0x01..0xCF
	pageTokens    = 256  // tokens per two-byte page
	pages         = 4    // tags 0xE0..0xE3
	maxTokens     = onePageTokens + pages*pageTokens
)

// LatestDictionary is the newest dictionary version this package knows.
const LatestDictionary = 1

// Dictionary is one version of the token table: the strings that are
// written as one or two bytes instead of literally. A Dictionary is
// immutable and safe for concurrent use; get one with DictionaryVersion.
//
// Versions are append-only: version N+1 is version N with entries added at
// the end, so a decoder that has version N+1 decodes every version up to N
// by ignoring the tail, and codes never change meaning.
type Dictionary struct {
	version int
	tokens  []string
	maxLen  int
	table   []int16 // open addressing over tokens: index+1, 0 = empty
}

// dictionaries holds every known version, built on first use and never
// modified afterwards.
var dictionaries = sync.OnceValue(func() []*Dictionary {
	return []*Dictionary{newDictionary(1, tokensV1[:])}
})

// DictionaryVersion returns dictionary version v, or false if this package
// does not know it.
func DictionaryVersion(v int) (*Dictionary, bool) {
	all := dictionaries()
	if v < 1 || v > len(all) {
		return nil, false
	}
	return all[v-1], true
}

func newDictionary(version int, tokens []string) *Dictionary {
	if len(tokens) > maxTokens {
		panic("binary: dictionary v" + strconv.Itoa(version) + " has too many tokens")
	}
	d := &Dictionary{version: version, tokens: tokens}
	size := 1
	for size < 2*len(tokens) {
		size <<= 1
	}
	d.table = make([]int16, size)
	for i, s := range tokens {
		if s == "" {
			panic("binary: empty token in dictionary v" + strconv.Itoa(version))
		}
		d.maxLen = max(d.maxLen, len(s))
		h := tokenHash(s) & (size - 1)
		for d.table[h] != 0 {
			if tokens[d.table[h]-1] == s {
				panic("binary: duplicate token " + strconv.Quote(s) + " in dictionary v" + strconv.Itoa(version))
			}
			h = (h + 1) & (size - 1)
		}
		d.table[h] = int16(i + 1)
	}
	return d
}

// tokenHash mixes the length and four bytes of s: cheap, and enough to tell
// the tokens apart (the table is at most half full, so probes are short).
func tokenHash(s string) int {
	n := len(s)
	h := uint32(n) ^ uint32(s[0])<<8 ^ uint32(s[n-1])<<16 ^ uint32(s[n/2])<<24 ^ uint32(s[n*3/4])<<4
	return int((h * 0x9E3779B1) >> 16)
}

// Version returns the dictionary's version number.
func (d *Dictionary) Version() int { return d.version }

// Len returns the number of tokens.
func (d *Dictionary) Len() int { return len(d.tokens) }

// Token returns token i (0-based), as Len's range allows.
func (d *Dictionary) Token(i int) string { return d.tokens[i] }

// lookup returns the index of s, or -1.
func (d *Dictionary) lookup(s string) int {
	if len(s) == 0 || len(s) > d.maxLen {
		return -1
	}
	mask := len(d.table) - 1
	for h := tokenHash(s) & mask; ; h = (h + 1) & mask {
		i := int(d.table[h]) - 1
		if i < 0 {
			return -1
		}
		if d.tokens[i] == s {
			return i
		}
	}
}

// appendToken appends the code of token i: one byte, or a page tag and one
// byte.
func appendToken(dst []byte, i int) []byte {
	if i < onePageTokens {
		return append(dst, byte(i+1))
	}
	i -= onePageTokens
	return append(dst, tagPage0+byte(i/pageTokens), byte(i%pageTokens))
}
