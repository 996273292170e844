package client_test

import (
	"errors"
	"testing"

	"github.com/parley-im/parley/client"
	"github.com/parley-im/parley/internal/config"
	"github.com/parley-im/parley/internal/servertest"
	"github.com/parley-im/parley/internal/store/postgres/pgtest"
)

// TestPairingOnPostgreSQL: the same pairing, login and revocation with
// the accounts and devices in PostgreSQL, across two server nodes sharing
// the database (the device links on one and logs in on the other).
func TestPairingOnPostgreSQL(t *testing.T) {
	dsn := pgtest.Fresh(t)
	pg := func(c *config.Config) { c.Store = dsn }
	node1 := servertest.Start(t, pg)
	node1.AddUser(t, "alice@localhost", "pw-alice")
	phone := dial(t, node1, "alice@localhost/phone", "pw-alice", binary(node1))
	cred := pairDevice(t, node1, phone, "web")

	node2 := servertest.Start(t, pg)
	web := dial(t, node2, "", "", deviceLogin(cred, node2))
	if web.JID() != "alice@localhost/"+cred.DeviceID {
		t.Fatalf("bound as %s", web.JID())
	}
	_ = web.Close()
	devs, err := phone.Devices(testCtx(t))
	if err != nil || len(devs) != 1 || devs[0].LastSeen.IsZero() {
		t.Fatalf("devices %+v, %v", devs, err)
	}
	if err := phone.RevokeDevice(testCtx(t), cred.DeviceID); err != nil {
		t.Fatal(err)
	}
	o := client.Options{TLS: insecure}
	deviceLogin(cred, node2)(&o)
	var ae *client.AuthError
	if _, err := client.Dial(testCtx(t), o); !errors.As(err, &ae) || ae.Condition != "not-authorized" {
		t.Fatalf("revoked device on the other node: %v", err)
	}
}
