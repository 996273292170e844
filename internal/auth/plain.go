package auth

import (
	"bytes"
	"context"
	"crypto/hmac"
	"unicode/utf8"
)

// plain handles a PLAIN message (RFC 4616): [authzid] NUL authcid NUL
// passwd. It verifies by deriving SHA-256 keys from the prepared password
// with the stored salt and iteration count and comparing StoredKey in
// constant time. Unknown users run the same PBKDF2 against fake
// credentials, so the timing does not tell them apart.
func (n *Negotiation) plain(ctx context.Context, msg []byte) error {
	parts := bytes.Split(msg, []byte{0})
	if len(parts) != 3 {
		return fail(CondMalformedRequest, "PLAIN needs authzid NUL authcid NUL password")
	}
	for _, p := range parts {
		if !utf8.Valid(p) {
			return fail(CondMalformedRequest, "PLAIN message is not UTF-8")
		}
	}
	authzid, authcid := string(parts[0]), string(parts[1])
	if authcid == "" || len(parts[2]) == 0 {
		return fail(CondMalformedRequest, "empty username or password")
	}
	user, valid := n.resolveUser(authcid)
	if err := checkAuthzid(authzid, user, valid); err != nil {
		return err
	}
	keys, found, err := n.keys(ctx, user, valid, authcid, SHA256)
	if err != nil {
		return err
	}
	// A password that fails preparation can match no account; derive
	// anyway so the cost does not depend on it.
	password, prepared := preparePassword(string(parts[2]))
	if !prepared {
		password = string(parts[2])
	}
	got := DeriveKeys(password, SHA256, keys.Salt, keys.Iterations)
	match := hmac.Equal(got.StoredKey, keys.StoredKey)
	if !match || !found || !prepared {
		return errNotAuthorized()
	}
	n.user = user
	n.state = stateDone
	return nil
}
