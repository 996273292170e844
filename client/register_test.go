package client_test

import (
	"context"
	"errors"
	"testing"

	"github.com/parley-im/parley/client"
	"github.com/parley-im/parley/internal/config"
	"github.com/parley-im/parley/internal/servertest"
)

func TestRegisterThenLogIn(t *testing.T) {
	srv := servertest.Start(t, func(c *config.Config) { c.AllowRegistration = true })
	ctx := context.Background()
	o := client.Options{JID: "newbie@localhost", Password: "a fine password", Addr: srv.C2S, Encoding: client.XML, TLS: insecure}
	if err := client.Register(ctx, o); err != nil {
		t.Fatalf("register: %v", err)
	}
	c, err := client.Dial(ctx, o)
	if err != nil {
		t.Fatalf("login after registering: %v", err)
	}
	_ = c.Close()
	var iqe *client.IQError
	if err := client.Register(ctx, o); !errors.As(err, &iqe) || iqe.Condition != "conflict" {
		t.Fatalf("registering a taken name: %v", err)
	}
}

func TestRegisterRefusedWhenOff(t *testing.T) {
	srv := servertest.Start(t, nil)
	err := client.Register(context.Background(), client.Options{JID: "x@localhost", Password: "pw-xxxxxx", Addr: srv.C2S, Encoding: client.XML, TLS: insecure})
	var iqe *client.IQError
	if !errors.As(err, &iqe) {
		t.Fatalf("got %v, want a refusal", err)
	}
}
