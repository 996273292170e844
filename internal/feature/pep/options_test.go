package pep

import (
	"testing"

	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store"
)

func publishOptions(fields ...string) *stanza.Element {
	x := stanza.NewElement(nsData, "x", "type", "submit")
	for i := 0; i+1 < len(fields); i += 2 {
		v := stanza.NewElement(nsData, "value")
		v.Text = fields[i+1]
		x.AddChild(stanza.NewElement(nsData, "field", "var", fields[i]).AddChild(v))
	}
	return stanza.NewElement(NSPubSub, "publish-options").AddChild(x)
}

func TestApplyOptions(t *testing.T) {
	base := store.PEPNode{Access: AccessPresence, MaxItems: 1}
	cases := []struct {
		name    string
		opts    *stanza.Element
		want    store.PEPNode
		changed bool
		bad     bool
	}{
		{"none", nil, base, false, false},
		{"same", publishOptions("pubsub#access_model", "presence", "pubsub#persist_items", "true"), base, false, false},
		{"bookmarks", publishOptions("pubsub#access_model", "whitelist", "pubsub#max_items", "max"),
			store.PEPNode{Access: AccessWhitelist, MaxItems: maxItemsLimit}, true, false},
		{"omemo bundle", publishOptions("pubsub#access_model", "open"), store.PEPNode{Access: AccessOpen, MaxItems: 1}, true, false},
		{"roster is presence", publishOptions("pubsub#access_model", "roster"), base, false, false},
		{"capped", publishOptions("pubsub#max_items", "5000"), store.PEPNode{Access: AccessPresence, MaxItems: maxItemsLimit}, true, false},
		{"unknown model", publishOptions("pubsub#access_model", "authorize"), base, false, true},
		{"bad max", publishOptions("pubsub#max_items", "0"), base, false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base
			changed, err := applyOptions(&cfg, tc.opts)
			if tc.bad {
				if err == nil || err.Condition != stanza.Conflict {
					t.Fatalf("err = %v, want conflict (precondition-not-met)", err)
				}
				return
			}
			if err != nil || cfg != tc.want || changed != tc.changed {
				t.Fatalf("got %+v changed %v err %v, want %+v changed %v", cfg, changed, err, tc.want, tc.changed)
			}
		})
	}
}
