package pebble

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

func TestComponentEncoding(t *testing.T) {
	strs := []string{"", "a", "a\x00", "a\x00b", "a\x01", "a@x", "a@x#dev", "a@x#de", "a@xy", "a@x\x00#", "\x00", "\xff", "b"}
	sorted := slices.Clone(strs)
	slices.Sort(sorted)
	var enc [][]byte
	for _, s := range sorted {
		e := appendComponent(nil, s)
		got, rest, ok := decodeComponent(append(e, 'z'))
		if !ok || got != s || string(rest) != "z" {
			t.Errorf("decode(encode(%q)) = %q, %q, %v", s, got, rest, ok)
		}
		enc = append(enc, e)
	}
	for i := 1; i < len(enc); i++ {
		if bytes.Compare(enc[i-1], enc[i]) >= 0 {
			t.Errorf("encoding does not keep order: %q >= %q", sorted[i-1], sorted[i])
		}
	}
	for i, a := range enc {
		for j, b := range enc {
			if i != j && bytes.HasPrefix(b, a) {
				t.Errorf("encoding of %q is a prefix of that of %q", sorted[i], sorted[j])
			}
		}
	}
	for _, bad := range []string{"a", "a\x00", "a\x00\x02", "a\x00\xff"} {
		if _, _, ok := decodeComponent([]byte(bad)); ok {
			t.Errorf("decodeComponent(%q) accepted an incomplete component", bad)
		}
	}
}

func TestDeviceRange(t *testing.T) {
	start, end := deviceRange(prefixQueue, "a@x")
	in := func(key string) bool {
		k := queueKey(queuePrefix(key), 7)
		return bytes.Compare(k, start) >= 0 && bytes.Compare(k, end) < 0
	}
	for _, key := range []string{"a@x#dev", "a@x#", "a@x#d\x00", "a@x##"} {
		if !in(key) {
			t.Errorf("%q is not in the device range of a@x", key)
		}
	}
	for _, key := range []string{"a@x", "a@xy", "a@xy#dev", "a@x.y#d", "b@x#dev", "a@x$", strings.Repeat("a", 3)} {
		if in(key) {
			t.Errorf("%q is in the device range of a@x", key)
		}
	}
}
