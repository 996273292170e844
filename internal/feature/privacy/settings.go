package privacy

import (
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store"
)

// The attribute values of <privacy/> (docs/protocol/privacy.md).
var audienceNames = [...]string{
	store.AudienceEveryone: "everyone",
	store.AudienceContacts: "contacts",
	store.AudienceNobody:   "nobody",
}

const (
	onlineEveryone   = "everyone"
	onlineAsLastSeen = "same-as-last-seen"
	receiptsOn       = "on"
	receiptsOff      = "off"
)

// encode returns <privacy/> with every setting as an attribute.
func encode(p store.PrivacySettings) *stanza.Element {
	online, receipts := onlineEveryone, receiptsOn
	if p.OnlineAsLastSeen {
		online = onlineAsLastSeen
	}
	if p.ReadReceiptsOff {
		receipts = receiptsOff
	}
	return stanza.NewElement(NS, "privacy", "last-seen", audienceNames[p.LastSeen], "online", online,
		"read-receipts", receipts, "photo", audienceNames[p.Photo])
}

// decode applies the attributes of q to p: absent attributes keep their
// setting; an unknown value is a bad request.
func decode(q *stanza.Element, p store.PrivacySettings) (store.PrivacySettings, *stanza.Error) {
	var ok bool
	if v := q.Attr("last-seen"); v != "" {
		if p.LastSeen, ok = audience(v); !ok {
			return p, badValue("last-seen", v)
		}
	}
	if v := q.Attr("photo"); v != "" {
		if p.Photo, ok = audience(v); !ok {
			return p, badValue("photo", v)
		}
	}
	switch v := q.Attr("online"); v {
	case "":
	case onlineEveryone, onlineAsLastSeen:
		p.OnlineAsLastSeen = v == onlineAsLastSeen
	default:
		return p, badValue("online", v)
	}
	switch v := q.Attr("read-receipts"); v {
	case "":
	case receiptsOn, receiptsOff:
		p.ReadReceiptsOff = v == receiptsOff
	default:
		return p, badValue("read-receipts", v)
	}
	return p, nil
}

func audience(v string) (store.Audience, bool) {
	for a, name := range audienceNames {
		if name == v {
			return store.Audience(a), true
		}
	}
	return 0, false
}

func badValue(attr, v string) *stanza.Error {
	return stanza.NewError(stanza.BadRequest, "unknown value "+v+" for "+attr)
}
