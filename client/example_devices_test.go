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

// A new device (a terminal, a browser-like app) pairs by QR code: it shows
// each code as the server rotates it until the user's phone links it, then
// logs in with the device credential it got, never the password. (Compiled,
// not run, by go test: it needs a server on localhost and a phone.)
func ExampleStartPairing() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	opts := client.Options{Addr: "127.0.0.1:5224", TLS: &tls.Config{InsecureSkipVerify: true}}
	p, err := client.StartPairing(ctx, "localhost", opts)
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()
	go func() {
		for code := range p.Codes { // a new one every 20 s
			fmt.Println("show as a QR code:", code)
		}
	}()
	cred, err := p.Wait(ctx)
	if err != nil {
		log.Fatal(err) // expired: start again
	}
	// Save cred (cred.Token is a secret), then log in with it, now and later.
	opts.Device = cred
	c, err := client.Dial(ctx, opts)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	fmt.Println("logged in as", c.JID()) // alice@localhost/dev-...
}

// The phone (logged in with the password) links the device whose QR code
// it scanned.
func ExampleClient_Link() {
	c, err := client.Dial(context.Background(), client.Options{
		JID: "alice@localhost/phone", Password: os.Getenv("PARLEY_PASSWORD"),
		Addr: "127.0.0.1:5224", TLS: &tls.Config{InsecureSkipVerify: true},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	scanned := "parley-link:1:q2Xo1hT6bC8jW4mN0aR5sA:..." // the QR code's text
	d, err := c.Link(context.Background(), scanned, "Firefox on the laptop")
	if err != nil {
		log.Fatal(err) // *client.IQError: item-not-found when the code expired
	}
	fmt.Println("linked", d.ID)
}

// List the linked devices and unlink the ones not seen for a month.
func ExampleClient_RevokeDevice() {
	var c *client.Client // from client.Dial, with the password
	ctx := context.Background()
	devs, err := c.Devices(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for _, d := range devs {
		if time.Since(d.LastSeen) > 30*24*time.Hour {
			if err := c.RevokeDevice(ctx, d.ID); err != nil { // it is disconnected at once
				log.Fatal(err)
			}
		}
	}
}
