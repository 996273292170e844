package jid

import (
	"errors"
	"testing"

	"golang.org/x/text/secure/precis"
)

func TestParseNormalizes(t *testing.T) {
	cases := []struct{ in, want, bare string }{
		{"Alice@Example.ORG/Phone", "alice@example.org/Phone", "alice@example.org"},
		{"example.org", "example.org", "example.org"},
		{"example.org.", "example.org", "example.org"},
		{"bob@localhost", "bob@localhost", "bob@localhost"},
		{"ÄLICE@localhost/ré", "älice@localhost/ré", "älice@localhost"},
		{"a@b/c/d@e", "a@b/c/d@e", "a@b"},
	}
	for _, c := range cases {
		j, err := Parse(c.in)
		if err != nil {
			t.Fatalf("Parse(%q): %v", c.in, err)
		}
		if got := j.String(); got != c.want {
			t.Errorf("Parse(%q) = %q, want %q", c.in, got, c.want)
		}
		if got := j.Bare().String(); got != c.bare {
			t.Errorf("Parse(%q).Bare() = %q, want %q", c.in, got, c.bare)
		}
	}
}

func TestParseRejects(t *testing.T) {
	for _, in := range []string{"", "@example.org", "a@", "a@b/", "a b@c", "a@b..c", "x\"y@z", "a@b@c"} {
		if _, err := Parse(in); !errors.Is(err, ErrMalformed) {
			t.Errorf("Parse(%q) error = %v, want ErrMalformed", in, err)
		}
	}
}

func TestEqualityIsValueEquality(t *testing.T) {
	a := MustParse("ALICE@localhost/x")
	b := MustParse("alice@LOCALHOST/x")
	if a != b {
		t.Fatalf("%v != %v", a, b)
	}
	if a.Bare() == a {
		t.Fatal("bare equals full")
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"alice@example.org/phone", "example.org", "ä@b/c", "a@[::1]/r"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		j, err := Parse(s)
		if err != nil {
			return
		}
		again, err := Parse(j.String())
		if err != nil {
			t.Fatalf("re-parse of %q (from %q): %v", j.String(), s, err)
		}
		if again != j {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, j, again)
		}
	})
}

// TestPrintableASCIIResourceNeedsNoPRECIS checks the fast path of
// resourceparts: PRECIS's OpaqueString leaves every printable ASCII
// character (space aside) as it is.
func TestPrintableASCIIResourceNeedsNoPRECIS(t *testing.T) {
	var all []byte
	for c := byte(0x21); c <= 0x7e; c++ {
		all = append(all, c)
		s := "a" + string(c) + "Z"
		if out, err := precis.OpaqueString.String(s); err != nil || out != s || !isPrintableASCII(s) {
			t.Errorf("%q: PRECIS gives %q, %v", s, out, err)
		}
	}
	if out, err := precis.OpaqueString.String(string(all)); err != nil || out != string(all) {
		t.Errorf("%q: PRECIS gives %q, %v", all, out, err)
	}
	for _, s := range []string{"a b", "ré", "tab\t", "\x7f"} {
		if isPrintableASCII(s) {
			t.Errorf("%q taken as printable ASCII", s)
		}
	}
	if j := MustParse("g1@groups.localhost/Bob@Example.com"); j.Resource() != "Bob@Example.com" {
		t.Errorf("resource %q", j.Resource())
	}
}
