package client

import (
	"strings"
	"testing"

	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/wire/xmlstream"
)

// FuzzGroupReceiptBatch feeds arbitrary <batch/> elements to the decoder
// of batched group receipts: it never panics and every event it emits
// comes from group/member with a message id. Seed corpus:
// testdata/fuzz/FuzzGroupReceiptBatch.
func FuzzGroupReceiptBatch(f *testing.F) {
	f.Add(`<batch xmlns='urn:parley:groups:0'><received id='a1' jid='bob@x' stamp='2026-12-01T14:30:01.000Z'/>` +
		`<displayed id='a1' jid='carol@x'/></batch>`)
	f.Add(`<batch xmlns='urn:parley:groups:0'><received id='' jid='bob@x'/><acknowledged id='a' jid='b'/></batch>`)
	f.Fuzz(func(t *testing.T, s string) {
		el, err := xmlstream.ParseElement([]byte(s), stanza.NSClient, xmlstream.DefaultLimits())
		if err != nil {
			return
		}
		c := &Client{events: make(chan Event, len(el.Children)+1), closing: make(chan struct{})}
		c.groupReceiptBatch("g@groups.x", el)
		close(c.events)
		for e := range c.events {
			switch e := e.(type) {
			case *Receipt:
				if !strings.HasPrefix(e.From, "g@groups.x/") || len(e.IDs) != 1 || e.IDs[0] == "" {
					t.Fatalf("receipt %+v", e)
				}
			case *Marker:
				if !strings.HasPrefix(e.From, "g@groups.x/") || e.ID == "" || e.Kind != "displayed" {
					t.Fatalf("marker %+v", e)
				}
			default:
				t.Fatalf("unexpected event %T", e)
			}
		}
	})
}
