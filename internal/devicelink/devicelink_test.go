package devicelink

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"errors"
	"testing"
)

func TestPayloadRoundTrip(t *testing.T) {
	k, _ := ecdh.X25519().GenerateKey(rand.Reader)
	p := Payload{Ref: NewRef(), Key: k.PublicKey().Bytes()}
	got, err := ParsePayload("  " + p.String() + "\n")
	if err != nil || got.Ref != p.Ref || !bytes.Equal(got.Key, p.Key) {
		t.Fatalf("ParsePayload(%q) = %+v, %v", p.String(), got, err)
	}
	for _, bad := range []string{"", "parley-link:2:abc:" + EncodeKey(p.Key), "parley-link:1:abc",
		"parley-link:1:a b:" + EncodeKey(p.Key), "parley-link:1:abc:AAAA", "parley-link:1::" + EncodeKey(p.Key)} {
		if _, err := ParsePayload(bad); !errors.Is(err, ErrPayload) {
			t.Errorf("ParsePayload(%q) err = %v, want ErrPayload", bad, err)
		}
	}
}

func TestSealOpen(t *testing.T) {
	dev, _ := ecdh.X25519().GenerateKey(rand.Reader)
	other, _ := ecdh.X25519().GenerateKey(rand.Reader)
	tok := NewToken()
	aad := AAD("alice@example.org", "dev-1")
	eph, ct, err := Seal(dev.PublicKey().Bytes(), []byte(tok), aad)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(ct, []byte(tok)) {
		t.Fatal("the token is visible in the ciphertext")
	}
	pt, err := Open(dev, eph, ct, aad)
	if err != nil || string(pt) != tok {
		t.Fatalf("Open = %q, %v", pt, err)
	}
	if _, err := Open(other, eph, ct, aad); !errors.Is(err, ErrDecrypt) {
		t.Errorf("another key opened it: %v", err)
	}
	if _, err := Open(dev, eph, ct, AAD("alice@example.org", "dev-2")); !errors.Is(err, ErrDecrypt) {
		t.Errorf("another device id opened it: %v", err)
	}
	ct[len(ct)-1] ^= 1
	if _, err := Open(dev, eph, ct, aad); !errors.Is(err, ErrDecrypt) {
		t.Errorf("a tampered credential opened: %v", err)
	}
}

func TestTokens(t *testing.T) {
	a, b := NewToken(), NewToken()
	if a == b || len(a) != 43 {
		t.Fatalf("tokens %q %q", a, b)
	}
	h := HashToken(a)
	if !TokenMatches(a, h) || TokenMatches(b, h) || len(h) != 32 {
		t.Fatal("TokenMatches")
	}
	if id := NewDeviceID(); len(id) != 16 {
		t.Fatalf("device id %q", id)
	}
}
