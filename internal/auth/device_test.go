package auth

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/parley-im/parley/internal/devicelink"
	"github.com/parley-im/parley/internal/store"
)

// devStore holds one device of alice.
type devStore map[string]store.Device

func (d devStore) GetDevice(_ context.Context, user, id string) (store.Device, error) {
	dev, ok := d[user+"/"+id]
	if !ok {
		return store.Device{}, fmt.Errorf("device: %w", store.ErrNotFound)
	}
	return dev, nil
}

func TestDeviceMechanism(t *testing.T) {
	a, _ := newTestAuth(t)
	token := devicelink.NewToken()
	devs := devStore{"alice@" + testDomain + "/dev-1": {ID: "dev-1", TokenHash: devicelink.HashToken(token)}}
	cfg := Config{Domain: testDomain, Devices: devs}
	if !slices.Contains(a.Mechanisms(cfg), MechDevice) || slices.Contains(a.Mechanisms(plainConfig()), MechDevice) {
		t.Fatalf("X-PARLEY-DEVICE offered only with a device store: %v / %v", a.Mechanisms(cfg), a.Mechanisms(plainConfig()))
	}
	n, _, err := a.Start(context.Background(), cfg, MechDevice, []byte("alice\x00dev-1\x00"+token))
	if err != nil || !n.Done() || n.User() != "alice@"+testDomain || n.Device() != "dev-1" {
		t.Fatalf("device login: %v (user %q device %q)", err, n.User(), n.Device())
	}
	for name, msg := range map[string]string{
		"wrong token":    "alice\x00dev-1\x00" + devicelink.NewToken(),
		"unknown device": "alice\x00dev-2\x00" + token,
		"other user":     "bob\x00dev-1\x00" + token,
		"bad user":       "@@\x00dev-1\x00" + token,
	} {
		_, _, err := a.Start(context.Background(), cfg, MechDevice, []byte(msg))
		if f := wantFailure(t, err, CondNotAuthorized); f.Text != "" {
			t.Errorf("%s: text %q", name, f.Text)
		}
	}
	_, _, err = a.Start(context.Background(), cfg, MechDevice, []byte("alice\x00dev-1"))
	wantFailure(t, err, CondMalformedRequest)
	_, _, err = a.Start(context.Background(), plainConfig(), MechDevice, []byte("alice\x00dev-1\x00"+token))
	wantFailure(t, err, CondInvalidMechanism)
}
