package groups

import (
	"testing"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store"
	"github.com/parley-im/parley/internal/wire/xmlstream"
)

// FuzzMUCDecoders feeds arbitrary payloads to the MUC view's decoders
// (muc#admin items, the configuration form): they never panic, accepted
// affiliation changes name a bare JID with an affiliation a group knows,
// and a parsed form changes only the subject, description or
// admins-only mode. Seed corpus: testdata/fuzz/FuzzMUCDecoders.
func FuzzMUCDecoders(f *testing.F) {
	f.Add(`<query xmlns='http://jabber.org/protocol/muc#admin'><item affiliation='member' jid='bob@example.org/x'/></query>`)
	f.Add(`<query xmlns='http://jabber.org/protocol/muc#admin'><item role='none' nick='bob'/></query>`)
	f.Add(`<x xmlns='jabber:x:data' type='submit'><field var='muc#roomconfig_roomname'><value>Crew</value></field>` +
		`<field var='muc#roomconfig_membersonly'><value>true</value></field></x>`)
	f.Add(`<x xmlns='jabber:x:data' type='submit'><field var='muc#roomconfig_whois'><value>moderators</value></field></x>`)
	f.Fuzz(func(t *testing.T, s string) {
		el, err := xmlstream.ParseElement([]byte(s), stanza.NSClient, xmlstream.DefaultLimits())
		if err != nil {
			return
		}
		if changes, serr := parseAffiliations(el); serr == nil {
			for _, c := range changes {
				j, err := jid.Parse(c.jid)
				if err != nil || !j.IsBare() || j.Local() == "" {
					t.Fatalf("accepted %q", c.jid)
				}
				switch c.affiliation {
				case "owner", "admin", "member", "none", "outcast":
				default:
					t.Fatalf("accepted affiliation %q", c.affiliation)
				}
			}
		}
		if cfg, serr := parseConfig(el, store.Group{Subject: "s"}); serr == nil {
			for _, a := range cfg.Attrs {
				if a.Name != "subject" && a.Name != "description" && a.Name != "admins-only" {
					t.Fatalf("form changes %q", a.Name)
				}
			}
		}
		receiptOf(el)
	})
}
