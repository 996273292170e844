package client

import (
	"context"
	"errors"

	"github.com/parley-im/parley/internal/stanza"
)

// nsCall is Parley's call signalling (docs/calls.md).
const nsCall = "urn:parley:call:0"

// Media of a call.
const (
	Audio = "audio"
	Video = "video"
)

// CallEvent is a call signal from the server (docs/calls.md):
//
//   - "offer": an incoming call (ring; answer with AcceptCall or RejectCall,
//     say it rings with CallRinging); From is the caller's device, SDP its offer.
//   - "ringing": the callee's device rings (From).
//   - "accept": the callee answered on device From; SDP is the answer.
//   - "reject": the callee declined (Reason decline or busy).
//   - "candidate": an ICE candidate of the other party (Candidate).
//   - "terminate": the call is over for this device; Reason is hangup,
//     cancelled (the caller gave up), timeout (nobody answered),
//     answered-elsewhere or rejected-elsewhere (another device of this
//     account took it: stop ringing), gone (the other device dropped).
type CallEvent struct {
	Kind      string
	ID        string // the call's id, given by the server
	From      string // the other party's device (or account)
	Media     string // audio or video (offer)
	SDP       string // offer or accept
	Candidate string
	Reason    string
	Device    string // accept: the callee's device that answered
}

func (*CallEvent) event() {}

// ErrCallBusy is returned by StartCall when the callee is in another call.
var ErrCallBusy = errors.New("client: the callee is busy in another call")

// StartCall calls a user (bare JID) with an SDP offer: every available
// device of the callee rings. It returns the call's id; ErrCallBusy when
// the callee is already in a call.
func (c *Client) StartCall(ctx context.Context, to, media, sdp string) (string, error) {
	q := stanza.NewElement(nsCall, "offer", "to", to, "media", media)
	q.AddChild(textEl(nsCall, "sdp", sdp))
	res, err := c.request(ctx, "set", c.account.domain, q)
	if err != nil {
		return "", err
	}
	o := res.Child(nsCall, "offer")
	if o == nil || o.Attr("id") == "" {
		return "", errors.New("client: no call id in the answer")
	}
	if o.Attr("state") == "busy" {
		return o.Attr("id"), ErrCallBusy
	}
	return o.Attr("id"), nil
}

// CallRinging tells the caller that this device rings.
func (c *Client) CallRinging(ctx context.Context, id string) error {
	return c.callRequest(ctx, stanza.NewElement(nsCall, "ringing", "id", id))
}

// AcceptCall answers an incoming call on this device with an SDP answer;
// the account's other devices stop ringing.
func (c *Client) AcceptCall(ctx context.Context, id, sdp string) error {
	return c.callRequest(ctx, stanza.NewElement(nsCall, "accept", "id", id).AddChild(textEl(nsCall, "sdp", sdp)))
}

// RejectCall declines an incoming call (reason decline or busy).
func (c *Client) RejectCall(ctx context.Context, id, reason string) error {
	return c.callRequest(ctx, stanza.NewElement(nsCall, "reject", "id", id, "reason", reason))
}

// HangUp ends a call: the caller cancelling a ringing call (it becomes a
// missed call for the callee) or either party ending an answered one.
func (c *Client) HangUp(ctx context.Context, id string) error {
	return c.callRequest(ctx, stanza.NewElement(nsCall, "terminate", "id", id, "reason", "hangup"))
}

// SendCandidate relays an ICE candidate to the other party.
func (c *Client) SendCandidate(ctx context.Context, id, candidate string) error {
	return c.callRequest(ctx, textEl(nsCall, "candidate", candidate).SetAttr("id", id))
}

func (c *Client) callRequest(ctx context.Context, q *stanza.Element) error {
	_, err := c.request(ctx, "set", c.account.domain, q)
	return err
}

// callEvent turns a call message into a CallEvent; false when el is not one.
func (c *Client) callEvent(el *stanza.Element) bool {
	q := el.ChildNS(nsCall)
	if q == nil || q.Name == "missed" {
		return false
	}
	c.emit(&CallEvent{Kind: q.Name, ID: q.Attr("id"), From: el.Attr("from"), Media: q.Attr("media"),
		SDP: q.ChildText(nsCall, "sdp"), Candidate: candidateText(q), Reason: q.Attr("reason"), Device: q.Attr("device")})
	return true
}

func candidateText(q *stanza.Element) string {
	if q.Name == "candidate" {
		return q.Text
	}
	return ""
}

// missedCall returns the id of the call a missed-call message is about.
func missedCall(el *stanza.Element) string {
	if m := el.Child(nsCall, "missed"); m != nil {
		return m.Attr("id")
	}
	return ""
}

func textEl(ns, name, s string) *stanza.Element {
	el := stanza.NewElement(ns, name)
	el.Text = s
	return el
}
