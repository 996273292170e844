package cluster

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/wire/xmlstream"
)

func xmlOK(s string) error {
	_, err := xmlstream.ParseElement([]byte(s), stanza.NSClient, xmlstream.DefaultLimits())
	return err
}

func TestRouteFrameRoundTrip(t *testing.T) {
	for _, f := range []routeFrame{
		{kind: kindDeliver, seq: 42, to: "bob@localhost/phone", key: "bob@localhost", payload: []byte("<message/>")},
		{kind: kindSend, to: "bob@localhost/phone", payload: []byte("<presence/>")},
		{kind: kindClose, to: "bob@localhost/phone", payload: []byte("conflict\nreplaced")},
	} {
		got, err := decodeRoute(f.append(nil))
		if err != nil {
			t.Fatalf("%+v: %v", f, err)
		}
		if got.kind != f.kind || got.seq != f.seq || got.to != f.to || got.key != f.key || !bytes.Equal(got.payload, f.payload) {
			t.Fatalf("got %+v, want %+v", got, f)
		}
	}
}

func TestBadRouteFramesAreRefused(t *testing.T) {
	good := routeFrame{kind: kindDeliver, seq: 1, to: "bob@localhost/phone", key: "bob@localhost", payload: []byte("<m/>")}
	for name, b := range map[string][]byte{
		"empty":            nil,
		"version":          append([]byte{9}, good.append(nil)[1:]...),
		"kind":             (&routeFrame{kind: 7, to: "bob@localhost/phone", payload: []byte("x")}).append(nil),
		"bare to":          (&routeFrame{kind: kindSend, to: "bob@localhost", payload: []byte("x")}).append(nil),
		"domain to":        (&routeFrame{kind: kindSend, to: "localhost/x", payload: []byte("x")}).append(nil),
		"key without seq":  (&routeFrame{kind: kindDeliver, to: "bob@localhost/phone", key: "k", payload: []byte("x")}).append(nil),
		"seq on a send":    (&routeFrame{kind: kindSend, seq: 3, key: "k", to: "bob@localhost/phone", payload: []byte("x")}).append(nil),
		"no payload":       (&routeFrame{kind: kindSend, to: "bob@localhost/phone"}).append(nil),
		"truncated":        good.append(nil)[:8],
		"length past end":  {frameVersion, kindSend, 0, 200, 'a'},
		"unnormalized jid": (&routeFrame{kind: kindSend, to: "Bob@localhost/phone", payload: []byte("x")}).append(nil),
	} {
		if _, err := decodeRoute(b); !errors.Is(err, ErrBadMessage) {
			t.Errorf("%s: got %v, want ErrBadMessage", name, err)
		}
	}
}

func TestBadControlMessagesAreRefused(t *testing.T) {
	for name, s := range map[string]string{
		"not json":       `{`,
		"no node":        `{"epoch":"e"}`,
		"bad node":       `{"node":"a.b","epoch":"e"}`,
		"no epoch":       `{"node":"n1"}`,
		"unknown op":     `{"node":"n1","epoch":"e","op":"zap","dev":{"j":"a@b/c"}}`,
		"op without dev": `{"node":"n1","epoch":"e","op":"up"}`,
		"dev without op": `{"node":"n1","epoch":"e","dev":{"j":"a@b/c"}}`,
		"bare device":    `{"node":"n1","epoch":"e","op":"up","dev":{"j":"a@b"}}`,
		"priority":       `{"node":"n1","epoch":"e","op":"up","dev":{"j":"a@b/c","p":1000}}`,
		"bad presence":   `{"node":"n1","epoch":"e","op":"up","dev":{"j":"a@b/c","x":"<presence"}}`,
		"bad snapshot":   `{"node":"n1","epoch":"e","devs":[{"j":"nobody"}]}`,
		"negative count": `{"node":"n1","epoch":"e","devices":-1}`,
	} {
		if _, err := decodeControl([]byte(s), xmlOK); !errors.Is(err, ErrBadMessage) {
			t.Errorf("%s: got %v, want ErrBadMessage", name, err)
		}
	}
	ok := `{"node":"n1","epoch":"e","seq":3,"op":"up","dev":{"j":"a@b/c","a":true,"p":5,"x":"<presence from='a@b/c'><show>away</show></presence>"}}`
	c, err := decodeControl([]byte(ok), xmlOK)
	if err != nil || c.Dev.Priority != 5 || !c.Dev.Available || c.Seq != 3 {
		t.Fatalf("%+v, %v", c, err)
	}
}

// FuzzDecodeRoute: no input panics, and what decodes encodes back to the
// same bytes.
func FuzzDecodeRoute(f *testing.F) {
	f.Add((&routeFrame{kind: kindDeliver, seq: 7, to: "bob@localhost/phone", key: "bob@localhost", payload: []byte("<message/>")}).append(nil))
	f.Add((&routeFrame{kind: kindClose, to: "a@b/c", payload: []byte("conflict\n")}).append(nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := decodeRoute(b)
		if err != nil {
			return
		}
		if again := fr.append(nil); !bytes.Equal(again, b) {
			t.Fatalf("re-encoded %q as %q", b, again)
		}
	})
}

// FuzzDecodeControl: no input panics, and what decodes is valid again
// after a round trip through JSON.
func FuzzDecodeControl(f *testing.F) {
	f.Add([]byte(`{"node":"n1","epoch":"e","seq":1,"op":"up","dev":{"j":"a@b/c","a":true,"x":"<presence/>"}}`))
	f.Add([]byte(`{"node":"n1","epoch":"e","seq":9,"devs":[{"j":"a@b/c"},{"j":"d@b/e","r":true,"l":"dev1"}]}`))
	f.Add([]byte(`{"node":"n1","epoch":"e","seq":2,"devices":3,"http":"127.0.0.1:5280"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := decodeControl(b, xmlOK)
		if err != nil {
			return
		}
		again, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := decodeControl(again, xmlOK); err != nil {
			t.Fatalf("valid %s re-encoded as invalid %s: %v", b, again, err)
		}
	})
}
