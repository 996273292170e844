package roster

import (
	"testing"

	"github.com/parley-im/parley/internal/store"
)

// The subscription states of RFC 6121 Appendix A, as visible roster items.
var states = map[string]store.RosterItem{
	"None":               {Subscription: store.SubNone},
	"None+PendingOut":    {Subscription: store.SubNone, AskOut: true},
	"None+PendingIn":     {Subscription: store.SubNone, PendingIn: true},
	"None+PendingOut/In": {Subscription: store.SubNone, AskOut: true, PendingIn: true},
	"To":                 {Subscription: store.SubTo},
	"To+PendingIn":       {Subscription: store.SubTo, PendingIn: true},
	"From":               {Subscription: store.SubFrom},
	"From+PendingOut":    {Subscription: store.SubFrom, AskOut: true},
	"Both":               {Subscription: store.SubBoth},
}

func stateName(t *testing.T, it store.RosterItem) string {
	t.Helper()
	for name, s := range states {
		if s.Subscription == it.Subscription && s.AskOut == it.AskOut && s.PendingIn == it.PendingIn &&
			!it.PreApproved && !it.Hidden {
			return name
		}
	}
	t.Fatalf("item %+v is not an Appendix A state", it)
	return ""
}

// row: existing state -> new state ("" = no state change).
type row struct{ from, to string }

func checkOutbound(t *testing.T, name string, fn func(*store.RosterItem, bool) action, rows []row) {
	t.Helper()
	for _, r := range rows {
		it := states[r.from]
		act := fn(&it, true)
		want := r.to
		if want == "" {
			want = r.from
			if act != keep {
				t.Errorf("outbound %s in %s: state changed to %+v, want no change", name, r.from, it)
				continue
			}
		}
		if got := stateName(t, it); got != want {
			t.Errorf("outbound %s in %s: state %s, want %s", name, r.from, got, want)
		}
	}
}

// Tables A.2.1 to A.2.4 (outbound subscription stanzas).
func TestOutboundStateTables(t *testing.T) {
	checkOutbound(t, "subscribe", outSubscribe, []row{
		{"None", "None+PendingOut"},
		{"None+PendingOut", ""},
		{"None+PendingIn", "None+PendingOut/In"},
		{"None+PendingOut/In", ""},
		{"To", ""},
		{"To+PendingIn", ""},
		{"From", "From+PendingOut"},
		{"From+PendingOut", ""},
		{"Both", ""},
	})
	checkOutbound(t, "unsubscribe", outUnsubscribe, []row{
		{"None", ""},
		{"None+PendingOut", "None"},
		{"None+PendingIn", ""},
		{"None+PendingOut/In", "None+PendingIn"},
		{"To", "None"},
		{"To+PendingIn", "None+PendingIn"},
		{"From", ""},
		{"From+PendingOut", "From"},
		{"Both", "From"},
	})
	// None, None+PendingOut and To become pre-approvals (RFC 6121 3.4):
	// tested separately.
	checkOutbound(t, "subscribed", outSubscribed, []row{
		{"None+PendingIn", "From"},
		{"None+PendingOut/In", "From+PendingOut"},
		{"To+PendingIn", "Both"},
		{"From", ""},
		{"From+PendingOut", ""},
		{"Both", ""},
	})
	checkOutbound(t, "unsubscribed", outUnsubscribed, []row{
		{"None", ""},
		{"None+PendingOut", ""},
		{"None+PendingIn", "None"},
		{"None+PendingOut/In", "None+PendingOut"},
		{"To", ""},
		{"To+PendingIn", "To"},
		{"From", "None"},
		{"From+PendingOut", "None+PendingOut"},
		{"Both", "To"},
	})
}

func TestOutboundSubscribedPreApproves(t *testing.T) {
	for _, from := range []string{"None", "None+PendingOut", "To"} {
		it := states[from]
		if act := outSubscribed(&it, true); act != put || !it.PreApproved || it.Subscription != states[from].Subscription {
			t.Errorf("subscribed in %s: %+v (action %d), want pre-approved", from, it, act)
		}
		if act := outSubscribed(&it, true); act != keep {
			t.Errorf("second subscribed in %s changed state", from)
		}
	}
	it := store.RosterItem{Subscription: store.SubNone}
	if act := outSubscribed(&it, false); act != put || !it.PreApproved || it.Hidden {
		t.Errorf("subscribed to a stranger: %+v, want a visible pre-approved item", it)
	}
}

// inRow: existing state -> delivered?, new state ("" = no state change).
type inRow struct {
	from    string
	deliver bool
	to      string
}

func checkInbound(t *testing.T, name string, fn func(*store.RosterItem, bool) (action, inResult), rows []inRow) {
	t.Helper()
	for _, r := range rows {
		it := states[r.from]
		act, res := fn(&it, true)
		if (res == deliver) != r.deliver {
			t.Errorf("inbound %s in %s: result %d, want delivered=%v", name, r.from, res, r.deliver)
		}
		want := r.to
		if want == "" {
			want = r.from
			if act != keep {
				t.Errorf("inbound %s in %s: state changed to %+v, want no change", name, r.from, it)
				continue
			}
		}
		if got := stateName(t, it); got != want {
			t.Errorf("inbound %s in %s: state %s, want %s", name, r.from, got, want)
		}
	}
}

// Tables A.3.1 to A.3.4 (inbound subscription stanzas).
func TestInboundStateTables(t *testing.T) {
	subscribe := func(it *store.RosterItem, found bool) (action, inResult) { return inSubscribe(it, found, "") }
	checkInbound(t, "subscribe", subscribe, []inRow{
		{"None", true, "None+PendingIn"},
		{"None+PendingOut", true, "None+PendingOut/In"},
		{"None+PendingIn", false, ""},
		{"None+PendingOut/In", false, ""},
		{"To", true, "To+PendingIn"},
		{"To+PendingIn", false, ""},
		{"From", false, ""}, // auto-replied
		{"From+PendingOut", false, ""},
		{"Both", false, ""},
	})
	checkInbound(t, "subscribed", inSubscribed, []inRow{
		{"None", false, ""},
		{"None+PendingOut", true, "To"},
		{"None+PendingIn", false, ""},
		{"None+PendingOut/In", true, "To+PendingIn"},
		{"To", false, ""},
		{"To+PendingIn", false, ""},
		{"From", false, ""},
		{"From+PendingOut", true, "Both"},
		{"Both", false, ""},
	})
	checkInbound(t, "unsubscribe", inUnsubscribe, []inRow{
		{"None", false, ""},
		{"None+PendingOut", false, ""},
		{"None+PendingIn", true, "None"},
		{"None+PendingOut/In", true, "None+PendingOut"},
		{"To", false, ""},
		{"To+PendingIn", true, "To"},
		{"From", true, "None"},
		{"From+PendingOut", true, "None+PendingOut"},
		{"Both", true, "To"},
	})
	checkInbound(t, "unsubscribed", inUnsubscribed, []inRow{
		{"None", false, ""},
		{"None+PendingOut", true, "None"},
		{"None+PendingIn", false, ""},
		{"None+PendingOut/In", true, "None+PendingIn"},
		{"To", true, "None"},
		{"To+PendingIn", true, "None+PendingIn"},
		{"From", false, ""},
		{"From+PendingOut", true, "From"},
		{"Both", true, "From"},
	})
}

func TestInboundSubscribeAutoReplies(t *testing.T) {
	for _, from := range []string{"From", "From+PendingOut", "Both"} {
		it := states[from]
		if _, res := inSubscribe(&it, true, ""); res != autoReply {
			t.Errorf("subscribe in %s: result %d, want auto-reply", from, res)
		}
	}
	it := store.RosterItem{Subscription: store.SubTo, PreApproved: true}
	if act, res := inSubscribe(&it, true, ""); act != put || res != autoApprove || it.Subscription != store.SubBoth || it.PreApproved {
		t.Errorf("subscribe when pre-approved: %+v, %d, %d", it, act, res)
	}
	it = store.RosterItem{Subscription: store.SubNone}
	if act, res := inSubscribe(&it, false, "hi"); act != put || res != deliver || !it.Hidden || !it.PendingIn || it.PendingInStatus != "hi" {
		t.Errorf("subscribe from a stranger: %+v, %d, %d", it, act, res)
	}
}
