package server

import (
	"fmt"
	"testing"
	"time"

	"github.com/parley-im/parley/internal/config"
	"github.com/parley-im/parley/internal/store/postgres/pgtest"
	"github.com/parley-im/parley/internal/xmpptest"
)

// TestStoreAndForwardOnPostgreSQL runs the server on the PostgreSQL store:
// messages to an offline user survive a restart and arrive once, in order.
func TestStoreAndForwardOnPostgreSQL(t *testing.T) {
	dsn := pgtest.Fresh(t)
	pg := func(c *config.Config) { c.Store = dsn }
	ts := startServer(t, pg)
	ts.addUser(t, "alice", "pw-alice")
	ts.addUser(t, "bob", "pw-bob")
	alice := ts.login(t, "alice", "phone", withSM)
	for i := 1; i <= 5; i++ {
		alice.SendRaw(fmt.Sprintf("<message to='bob@localhost' type='chat' id='m%d'><body>stored %d</body></message>", i, i))
	}
	alice.SendRaw("<r xmlns='urn:xmpp:sm:3'/>")
	alice.Expect("the ack of all five", func(el *stanzaElement) bool { return el.Name == "a" && el.Attr("h") == "5" })
	ts.stop()

	ts = startServer(t, pg) // a new node on the same database
	bob := ts.login(t, "bob", "phone")
	bob.SendRaw("<presence/>")
	for i := 1; i <= 5; i++ {
		bob.Expect(fmt.Sprintf("stored %d", i), xmpptest.IsMessageWithBody(fmt.Sprintf("stored %d", i)))
	}
	for el := bob.Next(500 * time.Millisecond); el != nil; el = bob.Next(300 * time.Millisecond) {
		if el.Name == "message" {
			t.Fatalf("a sixth message: %v", el)
		}
	}
}
