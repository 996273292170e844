package cluster

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/parley-im/parley/internal/jid"
)

// ErrBadMessage is wrapped by every decoding error of a bus message.
var ErrBadMessage = errors.New("cluster: bad bus message")

// Route frame kinds (parley.node.<id>.route).
const (
	kindDeliver byte = 1 // a stanza for Device.Deliver (key and seq when stored)
	kindSend    byte = 2 // a stanza for Session.Send
	kindClose   byte = 3 // close the device: payload is "condition\ntext"
)

const (
	frameVersion  = 1
	maxJIDBytes   = 3071 // RFC 7622: three parts of at most 1023 bytes
	maxKeyBytes   = 3071
	maxNodeID     = 64
	maxEpoch      = 64
	maxSnapshot   = 1 << 20 // devices in one snapshot
	maxLinkedID   = 256
	maxPresenceXM = 64 << 10
)

// routeFrame is one stanza for a device connected to the receiving node.
// Binary: version, kind, uvarint seq, uvarint-prefixed to and key, then
// the payload (the stanza as the codec encodes it) to the end.
type routeFrame struct {
	kind    byte
	seq     uint64
	to      string // the device's full JID
	key     string // queue key of a stored stanza, "" otherwise
	payload []byte
}

func (f *routeFrame) append(b []byte) []byte {
	b = append(b, frameVersion, f.kind)
	b = binary.AppendUvarint(b, f.seq)
	b = binary.AppendUvarint(b, uint64(len(f.to)))
	b = append(b, f.to...)
	b = binary.AppendUvarint(b, uint64(len(f.key)))
	b = append(b, f.key...)
	return append(b, f.payload...)
}

// decodeRoute parses and checks a route frame. The payload aliases b.
func decodeRoute(b []byte) (routeFrame, error) {
	var f routeFrame
	if len(b) < 2 || b[0] != frameVersion {
		return f, fmt.Errorf("%w: route frame: unknown version", ErrBadMessage)
	}
	f.kind = b[1]
	if f.kind < kindDeliver || f.kind > kindClose {
		return f, fmt.Errorf("%w: route frame: unknown kind %d", ErrBadMessage, f.kind)
	}
	b = b[2:]
	seq, n := binary.Uvarint(b)
	if n <= 0 {
		return f, fmt.Errorf("%w: route frame: bad seq", ErrBadMessage)
	}
	f.seq, b = seq, b[n:]
	to, b, err := readString(b, maxJIDBytes)
	if err != nil {
		return f, err
	}
	key, b, err := readString(b, maxKeyBytes)
	if err != nil {
		return f, err
	}
	j, err := jid.Parse(to)
	if err != nil || j.IsBare() || j.Local() == "" || j.String() != to {
		return f, fmt.Errorf("%w: route frame: %q is not a device's full JID", ErrBadMessage, to)
	}
	if (key == "") != (f.seq == 0) || (key != "" && f.kind != kindDeliver) {
		return f, fmt.Errorf("%w: route frame: a queue key goes with a seq, on deliveries only", ErrBadMessage)
	}
	f.to, f.key, f.payload = to, key, b
	if len(f.payload) == 0 {
		return f, fmt.Errorf("%w: route frame: no payload", ErrBadMessage)
	}
	return f, nil
}

func readString(b []byte, limit int) (string, []byte, error) {
	l, n := binary.Uvarint(b)
	if n <= 0 || l > uint64(limit) || l > uint64(len(b)-n) {
		return "", nil, fmt.Errorf("%w: route frame: bad length", ErrBadMessage)
	}
	b = b[n:]
	return string(b[:l]), b[l:], nil
}

// deviceState is what the directory knows of one device.
type deviceState struct {
	JID             string `json:"j"`
	Available       bool   `json:"a,omitempty"`
	Priority        int    `json:"p,omitempty"`
	Presence        string `json:"x,omitempty"` // last broadcast presence, XML
	RosterRequested bool   `json:"r,omitempty"`
	Linked          string `json:"l,omitempty"` // linked device id
	Carbons         bool   `json:"c,omitempty"` // gets carbon copies (XEP-0280)
}

// Control message operations.
const (
	opUp   = "up"   // a device appeared or changed
	opDown = "down" // a device is gone
)

// control is every message of the directory: heartbeats (parley.hb),
// goodbyes (parley.bye), device events (parley.dir) and snapshots
// (replies on parley.node.<id>.sync and parley.hello). JSON: these are
// rare next to route frames.
type control struct {
	Node    string        `json:"node"`
	Epoch   string        `json:"epoch"`           // the node's incarnation
	Seq     uint64        `json:"seq"`             // its last device event
	Op      string        `json:"op,omitempty"`    // device events
	Dev     *deviceState  `json:"dev,omitempty"`   // device events
	Devs    []deviceState `json:"devs,omitempty"`  // snapshots
	Part    int           `json:"part,omitempty"`  // snapshots: this part's number, from 1
	Parts   int           `json:"parts,omitempty"` // snapshots: how many parts
	Devices int           `json:"devices,omitempty"`
	HTTP    string        `json:"http,omitempty"` // heartbeats: the node's HTTP address, if any
}

// decodeControl parses and checks a control message; xmlOK checks a
// presence payload (the server's codec, with its limits).
func decodeControl(b []byte, xmlOK func(string) error) (control, error) {
	var c control
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("%w: %v", ErrBadMessage, err)
	}
	if err := validNodeID(c.Node); err != nil {
		return c, fmt.Errorf("%w: %v", ErrBadMessage, err)
	}
	if c.Epoch == "" || len(c.Epoch) > maxEpoch || len(c.HTTP) > 256 || c.Devices < 0 {
		return c, fmt.Errorf("%w: bad epoch, address or count", ErrBadMessage)
	}
	switch c.Op {
	case "":
		if c.Dev != nil {
			return c, fmt.Errorf("%w: a device without an operation", ErrBadMessage)
		}
	case opUp, opDown:
		if c.Dev == nil {
			return c, fmt.Errorf("%w: %s without a device", ErrBadMessage, c.Op)
		}
		if err := c.Dev.check(xmlOK); err != nil {
			return c, err
		}
	default:
		return c, fmt.Errorf("%w: unknown operation %q", ErrBadMessage, c.Op)
	}
	if len(c.Devs) > maxSnapshot || c.Parts < 0 || c.Parts > maxSnapshot || c.Part < 0 || c.Part > c.Parts {
		return c, fmt.Errorf("%w: snapshot too large, or a bad part number", ErrBadMessage)
	}
	for i := range c.Devs {
		if err := c.Devs[i].check(xmlOK); err != nil {
			return c, err
		}
	}
	return c, nil
}

func (d *deviceState) check(xmlOK func(string) error) error {
	j, err := jid.Parse(d.JID)
	if err != nil || j.IsBare() || j.Local() == "" || j.String() != d.JID {
		return fmt.Errorf("%w: %q is not a device's full JID", ErrBadMessage, d.JID)
	}
	if d.Priority < -128 || d.Priority > 127 || len(d.Linked) > maxLinkedID || len(d.Presence) > maxPresenceXM {
		return fmt.Errorf("%w: device %s: bad priority, linked id or presence size", ErrBadMessage, d.JID)
	}
	if d.Presence != "" {
		if err := xmlOK(d.Presence); err != nil {
			return fmt.Errorf("%w: device %s: presence: %v", ErrBadMessage, d.JID, err)
		}
	}
	return nil
}

// validNodeID checks a node id: 1 to 64 letters, digits, '-' or '_' (it is
// a NATS subject token).
func validNodeID(id string) error {
	if id == "" || len(id) > maxNodeID {
		return fmt.Errorf("node id %q: want 1 to %d characters", id, maxNodeID)
	}
	for _, r := range id {
		ok := r == '-' || r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')
		if !ok {
			return fmt.Errorf("node id %q: only letters, digits, '-' and '_'", id)
		}
	}
	return nil
}
