package client

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/parley-im/parley/internal/devicelink"
	"github.com/parley-im/parley/internal/stanza"
)

// mechDevice is the SASL mechanism of linked devices.
const mechDevice = devicelink.Mechanism

// ErrDeviceRevoked means the server no longer accepts this device's
// credential: the device was unlinked (or never linked). Pair again.
var ErrDeviceRevoked = errors.New("client: this device was unlinked from the account")

// DeviceCredential is what a linked device keeps to log in, instead of
// the password (docs/protocol/devices.md). Token is a secret: store it
// like a password, never log it.
type DeviceCredential struct {
	JID      string `json:"jid"`       // the account's bare JID
	DeviceID string `json:"device_id"` // also the device's resource
	Token    string `json:"token"`
}

// Device is one device linked to the account.
type Device struct {
	ID       string
	Name     string
	Created  time.Time
	LastSeen time.Time // last login; zero if never
	Online   bool      // it has a session now
}

// Link confirms a pairing from a device logged in with the password: the
// payload is what the new device shows as a QR code
// ("parley-link:1:<ref>:<key>"), name what to call the new device. The
// server creates the device and hands its credential, encrypted to the
// new device's key, to the new device only. It returns the new device.
func (c *Client) Link(ctx context.Context, payload, name string) (Device, error) {
	p, err := devicelink.ParsePayload(payload)
	if err != nil {
		return Device{}, err
	}
	link := stanza.NewElement(devicelink.NS, "link", "ref", p.Ref, "key", devicelink.EncodeKey(p.Key), "name", name)
	res, err := c.request(ctx, "set", "", link)
	if err != nil {
		return Device{}, err
	}
	d := res.Child(devicelink.NS, "device")
	if d == nil {
		return Device{}, errors.New("client: the server's link answer has no <device/>")
	}
	return parseDevice(d), nil
}

// Link dials with o (a password login), confirms the pairing of payload
// (see (*Client).Link) and disconnects.
func Link(ctx context.Context, o Options, payload, name string) error {
	c, err := Dial(ctx, o)
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.Link(ctx, payload, name)
	return err
}

// Devices lists the devices linked to the account, sorted by id.
func (c *Client) Devices(ctx context.Context) ([]Device, error) {
	res, err := c.call(ctx, "", stanza.NewElement(devicelink.NS, "list"))
	if err != nil {
		return nil, err
	}
	var out []Device
	if l := res.Child(devicelink.NS, "list"); l != nil {
		for _, d := range l.Children {
			if d.Name == "device" {
				out = append(out, parseDevice(d))
			}
		}
	}
	return out, nil
}

// RevokeDevice unlinks a device: the server disconnects it at once and
// refuses its credential from then on. Only a password login may revoke.
func (c *Client) RevokeDevice(ctx context.Context, id string) error {
	_, err := c.request(ctx, "set", "", stanza.NewElement(devicelink.NS, "revoke", "id", id))
	return err
}

func parseDevice(el *stanza.Element) Device {
	d := Device{ID: el.Attr("id"), Name: el.Attr("name"), Online: el.Attr("online") == "true"}
	d.Created, _ = time.Parse(time.RFC3339, el.Attr("created"))
	d.LastSeen, _ = time.Parse(time.RFC3339, el.Attr("last-seen"))
	return d
}

// applyDevice fills o from o.Device: the JID and the resource (the
// device id); the mechanism is X-PARLEY-DEVICE.
func (o *Options) applyDevice() error {
	d := o.Device
	if d == nil {
		return nil
	}
	if d.JID == "" || d.DeviceID == "" || d.Token == "" {
		return fmt.Errorf("%w: the device credential needs a JID, a device id and a token", ErrBadOptions)
	}
	bare, _, _ := strings.Cut(o.JID, "/")
	if o.JID != "" && bare != d.JID {
		return fmt.Errorf("%w: JID %q is not the device credential's account %q", ErrBadOptions, o.JID, d.JID)
	}
	if o.Mechanism != "" && o.Mechanism != mechDevice {
		return fmt.Errorf("%w: a device credential logs in with %s, not %s", ErrBadOptions, mechDevice, o.Mechanism)
	}
	o.JID = d.JID + "/" + d.DeviceID
	o.Mechanism = mechDevice
	return nil
}
