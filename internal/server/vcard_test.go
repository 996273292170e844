package server

// Scenario test for vcard-temp (XEP-0054) with the Go test client: alice
// sets her vCard; contacts and others get it, with the PHOTO only as her
// photo privacy setting allows.

import (
	"testing"

	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/xmpptest"
)

// getVCard returns the vCard c gets for user ("" for its own).
func getVCard(t *testing.T, c *xmpptest.Client, id, user string) *stanza.Element {
	t.Helper()
	to := ""
	if user != "" {
		to = " to='" + user + "'"
	}
	c.SendRaw("<iq type='get' id='" + id + "'" + to + "><vCard xmlns='vcard-temp'/></iq>")
	r := c.Expect("vCard "+id, xmpptest.IsIQResult(id))
	v := r.Child("vcard-temp", "vCard")
	if r.Type() != "result" || v == nil {
		t.Fatalf("vCard get %s: %v", id, r)
	}
	return v
}

func TestVCardSetGetAndPhotoPrivacy(t *testing.T) {
	ts := startServer(t, nil)
	privacyUsers(t, ts) // bob is alice's contact; carol only subscribed to her
	alice, bob, carol := ts.login(t, "alice", "phone"), ts.login(t, "bob", "pc"), ts.login(t, "carol", "pc")
	if v := getVCard(t, alice, "g0", ""); len(v.Children) != 0 {
		t.Fatalf("vCard before any set: %v", v)
	}
	alice.SendRaw("<iq type='set' id='s1'><vCard xmlns='vcard-temp'><FN>Alice Liddell</FN>" +
		"<PHOTO><TYPE>image/png</TYPE><BINVAL>iVBORw0KGgo=</BINVAL></PHOTO></vCard></iq>")
	if r := alice.Expect("vCard set", xmpptest.IsIQResult("s1")); r.Type() != "result" {
		t.Fatalf("vCard set: %v", r)
	}
	if v := getVCard(t, alice, "g1", ""); v.ChildText("vcard-temp", "FN") != "Alice Liddell" || v.Child("vcard-temp", "PHOTO") == nil {
		t.Fatalf("own vCard: %v", v)
	}
	hasPhoto := func(c *xmpptest.Client, id string) bool {
		v := getVCard(t, c, id, "alice@localhost")
		if v.ChildText("vcard-temp", "FN") != "Alice Liddell" {
			t.Fatalf("%s got alice's vCard without FN: %v", c.JID, v)
		}
		return v.Child("vcard-temp", "PHOTO") != nil
	}
	for _, tc := range []struct {
		photo      string
		bob, carol bool
	}{{"everyone", true, true}, {"contacts", true, false}, {"nobody", false, false}} {
		setPrivacy(t, alice, "p-"+tc.photo, "photo", tc.photo)
		if got := hasPhoto(bob, "b-"+tc.photo); got != tc.bob {
			t.Errorf("photo %s: bob (a contact) sees the PHOTO = %v, want %v", tc.photo, got, tc.bob)
		}
		if got := hasPhoto(carol, "c-"+tc.photo); got != tc.carol {
			t.Errorf("photo %s: carol (not a contact) sees the PHOTO = %v, want %v", tc.photo, got, tc.carol)
		}
	}
	bob.SendRaw("<iq type='set' id='x1' to='alice@localhost'><vCard xmlns='vcard-temp'><FN>mallory</FN></vCard></iq>")
	if r := bob.Expect("setting another's vCard", xmpptest.IsIQResult("x1")); errorCondition(r) != "not-allowed" {
		t.Fatalf("bob setting alice's vCard: %v, want not-allowed", r)
	}
	bob.SendRaw("<iq type='get' id='x2' to='alice@localhost'><pubsub xmlns='" + nsPubSub + "'><items node='vcard-temp'/></pubsub></iq>")
	if r := bob.Expect("the vCard node over PEP", xmpptest.IsIQResult("x2")); errorCondition(r) != "not-allowed" {
		t.Fatalf("bob reading alice's vCard node over PEP: %v, want not-allowed", r)
	}
}

// TestVCardCarriesThePEPAvatar: bob publishes his avatar over PEP only
// (XEP-0084); alice, a vCard-avatar (XEP-0153) client, finds it as the
// PHOTO of his vCard.
func TestVCardCarriesThePEPAvatar(t *testing.T) {
	ts := startServer(t, nil)
	privacyUsers(t, ts)
	alice, bob := ts.login(t, "alice", "phone"), ts.login(t, "bob", "pc")
	bob.SendRaw("<iq type='set' id='d1'><pubsub xmlns='" + nsPubSub + "'><publish node='urn:xmpp:avatar:data'><item id='h1'>" +
		"<data xmlns='urn:xmpp:avatar:data'>iVBORw0KGgo=</data></item></publish></pubsub></iq>")
	bob.Expect("avatar data", xmpptest.IsIQResult("d1"))
	publishAvatarMeta(t, bob, "m1", "h1")
	v := getVCard(t, alice, "v1", "bob@localhost")
	photo := v.Child("vcard-temp", "PHOTO")
	if photo == nil || photo.ChildText("vcard-temp", "BINVAL") != "iVBORw0KGgo=" || photo.ChildText("vcard-temp", "TYPE") != "image/png" {
		t.Fatalf("bob's vCard: %v, want the PEP avatar as PHOTO", v)
	}
}
