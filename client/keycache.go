package client

import (
	"sync"

	"github.com/xdg-go/scram"
)

// KeyCache keeps the SCRAM keys a client derived from a password (PBKDF2,
// the expensive part of a login for the client) across logins, per account
// and mechanism. Share one between the Options of many logins: a load
// generator that logs the same devices in again then measures the server,
// not its own key derivation. Safe for concurrent use.
type KeyCache struct {
	mu      sync.Mutex
	clients map[string]*scram.Client
}

// NewKeyCache returns an empty cache.
func NewKeyCache() *KeyCache { return &KeyCache{clients: map[string]*scram.Client{}} }

// client returns the SCRAM client of (mech, user, password), which caches
// its derived keys per salt and iteration count.
func (k *KeyCache) client(mech string, hash scram.HashGeneratorFcn, user, password string) (*scram.Client, error) {
	key := mech + "\x00" + user + "\x00" + password
	k.mu.Lock()
	defer k.mu.Unlock()
	if c, ok := k.clients[key]; ok {
		return c, nil
	}
	c, err := hash.NewClient(user, password, "")
	if err != nil {
		return nil, err
	}
	k.clients[key] = c
	return c, nil
}

// Len is the number of (mechanism, account, password) the cache holds a
// SCRAM client for: each derives its keys at its first login.
func (k *KeyCache) Len() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.clients)
}
