package mamquery

import (
	"testing"
	"time"

	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store"
)

func field(name, value string) *stanza.Element {
	return stanza.NewElement(NSData, "field", "var", name).AddChild(Text(NSData, "value", value))
}

func query(form []*stanza.Element, rsm ...*stanza.Element) *stanza.Element {
	q := stanza.NewElement(NS, "query", "queryid", "q1")
	if form != nil {
		x := stanza.NewElement(NSData, "x", "type", "submit")
		for _, f := range form {
			x.AddChild(f)
		}
		q.AddChild(x)
	}
	if rsm != nil {
		set := stanza.NewElement(NSRSM, "set")
		for _, c := range rsm {
			set.AddChild(c)
		}
		q.AddChild(set)
	}
	return q
}

func TestParseQuery(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	r, err := Parse(query([]*stanza.Element{
		field("FORM_TYPE", NS), field("with", "Carol@Example.org/phone"), field("start", "2026-01-02T03:04:05Z"),
		field("end", "2026-01-02T03:04:05.5Z"), field("after-id", "a1"), field("before-id", "b1"),
	}, Text(NSRSM, "max", "7"), Text(NSRSM, "after", "x"), Text(NSRSM, "before", "")))
	if err != nil {
		t.Fatal(err)
	}
	want := store.ArchiveQuery{With: "carol@example.org", Start: start, End: start.Add(500 * time.Millisecond), AfterID: "a1", BeforeID: "b1"}
	if r.QueryID != "q1" || r.Filter.With != want.With || !r.Filter.Start.Equal(want.Start) || !r.Filter.End.Equal(want.End) ||
		r.Filter.AfterID != "a1" || r.Filter.BeforeID != "b1" || r.Max != 7 || r.After != "x" || !r.Backward || r.Before != "" {
		t.Fatalf("parseQuery = %+v", r)
	}
	if r, _ := Parse(query(nil)); r.Max != -1 || r.Backward {
		t.Fatalf("empty query = %+v", r)
	}
	for _, tc := range []struct {
		name string
		q    *stanza.Element
		cond stanza.Condition
	}{
		{"wrong form type", query([]*stanza.Element{field("FORM_TYPE", "urn:xmpp:mam:1")}), stanza.BadRequest},
		{"unknown field", query([]*stanza.Element{field("full-text-search", "x")}), stanza.BadRequest},
		{"bad start", query([]*stanza.Element{field("start", "yesterday")}), stanza.BadRequest},
		{"bad with", query([]*stanza.Element{field("with", "@@")}), stanza.BadRequest},
		{"bad max", query(nil, Text(NSRSM, "max", "-1")), stanza.BadRequest},
		{"index", query(nil, Text(NSRSM, "index", "3")), stanza.FeatureNotImplemented},
	} {
		if _, err := Parse(tc.q); err == nil || err.Condition != tc.cond {
			t.Errorf("%s: err = %v, want %s", tc.name, err, tc.cond)
		}
	}
}

func TestCursorCapsAndNarrows(t *testing.T) {
	l := Limits{DefaultPage: 5, MaxPage: 20}
	r := Request{Filter: store.ArchiveQuery{AfterID: "form-after"}, Max: -1}
	if q := Cursor(r, l); q.Max != 5 || q.AfterID != "form-after" || q.Backward {
		t.Fatalf("default page: %+v", q)
	}
	r.Max, r.After, r.Before, r.Backward = 500, "rsm-after", "rsm-before", true
	if q := Cursor(r, l); q.Max != 20 || q.AfterID != "rsm-after" || q.BeforeID != "rsm-before" || !q.Backward {
		t.Fatalf("capped page with a cursor: %+v", q)
	}
}

// FuzzParse feeds arbitrary query payloads to Parse: it never panics, and
// a query it accepts has a page size of -1 (absent) or more.
func FuzzParse(f *testing.F) {
	f.Add("1", "with", "bob@example.org", "max", "10")
	f.Add("q", "start", "2026-01-02T03:04:05Z", "before", "")
	f.Add("", "FORM_TYPE", "urn:xmpp:mam:1", "index", "3")
	f.Fuzz(func(t *testing.T, qid, name, value, rsm, rsmValue string) {
		q := query([]*stanza.Element{field(name, value)}, Text(NSRSM, rsm, rsmValue))
		q.SetAttr("queryid", qid)
		r, err := Parse(q)
		if err == nil && r.Max < -1 {
			t.Fatalf("accepted max %d", r.Max)
		}
	})
}
