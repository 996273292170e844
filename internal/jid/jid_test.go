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

// TestRenderingAllocatesNothing: a JID's canonical form, its bare form
// and its parts are kept or cut from what was parsed, and parsing an
// address already in canonical form keeps the input. Each String built a
// new string (10 of the 79 allocations of a one-to-one message and its
// receipt in BenchmarkOneToOne: the "from" stamp, the queue keys, the
// blocking list's lookups).
func TestRenderingAllocatesNothing(t *testing.T) {
	j := MustParse("alice@example.org/phone")
	var sink [5]string
	allocs := testing.AllocsPerRun(100, func() {
		sink = [5]string{j.String(), j.Bare().String(), j.Local(), j.Domain(), j.Resource()}
	})
	if allocs != 0 || sink != [5]string{"alice@example.org/phone", "alice@example.org", "alice", "example.org", "phone"} {
		t.Fatalf("rendering a JID: %.0f allocations (%q)", allocs, sink)
	}
	in := "bob@example.org/laptop"
	if allocs := testing.AllocsPerRun(100, func() { j, _ = Parse(in) }); allocs != 0 || j.String() != in {
		t.Fatalf("parsing a canonical address: %.0f allocations (%q)", allocs, j.String())
	}
}

// TestPartsOfEveryShape: the parts, bare form and resource of addresses
// with and without a localpart or resourcepart, and of the zero JID.
func TestPartsOfEveryShape(t *testing.T) {
	cases := []struct{ in, local, domain, resource, bare string }{
		{"alice@example.org/phone", "alice", "example.org", "phone", "alice@example.org"},
		{"alice@example.org", "alice", "example.org", "", "alice@example.org"},
		{"example.org/phone", "", "example.org", "phone", "example.org"},
		{"example.org", "", "example.org", "", "example.org"},
		{"A@Example.org./x/y", "a", "example.org", "x/y", "a@example.org"},
	}
	for _, c := range cases {
		j := MustParse(c.in)
		if j.Local() != c.local || j.Domain() != c.domain || j.Resource() != c.resource ||
			j.Bare().String() != c.bare || j.IsBare() != (c.resource == "") || j.IsZero() {
			t.Errorf("%q: local %q domain %q resource %q bare %q", c.in, j.Local(), j.Domain(), j.Resource(), j.Bare())
		}
		if j.Bare() != MustParse(c.bare) {
			t.Errorf("%q: Bare() != Parse(%q)", c.in, c.bare)
		}
		if r, err := j.Bare().WithResource("tab"); err != nil || r.String() != c.bare+"/tab" || r != MustParse(c.bare+"/tab") {
			t.Errorf("%q: WithResource: %q %v", c.in, r, err)
		}
		if n, err := New(c.local, c.domain, c.resource); err != nil || n != j {
			t.Errorf("New(%q, %q, %q) = %q %v, want %q", c.local, c.domain, c.resource, n, err, j)
		}
	}
	var zero JID
	if !zero.IsZero() || zero.String() != "" || zero.Local() != "" || zero.Domain() != "" || zero.Resource() != "" || !zero.IsBare() || zero.Bare() != zero {
		t.Errorf("the zero JID: %#v", zero)
	}
}
