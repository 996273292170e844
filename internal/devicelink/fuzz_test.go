package devicelink

import (
	"bytes"
	"testing"
)

// FuzzParsePayload: parsing never panics, and what parses formats back to
// an equivalent payload.
func FuzzParsePayload(f *testing.F) {
	f.Add("parley-link:1:q2Xo1hT6bC8jW4mN0aR5sA:" + EncodeKey(make([]byte, 32)))
	f.Add("parley-link:1:x:")
	f.Add("parley-link:1:::")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePayload(s)
		if err != nil {
			return
		}
		q, err := ParsePayload(p.String())
		if err != nil || q.Ref != p.Ref || !bytes.Equal(q.Key, p.Key) {
			t.Fatalf("%q: round trip gave %+v, %v", s, q, err)
		}
	})
}
