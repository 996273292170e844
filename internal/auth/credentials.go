package auth

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"
	"hash"
	"time"
	"unicode/utf8"

	"golang.org/x/text/secure/precis"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/store"
)

// DefaultIterations is the PBKDF2 iteration count for new credentials, the
// minimum RFC 7677 recommends. The fake credentials shown for unknown users
// use it too, so accounts created with another count are distinguishable
// from unknown users by their i= value.
const DefaultIterations = 4096

// MaxIterations bounds the iteration count NewCredentials accepts: PLAIN runs
// PBKDF2 with the stored count on every login.
const MaxIterations = 1 << 20

// saltLen is the size of the random salts NewCredentials draws.
const saltLen = 16

// Errors from creating credentials. Check with errors.Is.
var (
	ErrInvalidPassword   = errors.New("auth: password is empty or not a valid PRECIS OpaqueString")
	ErrInvalidJID        = errors.New("auth: account address must be a bare JID with a localpart")
	ErrInvalidIterations = errors.New("auth: iteration count out of range")
	ErrDerivation        = errors.New("auth: key derivation refused (FIPS 140-only mode?)")
)

// Hash is the hash function of a SCRAM key set.
type Hash int

// Hashes Parley stores keys for.
const (
	SHA1 Hash = iota + 1
	SHA256
)

func (h Hash) String() string {
	switch h {
	case SHA1:
		return "SHA-1"
	case SHA256:
		return "SHA-256"
	}
	return fmt.Sprintf("Hash(%d)", int(h))
}

// newHash returns the constructor for h. An invalid Hash is a programming
// error (it never comes from a client) and panics.
func (h Hash) newHash() func() hash.Hash {
	switch h {
	case SHA1:
		return sha1.New
	case SHA256:
		return sha256.New
	}
	panic("auth: invalid Hash " + h.String())
}

// size is the output size of h in bytes.
func (h Hash) size() int {
	if h == SHA1 {
		return sha1.Size
	}
	return sha256.Size
}

// DeriveKeys computes the SCRAM keys (RFC 5802 section 3) for an already
// prepared password: SaltedPassword = PBKDF2-HMAC(password, salt,
// iterations), StoredKey = H(HMAC(SaltedPassword, "Client Key")), ServerKey
// = HMAC(SaltedPassword, "Server Key"). The salt is copied. It returns zero
// keys (empty StoredKey) if iterations < 1 or the platform refuses the
// derivation (SHA-1 in FIPS 140-only mode); such keys never verify.
func DeriveKeys(password string, h Hash, salt []byte, iterations int) store.SCRAMKeys {
	if iterations < 1 {
		return store.SCRAMKeys{}
	}
	newHash := h.newHash()
	salted, err := pbkdf2.Key(newHash, password, salt, iterations, h.size())
	if err != nil {
		return store.SCRAMKeys{}
	}
	clientKey := hmacSum(newHash, salted, []byte("Client Key"))
	hs := newHash()
	hs.Write(clientKey)
	return store.SCRAMKeys{
		Salt:       append([]byte(nil), salt...),
		Iterations: iterations,
		StoredKey:  hs.Sum(nil),
		ServerKey:  hmacSum(newHash, salted, []byte("Server Key")),
	}
}

func hmacSum(newHash func() hash.Hash, key, data []byte) []byte {
	m := hmac.New(newHash, key)
	m.Write(data)
	return m.Sum(nil)
}

// preparePassword applies PRECIS OpaqueString (RFC 8265 section 4.2), the
// preparation XMPP uses for passwords.
func preparePassword(password string) (string, bool) {
	if password == "" || !utf8.ValidString(password) {
		return "", false
	}
	p, err := precis.OpaqueString.String(password)
	if err != nil || p == "" {
		return "", false
	}
	return p, true
}

// NewCredentials prepares password (PRECIS OpaqueString, non-empty) and
// derives fresh SCRAM-SHA-1 and SCRAM-SHA-256 key sets with independent
// random 16-byte salts. iterations 0 means DefaultIterations. Use it for a
// password change (store.Accounts.UpdateCredentials). Errors never contain
// the password.
func NewCredentials(password string, iterations int) (sha1Keys, sha256Keys store.SCRAMKeys, err error) {
	if iterations == 0 {
		iterations = DefaultIterations
	}
	if iterations < 1 || iterations > MaxIterations {
		return store.SCRAMKeys{}, store.SCRAMKeys{}, ErrInvalidIterations
	}
	prepared, ok := preparePassword(password)
	if !ok {
		return store.SCRAMKeys{}, store.SCRAMKeys{}, ErrInvalidPassword
	}
	var salts [2 * saltLen]byte
	rand.Read(salts[:]) // never fails (Go 1.24+)
	sha1Keys = DeriveKeys(prepared, SHA1, salts[:saltLen], iterations)
	sha256Keys = DeriveKeys(prepared, SHA256, salts[saltLen:], iterations)
	if len(sha1Keys.StoredKey) == 0 || len(sha256Keys.StoredKey) == 0 {
		return store.SCRAMKeys{}, store.SCRAMKeys{}, ErrDerivation
	}
	return sha1Keys, sha256Keys, nil
}

// NewAccount builds the account record for bareJID (normalized; it must
// have a localpart and no resource) with both SCRAM key sets derived from
// password (see NewCredentials) and Created set to now. It does not store
// anything.
func NewAccount(bareJID, password string, iterations int) (store.Account, error) {
	j, err := jid.Parse(bareJID)
	if err != nil {
		return store.Account{}, fmt.Errorf("%w: %w", ErrInvalidJID, err)
	}
	if j.Local() == "" || !j.IsBare() {
		return store.Account{}, ErrInvalidJID
	}
	s1, s256, err := NewCredentials(password, iterations)
	if err != nil {
		return store.Account{}, err
	}
	return store.Account{JID: j.String(), SHA1: s1, SHA256: s256, Created: time.Now()}, nil
}

// usable reports whether stored keys can verify anything for h.
func usable(k store.SCRAMKeys, h Hash) bool {
	return len(k.Salt) > 0 && k.Iterations > 0 && k.Iterations <= MaxIterations &&
		len(k.StoredKey) == h.size() && len(k.ServerKey) == h.size()
}

// fakeMAC is a pooled HMAC-SHA-512 keyed for fake credentials, with the
// buffer its message is assembled in.
type fakeMAC struct {
	mac hash.Hash
	msg []byte
}

// fakeKeys returns the deterministic credentials shown for an identity that
// has no (usable) account: salt and keys from one HMAC-SHA-512 under the
// Authenticator's random key, so repeated attempts for the same name see the
// same salt, and no client can produce a proof (that would need a preimage
// of StoredKey). ServerKey is never used: the proof check fails first.
func (a *Authenticator) fakeKeys(h Hash, identity string) store.SCRAMKeys {
	m, _ := a.fakeMACs.Get().(*fakeMAC)
	if m == nil {
		m = &fakeMAC{mac: hmac.New(sha512.New, a.fakeKey[:])}
	} else {
		m.mac.Reset()
	}
	m.msg = append(append(append(m.msg[:0], h.String()...), 0), identity...)
	m.mac.Write(m.msg)
	sum := m.mac.Sum(nil) // 64 bytes: salt 16, then StoredKey
	a.fakeMACs.Put(m)
	iterations := DefaultIterations
	if a.fakeIterations != 0 {
		iterations = a.fakeIterations
	}
	return store.SCRAMKeys{
		Salt:       sum[:saltLen:saltLen],
		Iterations: iterations,
		StoredKey:  sum[saltLen : saltLen+h.size() : saltLen+h.size()],
		ServerKey:  sum[saltLen : saltLen+h.size() : saltLen+h.size()],
	}
}
