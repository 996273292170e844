package main

import (
	"strings"
	"testing"

	"github.com/parley-im/parley/internal/store/postgres/pgtest"
)

func TestDBMigrateAndUsersOnPostgreSQL(t *testing.T) {
	dsn := pgtest.Fresh(t)
	r := ok(t, none, "db", "migrate", "--store", dsn)
	if !strings.Contains(r.stdout, "up to date") || strings.Contains(r.stdout, "password") {
		t.Fatalf("stdout %q", r.stdout)
	}
	ok(t, none, "db", "migrate", "--store", dsn) // again: nothing to do
	data := t.TempDir()
	ok(t, none, "user", "add", "alice@localhost", "--password", "pw-alice", "--store", dsn, "--data", data)
	if r := ok(t, none, "user", "list", "--store", dsn, "--data", data); r.stdout != "alice@localhost\n" {
		t.Fatalf("user list: %q", r.stdout)
	}
	fails(t, none, 2, "missing --store", "db", "migrate")
	fails(t, none, 1, "PostgreSQL URL", "user", "list", "--store", "mysql://x", "--data", data)
}
