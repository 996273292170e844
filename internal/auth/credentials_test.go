package auth

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestNewAccount(t *testing.T) {
	before := time.Now()
	a, err := NewAccount("Alice@Example.ORG", "s3cret", 0)
	if err != nil {
		t.Fatal(err)
	}
	if a.JID != "alice@example.org" {
		t.Errorf("JID %q", a.JID)
	}
	if a.Created.Before(before) || a.Created.After(time.Now()) {
		t.Errorf("Created %v", a.Created)
	}
	for _, k := range []struct {
		name string
		h    Hash
		salt []byte
		it   int
		sk   []byte
		svk  []byte
	}{{"SHA1", SHA1, a.SHA1.Salt, a.SHA1.Iterations, a.SHA1.StoredKey, a.SHA1.ServerKey},
		{"SHA256", SHA256, a.SHA256.Salt, a.SHA256.Iterations, a.SHA256.StoredKey, a.SHA256.ServerKey}} {
		if len(k.salt) != 16 || k.it != DefaultIterations || len(k.sk) != k.h.size() || len(k.svk) != k.h.size() {
			t.Errorf("%s keys: salt %d it %d stored %d server %d", k.name, len(k.salt), k.it, len(k.sk), len(k.svk))
		}
	}
	if bytes.Equal(a.SHA1.Salt, a.SHA256.Salt) {
		t.Error("SHA-1 and SHA-256 share a salt")
	}
	// Same password, new salts.
	b, _ := NewAccount("alice@example.org", "s3cret", 0)
	if bytes.Equal(a.SHA256.Salt, b.SHA256.Salt) || bytes.Equal(a.SHA256.StoredKey, b.SHA256.StoredKey) {
		t.Error("salts are not random")
	}
	// The stored keys are the ones DeriveKeys computes.
	if d := DeriveKeys("s3cret", SHA256, a.SHA256.Salt, DefaultIterations); !bytes.Equal(d.StoredKey, a.SHA256.StoredKey) || !bytes.Equal(d.ServerKey, a.SHA256.ServerKey) {
		t.Error("DeriveKeys disagrees with NewAccount")
	}
	if c, _ := NewAccount("dave@example.org", "pw", 5000); c.SHA1.Iterations != 5000 || c.SHA256.Iterations != 5000 {
		t.Error("iterations not used")
	}
}

func TestNewAccountErrors(t *testing.T) {
	const pw = "Tr0ub4dor&3"
	tests := []struct {
		jid, password string
		iterations    int
		want          error
	}{
		{"alice@example.org", "", 0, ErrInvalidPassword},
		{"alice@example.org", "bell\u0007", 0, ErrInvalidPassword},
		{"alice@example.org", "\xff" + pw, 0, ErrInvalidPassword},
		{"example.org", pw, 0, ErrInvalidJID},
		{"alice@example.org/phone", pw, 0, ErrInvalidJID},
		{"", pw, 0, ErrInvalidJID},
		{"alice@example.org", pw, -1, ErrInvalidIterations},
		{"alice@example.org", pw, MaxIterations + 1, ErrInvalidIterations},
	}
	for _, tt := range tests {
		_, err := NewAccount(tt.jid, tt.password, tt.iterations)
		if !errors.Is(err, tt.want) {
			t.Errorf("NewAccount(%q, %q, %d) = %v, want %v", tt.jid, tt.password, tt.iterations, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), pw) {
			t.Errorf("error %q shows the password", err)
		}
	}
}

func TestDeriveKeysInvalid(t *testing.T) {
	if k := DeriveKeys("pw", SHA256, []byte("salt"), 0); len(k.StoredKey) != 0 {
		t.Error("0 iterations derived keys")
	}
	if SHA1.String() != "SHA-1" || SHA256.String() != "SHA-256" || Hash(9).String() != "Hash(9)" {
		t.Error("Hash.String")
	}
}
