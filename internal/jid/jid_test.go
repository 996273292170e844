package jid

import (
	"errors"
	"testing"
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
