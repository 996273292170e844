package store

import (
	"context"
	"errors"
	"time"
)

// ErrLimit is returned by AddDevice when the account already has as many
// linked devices as allowed.
var ErrLimit = errors.New("store: limit reached")

// Device is a device linked to an account by pairing (docs/protocol/devices.md).
// The store keeps only a hash of the device's credential: never the token.
type Device struct {
	ID        string    // the device id, also the resource it binds
	Name      string    // what the user called it ("Firefox on the laptop")
	Created   time.Time // when it was linked
	LastSeen  time.Time // its last login; zero if it never logged in
	TokenHash []byte    // SHA-256 of the device token (32 bytes)
}

// Devices stores the devices linked to accounts. Revoking a device deletes
// its record, so its credential can never match again. DeleteAccount
// removes an account's devices.
type Devices interface {
	// AddDevice links d to the existing account user, unless the account
	// already has limit devices or more (ErrLimit; limit <= 0: no limit).
	// ErrNotFound if there is no such account, ErrExists if the id is
	// taken. The count and the insert are atomic. Durable.
	AddDevice(ctx context.Context, user string, d Device, limit int) error
	// GetDevice returns one device of user, or ErrNotFound.
	GetDevice(ctx context.Context, user, id string) (Device, error)
	// ListDevices returns user's devices sorted by id (byte order); empty,
	// not an error, when there are none.
	ListDevices(ctx context.Context, user string) ([]Device, error)
	// TouchDevice records a login of the device at t (not durable: a
	// crash may lose the last touches). ErrNotFound if there is none.
	TouchDevice(ctx context.Context, user, id string, t time.Time) error
	// RevokeDevice deletes the device; ErrNotFound if there is none. Durable.
	RevokeDevice(ctx context.Context, user, id string) error
}
