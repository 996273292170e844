package auth

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/xdg-go/scram"

	"github.com/parley-im/parley/internal/store"
)

const testDomain = "example.org"

// memStore is a CredentialStore in memory.
type memStore struct {
	mu    sync.Mutex
	accts map[string]store.Account
	err   error // returned by every lookup when set
}

func (m *memStore) GetAccount(_ context.Context, bare string) (store.Account, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return store.Account{}, m.err
	}
	a, ok := m.accts[bare]
	if !ok {
		return store.Account{}, fmt.Errorf("get %s: %w", bare, store.ErrNotFound)
	}
	return a, nil
}

func (m *memStore) add(t testing.TB, bare, password string, iterations int) {
	t.Helper()
	a, err := NewAccount(bare, password, iterations)
	if err != nil {
		t.Fatal(err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.accts == nil {
		m.accts = make(map[string]store.Account)
	}
	m.accts[a.JID] = a
}

// alice's password; bob also exists.
const alicePassword = "correct horse battery staple"

func newTestAuth(t testing.TB) (*Authenticator, *memStore) {
	t.Helper()
	st := &memStore{}
	st.add(t, "alice@"+testDomain, alicePassword, 0)
	st.add(t, "bob@"+testDomain, "hunter2", 0)
	return NewAuthenticator(st), st
}

func plainConfig() Config { return Config{Domain: testDomain, AllowPlain: true} }

func cbConfig(data []byte) Config {
	c := plainConfig()
	c.ChannelBinding = func() ([]byte, bool) { return data, true }
	return c
}

func asFailure(t testing.TB, err error) *Failure {
	t.Helper()
	var f *Failure
	if !errors.As(err, &f) {
		t.Fatalf("error %v (%T) is not a *Failure", err, err)
	}
	return f
}

func wantFailure(t testing.TB, err error, cond string) *Failure {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want failure %s", cond)
	}
	f := asFailure(t, err)
	if f.Condition != cond {
		t.Fatalf("failure %q (%v), want %q", f.Condition, f, cond)
	}
	return f
}

// scramLogin runs a whole exchange with xdg-go/scram's client: the client
// sends client-first as the initial response, as XMPP clients do.
// It returns the server's error (nil on success) and checks that a
// successful exchange is also valid for the client (server signature).
func scramLogin(t testing.TB, a *Authenticator, cfg Config, mech string, conv *scram.ClientConversation) (*Negotiation, error) {
	t.Helper()
	ctx := context.Background()
	first, err := conv.Step("")
	if err != nil {
		t.Fatalf("client-first: %v", err)
	}
	n, serverFirst, err := a.Start(ctx, cfg, mech, []byte(first))
	if err != nil {
		return nil, err
	}
	final, err := conv.Step(string(serverFirst))
	if err != nil {
		t.Fatalf("client-final: %v", err)
	}
	ch, err := n.Step(ctx, []byte(final))
	if err != nil {
		if n.Done() || n.User() != "" || n.SuccessData() != nil {
			t.Fatal("failed negotiation reports success data")
		}
		return n, err
	}
	if ch != nil || !n.Done() {
		t.Fatalf("exchange not done after client-final (challenge %q)", ch)
	}
	if _, err := conv.Step(string(n.SuccessData())); err != nil || !conv.Valid() {
		t.Fatalf("client rejects server-final %q: %v", n.SuccessData(), err)
	}
	return n, nil
}

func scramClient(t testing.TB, h scram.HashGeneratorFcn, user, password, authzid string) *scram.Client {
	t.Helper()
	c, err := h.NewClient(user, password, authzid)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
