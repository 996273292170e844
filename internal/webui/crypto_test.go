package webui

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parley-im/parley/internal/aesgcm"
	"github.com/parley-im/parley/internal/devicelink"
)

// TestJSCryptoOpensWhatGoSeals runs static/js/crypto.js under node on
// values the Go side made: a device credential sealed with devicelink.Seal
// (the server's code) to a key pair, and a file encrypted by
// internal/aesgcm (the Go client's code); the JS side opens both, refuses
// a credential bound to another device id, and encrypts a file that Go
// decrypts.
func TestJSCryptoOpensWhatGoSeals(t *testing.T) {
	nodePath(t)
	priv, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	const jid, id, token = "alice@example.org", "dev-3f9a2b1c4d5e", "c2VjcmV0IHRva2VuIG9mIDMyIGJ5dGVzLCBiYXNlNjQ"
	eph, sealed, err := devicelink.Seal(priv.PublicKey().Bytes(), []byte(token), devicelink.AAD(jid, id))
	if err != nil {
		t.Fatal(err)
	}
	plain := bytes.Repeat([]byte("a file of some size \xf0\x9f\x93\x8e "), 300)
	k, err := aesgcm.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	sr, err := aesgcm.NewSealReader(bytes.NewReader(plain), k)
	if err != nil {
		t.Fatal(err)
	}
	ct, err := io.ReadAll(sr)
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.RawURLEncoding.EncodeToString
	dir := t.TempDir()
	in := map[string]string{
		"priv": b64(priv.Bytes()), "pub": b64(priv.PublicKey().Bytes()), "eph": b64(eph), "credential": b64(sealed),
		"jid": jid, "id": id, "token": token,
		"file": base64.StdEncoding.EncodeToString(ct), "fragment": k.Fragment(), "plain": base64.StdEncoding.EncodeToString(plain),
		"out": filepath.Join(dir, "js-encrypted.json"),
	}
	data, _ := json.Marshal(in)
	path := filepath.Join(dir, "crypto.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out := runNode(t, "testdata/crypto_check.mjs", path)
	if !strings.Contains(out, "4 passed, 0 failed") {
		t.Fatalf("node: %s", out)
	}

	// What the JS side encrypted, Go decrypts (the recipient's side).
	var js struct{ Ciphertext, Fragment string }
	raw, err := os.ReadFile(in["out"])
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &js); err != nil {
		t.Fatal(err)
	}
	_, key, err := aesgcm.ParseURL("aesgcm://127.0.0.1/f#"+js.Fragment, "http")
	if err != nil {
		t.Fatal(err)
	}
	jct, _ := base64.StdEncoding.DecodeString(js.Ciphertext)
	var got bytes.Buffer
	ow, err := aesgcm.NewOpenWriter(&got, key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ow.Write(jct); err != nil {
		t.Fatal(err)
	}
	if err := ow.Close(); err != nil {
		t.Fatalf("Go cannot open the file JS encrypted: %v", err)
	}
	if !bytes.Equal(got.Bytes(), plain) {
		t.Fatal("Go decrypted other bytes than JS encrypted")
	}
}
