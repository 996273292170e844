package admin

import (
	"context"
	"errors"
	"fmt"

	"github.com/parley-im/parley/internal/auth"
	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/store"
)

// Accounts is what the admin API does with accounts. The Server serves an
// implementation over the socket (StoreAccounts), and the Client is one.
// JIDs are bare ("alice@localhost"); implementations normalize them.
//
// Errors are *Error values (check them with errors.Is against ErrUserExists,
// ErrNoSuchUser and ErrInvalid); their text never contains a password.
type Accounts interface {
	// CreateUser creates an account with password.
	CreateUser(ctx context.Context, jid, password string) error
	// DeleteUser deletes an account and everything stored for it.
	DeleteUser(ctx context.Context, jid string) error
	// SetPassword replaces an account's password.
	SetPassword(ctx context.Context, jid, password string) error
	// ListUsers returns the bare JIDs of the accounts in domain (every
	// domain when it is ""), sorted.
	ListUsers(ctx context.Context, domain string) ([]string, error)
}

// Kinds of failure. Check with errors.Is.
var (
	ErrUserExists = errors.New("admin: user already exists")
	ErrNoSuchUser = errors.New("admin: no such user")
	ErrInvalid    = errors.New("admin: invalid request")
	// ErrServerClosed is returned by Server.Serve after Close.
	ErrServerClosed = errors.New("admin: server closed")
)

// Error is a failed account operation: a message for people, and a Kind
// (ErrUserExists, ErrNoSuchUser, ErrInvalid, or nil for anything else).
type Error struct {
	Kind error
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

// Unwrap returns the Kind, for errors.Is.
func (e *Error) Unwrap() error { return e.Kind }

func userErr(kind error, format string, args ...any) *Error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// StoreAccounts implements Accounts on a store: it derives the SCRAM keys
// with iterations PBKDF2 rounds (0 means auth.DefaultIterations) and never
// keeps the password.
func StoreAccounts(st store.Accounts, iterations int) Accounts {
	return storeAccounts{st: st, iterations: iterations}
}

type storeAccounts struct {
	st         store.Accounts
	iterations int
}

func (s storeAccounts) CreateUser(ctx context.Context, user, password string) error {
	if _, err := bareJID(user); err != nil {
		return err
	}
	if err := checkPassword(password); err != nil {
		return err
	}
	a, err := auth.NewAccount(user, password, s.iterations)
	if err != nil {
		return credentialErr(user, err)
	}
	if err := s.st.CreateAccount(ctx, a); err != nil {
		if errors.Is(err, store.ErrExists) {
			return userErr(ErrUserExists, "user %s already exists", a.JID)
		}
		return fmt.Errorf("creating user %s: %w", a.JID, err)
	}
	return nil
}

func (s storeAccounts) DeleteUser(ctx context.Context, user string) error {
	j, err := bareJID(user)
	if err != nil {
		return err
	}
	if err := s.st.DeleteAccount(ctx, j); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return userErr(ErrNoSuchUser, "no such user %s", j)
		}
		return fmt.Errorf("deleting user %s: %w", j, err)
	}
	return nil
}

func (s storeAccounts) SetPassword(ctx context.Context, user, password string) error {
	j, err := bareJID(user)
	if err != nil {
		return err
	}
	if err := checkPassword(password); err != nil {
		return err
	}
	sha1Keys, sha256Keys, err := auth.NewCredentials(password, s.iterations)
	if err != nil {
		return credentialErr(j, err)
	}
	if err := s.st.UpdateCredentials(ctx, j, sha1Keys, sha256Keys); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return userErr(ErrNoSuchUser, "no such user %s", j)
		}
		return fmt.Errorf("changing the password of %s: %w", j, err)
	}
	return nil
}

func (s storeAccounts) ListUsers(ctx context.Context, domain string) ([]string, error) {
	if domain != "" {
		d, err := jid.New("", domain, "")
		if err != nil {
			return nil, userErr(ErrInvalid, "invalid domain %q", domain)
		}
		domain = d.Domain()
	}
	users, err := s.st.ListAccounts(ctx, domain)
	if err != nil {
		return nil, fmt.Errorf("listing users: %w", err)
	}
	return users, nil
}

// bareJID normalizes an account address: a bare JID with a localpart.
func bareJID(s string) (string, error) {
	j, err := jid.Parse(s)
	if err != nil || j.Local() == "" || !j.IsBare() {
		return "", userErr(ErrInvalid, "invalid JID %q: an account address looks like alice@localhost (no /resource)", s)
	}
	return j.String(), nil
}

func checkPassword(p string) error {
	if p == "" {
		return userErr(ErrInvalid, "empty password refused")
	}
	return nil
}

// credentialErr maps an error from package auth; auth's errors never
// contain the password.
func credentialErr(user string, err error) error {
	switch {
	case errors.Is(err, auth.ErrInvalidPassword):
		return userErr(ErrInvalid, "password refused: it must be valid UTF-8 without control characters (PRECIS OpaqueString)")
	case errors.Is(err, auth.ErrInvalidJID):
		return userErr(ErrInvalid, "invalid JID %q: an account address looks like alice@localhost (no /resource)", user)
	}
	return fmt.Errorf("deriving credentials for %s: %w", user, err)
}
