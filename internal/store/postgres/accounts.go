package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parley-im/parley/internal/store"
)

// CreateAccount implements store.Accounts.
func (s *Store) CreateAccount(ctx context.Context, a store.Account) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.exit()
	tag, err := s.pool.Exec(ctx, `INSERT INTO accounts (jid,
			sha1_salt, sha1_iterations, sha1_stored_key, sha1_server_key,
			sha256_salt, sha256_iterations, sha256_stored_key, sha256_server_key, created)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (jid) DO NOTHING`,
		a.JID, a.SHA1.Salt, a.SHA1.Iterations, a.SHA1.StoredKey, a.SHA1.ServerKey,
		a.SHA256.Salt, a.SHA256.Iterations, a.SHA256.StoredKey, a.SHA256.ServerKey, a.Created)
	if err != nil {
		return writeErr(ctx, "create account "+a.JID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("account %s: %w", a.JID, store.ErrExists)
	}
	return nil
}

// GetAccount implements store.Accounts.
func (s *Store) GetAccount(ctx context.Context, jid string) (store.Account, error) {
	if err := s.enter(ctx); err != nil {
		return store.Account{}, err
	}
	defer s.exit()
	a := store.Account{JID: jid}
	err := s.pool.QueryRow(ctx, `SELECT
			sha1_salt, sha1_iterations, sha1_stored_key, sha1_server_key,
			sha256_salt, sha256_iterations, sha256_stored_key, sha256_server_key, created
		FROM accounts WHERE jid = $1`, jid).Scan(
		&a.SHA1.Salt, &a.SHA1.Iterations, &a.SHA1.StoredKey, &a.SHA1.ServerKey,
		&a.SHA256.Salt, &a.SHA256.Iterations, &a.SHA256.StoredKey, &a.SHA256.ServerKey, &a.Created)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Account{}, fmt.Errorf("account %s: %w", jid, store.ErrNotFound)
	}
	if err != nil {
		return store.Account{}, readErr("account "+jid, err)
	}
	a.Created = a.Created.UTC()
	return a, nil
}

// UpdateCredentials implements store.Accounts.
func (s *Store) UpdateCredentials(ctx context.Context, jid string, sha1, sha256 store.SCRAMKeys) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.exit()
	tag, err := s.pool.Exec(ctx, `UPDATE accounts SET
			sha1_salt = $2, sha1_iterations = $3, sha1_stored_key = $4, sha1_server_key = $5,
			sha256_salt = $6, sha256_iterations = $7, sha256_stored_key = $8, sha256_server_key = $9
		WHERE jid = $1`,
		jid, sha1.Salt, sha1.Iterations, sha1.StoredKey, sha1.ServerKey,
		sha256.Salt, sha256.Iterations, sha256.StoredKey, sha256.ServerKey)
	if err != nil {
		return writeErr(ctx, "update credentials of "+jid, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("account %s: %w", jid, store.ErrNotFound)
	}
	return nil
}

// deleteAccountSQL removes, in one statement (one transaction, one
// commit), the account and, only if it existed, the user's roster, its
// version, block list, privacy settings, push registrations, linked
// devices, archive and archive preferences, PEP nodes and items, group memberships, last
// seen, and the queues $1 and $1#... with their seq and head rows. The
// device keys are the byte range ['$1#', '$1$'): '$' follows '#' and the
// columns are COLLATE "C", so the primary-key indexes serve it.
const deleteAccountSQL = `WITH a AS (
	DELETE FROM accounts WHERE jid = $1 RETURNING jid
), r AS (
	DELETE FROM roster_items WHERE owner = $1 AND EXISTS (SELECT FROM a)
), rv AS (
	DELETE FROM roster_versions WHERE owner = $1 AND EXISTS (SELECT FROM a)
), ls AS (
	DELETE FROM last_seen WHERE jid = $1 AND EXISTS (SELECT FROM a)
), b AS (
	DELETE FROM blocklist WHERE owner = $1 AND EXISTS (SELECT FROM a)
), pr AS (
	DELETE FROM privacy WHERE owner = $1 AND EXISTS (SELECT FROM a)
), pu AS (
	DELETE FROM push_registrations WHERE owner = $1 AND EXISTS (SELECT FROM a)
), dv AS (
	DELETE FROM devices WHERE owner = $1 AND EXISTS (SELECT FROM a)
), ar AS (
	DELETE FROM archive WHERE owner = $1 AND EXISTS (SELECT FROM a)
), ap AS (
	DELETE FROM archive_prefs WHERE owner = $1 AND EXISTS (SELECT FROM a)
), pn AS (
	DELETE FROM pep_nodes WHERE owner = $1 AND EXISTS (SELECT FROM a)
), pi AS (
	DELETE FROM pep_items WHERE owner = $1 AND EXISTS (SELECT FROM a)
), gm AS (
	DELETE FROM group_members WHERE jid = $1 AND EXISTS (SELECT FROM a)
), q AS (
	DELETE FROM queue WHERE (key = $1 OR (key >= $2 AND key < $3)) AND EXISTS (SELECT FROM a)
), qs AS (
	DELETE FROM queue_seqs WHERE (key = $1 OR (key >= $2 AND key < $3)) AND EXISTS (SELECT FROM a)
), qh AS (
	DELETE FROM queue_heads WHERE (key = $1 OR (key >= $2 AND key < $3)) AND EXISTS (SELECT FROM a)
)
SELECT count(*) FROM a`

// DeleteAccount implements store.Accounts: one statement, so the user's
// data goes all at once or not at all.
func (s *Store) DeleteAccount(ctx context.Context, jid string) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.exit()
	var n int
	err := retryDeadlock(func() error {
		return s.pool.QueryRow(ctx, deleteAccountSQL, jid, jid+"#", jid+"$").Scan(&n)
	})
	if err != nil {
		return writeErr(ctx, "delete account "+jid, err)
	}
	if n == 0 {
		return fmt.Errorf("account %s: %w", jid, store.ErrNotFound)
	}
	return nil
}

// ListAccounts implements store.Accounts, from the (domain, jid) index.
func (s *Store) ListAccounts(ctx context.Context, domain string) ([]string, error) {
	if err := s.enter(ctx); err != nil {
		return nil, err
	}
	defer s.exit()
	var rows pgx.Rows
	var err error
	if domain == "" {
		rows, err = s.pool.Query(ctx, `SELECT jid FROM accounts ORDER BY jid`)
	} else {
		rows, err = s.pool.Query(ctx, `SELECT jid FROM accounts WHERE domain = $1 ORDER BY jid`, domain)
	}
	if err != nil {
		return nil, readErr("list accounts", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, readErr("list accounts", err)
	}
	if out == nil {
		out = []string{}
	}
	return out, nil
}

// retryDeadlock runs f again (up to 3 times in all, with a short pause)
// when PostgreSQL rolled it back as a deadlock victim. Only for single
// statements, which a deadlock rolls back whole.
func retryDeadlock(f func() error) error {
	var err error
	for i := range 3 {
		if err = f(); !isDeadlock(err) {
			return err
		}
		time.Sleep(time.Duration(i+1) * time.Millisecond)
	}
	return err
}
