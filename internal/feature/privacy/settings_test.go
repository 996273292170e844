package privacy

import (
	"testing"

	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store"
)

func TestDecodeAppliesOnlyGivenAttributes(t *testing.T) {
	start := store.PrivacySettings{LastSeen: store.AudienceContacts, Photo: store.AudienceNobody}
	cases := []struct {
		attrs []string
		want  store.PrivacySettings
		bad   bool
	}{
		{nil, start, false},
		{[]string{"last-seen", "nobody"}, store.PrivacySettings{LastSeen: store.AudienceNobody, Photo: store.AudienceNobody}, false},
		{[]string{"online", "same-as-last-seen", "read-receipts", "off", "photo", "everyone"},
			store.PrivacySettings{LastSeen: store.AudienceContacts, OnlineAsLastSeen: true, ReadReceiptsOff: true}, false},
		{[]string{"last-seen", "friends"}, start, true},
		{[]string{"online", "contacts"}, start, true},
		{[]string{"read-receipts", "yes"}, start, true},
	}
	for _, tc := range cases {
		got, err := decode(stanza.NewElement(NS, "privacy", tc.attrs...), start)
		if (err != nil) != tc.bad || (!tc.bad && got != tc.want) {
			t.Errorf("decode(%q) = %+v, %v; want %+v (error %v)", tc.attrs, got, err, tc.want, tc.bad)
		}
	}
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	for _, p := range []store.PrivacySettings{
		{}, {LastSeen: store.AudienceNobody, OnlineAsLastSeen: true, ReadReceiptsOff: true, Photo: store.AudienceContacts},
	} {
		got, err := decode(encode(p), store.PrivacySettings{Photo: store.AudienceNobody})
		if err != nil || got != p {
			t.Errorf("round trip of %+v = %+v, %v", p, got, err)
		}
	}
}
