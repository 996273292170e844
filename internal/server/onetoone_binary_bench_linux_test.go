package server

import (
	"context"
	"crypto/tls"
	"errors"
	"testing"
	"time"

	"github.com/parley-im/parley/client"
)

// libraryPeer is a device of BenchmarkOneToOne's binary variant: the
// client library over Parley's binary encoding and TLS, which acks
// (XEP-0198) by itself. It runs in the client process, so its cost is not
// the server's.
type libraryPeer struct {
	c *client.Client
}

func dialLibraryPeer(t testing.TB, addr, name string) *libraryPeer {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, client.Options{JID: name + "@localhost/r", Password: "pw", Addr: addr,
		Encoding: client.Binary, Mechanism: "PLAIN", TLS: &tls.Config{InsecureSkipVerify: true}})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if err := c.SetPresence("", ""); err != nil {
		t.Fatal(err)
	}
	return &libraryPeer{c: c}
}

var errPeerClosed = errors.New("the client's events ended")

func (p *libraryPeer) send(n, inflight int, to string) error {
	sent, receipts := 0, 0
	for receipts < n {
		for sent < n && sent-receipts < inflight {
			if _, err := p.c.SendMessage(to, "bench message with a body of about the bench's size, one hundred bytes long or so"); err != nil {
				return err
			}
			sent++
		}
		e, ok := <-p.c.Events()
		if !ok {
			return errPeerClosed
		}
		if r, isReceipt := e.(*client.Receipt); isReceipt {
			receipts += len(r.IDs)
		}
	}
	return nil
}

func (p *libraryPeer) receive(n int, to string) error {
	for got := 0; got < n; {
		e, ok := <-p.c.Events()
		if !ok {
			return errPeerClosed
		}
		if m, isMessage := e.(*client.Message); isMessage {
			if err := p.c.SendReceipt(to, m.ID); err != nil {
				return err
			}
			got++
		}
	}
	return nil
}
