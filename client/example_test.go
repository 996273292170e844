package client_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/parley-im/parley/client"
)

// A device logs in, says it is online, sends a message and follows its
// ticks. (Runs against a server on localhost:5222 with accounts alice and
// bob; it is compiled, not run, by go test.)
func Example() {
	c, err := client.Dial(context.Background(), client.Options{
		JID:       "alice@localhost/phone",
		Password:  os.Getenv("PARLEY_PASSWORD"),
		Addr:      "127.0.0.1:5224",                      // the binary protocol; client.XML speaks XMPP on 5222
		TLS:       &tls.Config{InsecureSkipVerify: true}, // a self-signed development server
		Reconnect: true,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	if err := c.SetPresence("", "at work"); err != nil {
		log.Fatal(err)
	}
	id, err := c.SendMessage("bob@localhost", "Lunch at 1?")
	if err != nil {
		log.Fatal(err)
	}
	for e := range c.Events() {
		switch e := e.(type) {
		case *client.Sent:
			if e.ID == id {
				fmt.Println("✓ sent")
			}
		case *client.Receipt:
			fmt.Println("✓✓ delivered")
		case *client.Marker:
			if e.Kind == "displayed" && e.ID == id {
				fmt.Println("✓✓ seen")
				return
			}
		case *client.Message:
			fmt.Printf("%s: %s\n", e.From, e.Body)
			_ = c.SendReceipt(e.From, e.ID)
		}
	}
}

// Ask when a contact was last online.
func ExampleClient_LastSeen() {
	var c *client.Client // from client.Dial
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ago, status, err := c.LastSeen(ctx, "bob@localhost")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("last seen %v ago (%s)\n", ago.Round(time.Minute), status)
}

// Sync a conversation's history from the server's archive, newest page
// first, skipping messages the device already got (by stanza-id).
func ExampleClient_History() {
	var c *client.Client      // from client.Dial
	have := map[string]bool{} // stanza-ids of messages already on the device
	ctx := context.Background()
	q := client.HistoryQuery{With: "bob@localhost", Max: 50, Backward: true}
	for {
		page, err := c.History(ctx, q)
		if err != nil {
			log.Fatal(err)
		}
		for _, m := range page.Messages {
			if !have[m.StanzaID] {
				have[m.StanzaID] = true
				fmt.Printf("%s %s: %s\n", m.Time.Format(time.Kitchen), m.From, m.Body)
			}
		}
		if page.Complete {
			return
		}
		q.Before = page.First
	}
}
