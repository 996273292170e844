package store

import (
	"context"
	"time"
)

// GroupRole is a member's role in a group.
type GroupRole string

// The roles, from most to least powerful.
const (
	RoleOwner  GroupRole = "owner"
	RoleAdmin  GroupRole = "admin"
	RoleMember GroupRole = "member"
)

// Group is a membership-based group (docs/protocol/groups.md).
type Group struct {
	ID          string    // the localpart of the group's address
	Subject     string    // its name
	Description string    // free text
	Owner       string    // the creator's bare JID
	Created     time.Time // when it was created
	AdminsOnly  bool      // only owners and admins may post
	MaxMembers  int       // the group's member limit; 0: the server's
}

// GroupMember is one member of a group.
type GroupMember struct {
	JID    string // bare JID
	Role   GroupRole
	Joined time.Time
}

// GroupInvite is an invite link of a group. The store keeps only the
// SHA-256 of the link's token, never the token.
type GroupInvite struct {
	Group     string    // the group's id
	TokenHash []byte    // SHA-256 of the token (32 bytes)
	Created   time.Time // when it was created
	Revoked   bool      // a revoked link joins no one
}

// GroupReceipt is one member's state of a group message: when it was
// delivered to and displayed by (read) one of the member's devices; zero
// if not (yet).
type GroupReceipt struct {
	Member               string
	Delivered, Displayed time.Time
}

// Groups stores groups, their members and invite links. DeleteAccount
// removes the user from every group (the groups themselves stay).
// Writes are durable on return.
type Groups interface {
	// CreateGroup stores g with its first members. ErrExists if the id
	// is taken.
	CreateGroup(ctx context.Context, g Group, members []GroupMember) error
	// GetGroup returns a group, or ErrNotFound.
	GetGroup(ctx context.Context, id string) (Group, error)
	// UpdateGroup replaces a group's subject, description, AdminsOnly and
	// MaxMembers (not its owner or creation time). ErrNotFound if there
	// is no such group.
	UpdateGroup(ctx context.Context, g Group) error
	// GroupMembers returns a group's members sorted by JID (byte order).
	// ErrNotFound if there is no such group.
	GroupMembers(ctx context.Context, id string) ([]GroupMember, error)
	// GroupMember returns one member, or ErrNotFound.
	GroupMember(ctx context.Context, id, jid string) (GroupMember, error)
	// AddGroupMember adds m to the group unless it already has limit
	// members or more (ErrLimit; limit <= 0: no limit). ErrNotFound if
	// there is no such group, ErrExists if m is a member. The count and
	// the insert are atomic.
	AddGroupMember(ctx context.Context, id string, m GroupMember, limit int) error
	// SetGroupRole changes a member's role; ErrNotFound if not a member.
	SetGroupRole(ctx context.Context, id, jid string, role GroupRole) error
	// RemoveGroupMember removes a member; ErrNotFound if not a member.
	RemoveGroupMember(ctx context.Context, id, jid string) error
	// UserGroups returns the ids of the groups user is a member of,
	// sorted (byte order); empty, not an error, when there are none.
	UserGroups(ctx context.Context, user string) ([]string, error)
	// AddGroupInvite stores an invite link of an existing group
	// (ErrNotFound otherwise); ErrExists if the hash is taken.
	AddGroupInvite(ctx context.Context, inv GroupInvite) error
	// GroupInvite returns the invite link with this token hash, revoked
	// or not, or ErrNotFound.
	GroupInvite(ctx context.Context, tokenHash []byte) (GroupInvite, error)
	// RevokeGroupInvite marks an invite link revoked; ErrNotFound if
	// there is none.
	RevokeGroupInvite(ctx context.Context, tokenHash []byte) error

	// RecordGroupMessage records that sender posted message id (the
	// sender's id attribute) in group, for receipts. Recording it again
	// changes nothing.
	RecordGroupMessage(ctx context.Context, group, id, sender string) error
	// GroupMessageSender returns who posted message id, or ErrNotFound.
	GroupMessageSender(ctx context.Context, group, id string) (string, error)
	// MarkGroupReceipt records that member got (displayed false) or read
	// (displayed true, which implies got) message id at t. A time already
	// recorded is kept.
	MarkGroupReceipt(ctx context.Context, group, id, member string, displayed bool, t time.Time) error
	// GroupReceipts returns the receipts of message id sorted by member;
	// empty, not an error, when there are none.
	GroupReceipts(ctx context.Context, group, id string) ([]GroupReceipt, error)
}
