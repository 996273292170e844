package auth

import (
	"bytes"
	"context"
	"errors"
	"unicode/utf8"

	"github.com/parley-im/parley/internal/devicelink"
	"github.com/parley-im/parley/internal/store"
)

// deviceLogin handles an X-PARLEY-DEVICE message (docs/protocol/devices.md):
// username NUL device-id NUL token, in one initial response. The device
// must exist (a revoked device's record is gone) and the SHA-256 of the
// token must match the stored hash, compared in constant time. An unknown
// user or device hashes the token too and fails the same way.
func (n *Negotiation) deviceLogin(ctx context.Context, msg []byte) error {
	parts := bytes.Split(msg, []byte{0})
	if len(parts) != 3 || len(parts[0]) == 0 || len(parts[1]) == 0 || len(parts[2]) == 0 {
		return fail(CondMalformedRequest, "X-PARLEY-DEVICE needs username NUL device-id NUL token")
	}
	for _, p := range parts {
		if !utf8.Valid(p) {
			return fail(CondMalformedRequest, "X-PARLEY-DEVICE message is not UTF-8")
		}
	}
	user, valid := n.resolveUser(string(parts[0]))
	id, token := string(parts[1]), string(parts[2])
	hash := make([]byte, 32) // matches no token
	if valid {
		d, err := n.devices.GetDevice(ctx, user, id)
		switch {
		case err == nil:
			hash = d.TokenHash
		case !errors.Is(err, store.ErrNotFound):
			return &Failure{Condition: CondTemporaryAuthFailure, cause: err}
		}
	}
	if !devicelink.TokenMatches(token, hash) || !valid {
		return errNotAuthorized()
	}
	n.user, n.device = user, id
	n.state = stateDone
	return nil
}
