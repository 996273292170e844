package store

import "context"

// Audience says who may see something of a user's (WhatsApp's privacy
// settings). The zero value is AudienceEveryone.
type Audience uint8

// Audiences.
const (
	// AudienceEveryone: whoever the protocol lets see it.
	AudienceEveryone Audience = iota
	// AudienceContacts: only contacts, the people the user added (in the
	// user's roster with a subscription of "to" or "both").
	AudienceContacts
	// AudienceNobody: no one but the user's own devices.
	AudienceNobody
)

// PrivacySettings are one user's privacy settings. The zero value is the
// default: everyone sees everything and read receipts are on.
type PrivacySettings struct {
	// LastSeen: who sees when the user was last online (XEP-0012).
	LastSeen Audience
	// OnlineAsLastSeen: the user's online status (available presence) is
	// shown to the LastSeen audience only; false shows it to everyone.
	OnlineAsLastSeen bool
	// ReadReceiptsOff: the user neither sends nor gets "displayed" chat
	// markers (XEP-0333).
	ReadReceiptsOff bool
	// Photo: who sees the user's avatar (XEP-0084, vCard photo).
	Photo Audience
}

// Privacy stores each user's privacy settings.
type Privacy interface {
	// GetPrivacy returns the user's settings: the zero PrivacySettings
	// (not ErrNotFound) when none were stored.
	GetPrivacy(ctx context.Context, user string) (PrivacySettings, error)
	// PutPrivacy replaces the user's settings. Durable.
	PutPrivacy(ctx context.Context, user string, p PrivacySettings) error
}
