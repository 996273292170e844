package client

import (
	"strconv"

	"github.com/parley-im/parley/internal/stanza"
)

// smState is the client side of stream management (XEP-0198): what the
// server has not acknowledged yet, and how many stanzas we received.
type smState struct {
	enabled bool
	id      string // resumption id
	inbound uint32 // stanzas received (our h)
	outAck  uint32 // the server's last h
	unacked []outbound
	// ticked is how many of unacked, from the front, have had their Sent
	// tick (or need none): explicit server acks come in order, so tick
	// looks from there instead of from the front.
	ticked int
}

type outbound struct {
	el *stanza.Element
	id string // a message's id: its Sent tick when acknowledged
	// ticked: its Sent tick was already given (an explicit server ack), or
	// is withheld (the server refused the message).
	ticked bool
	// refused: the server answered it with an error; a fresh login does
	// not send it again (takeUnacked).
	refused bool
}

// resumeState is what a reconnect needs to resume.
type resumeState struct {
	id, jid string
	inbound uint32
}

func (m *smState) resumeState(jid string) *resumeState {
	if !m.enabled || m.id == "" {
		return nil
	}
	return &resumeState{id: m.id, jid: jid, inbound: m.inbound}
}

func (m *smState) track(el *stanza.Element) {
	o := outbound{el: el}
	if el.Name == "message" {
		o.id = el.ID()
	}
	m.unacked = append(m.unacked, o)
}

// acked applies the server's h and returns the ids of the messages it
// newly covers.
func (m *smState) acked(h uint32) []string {
	n := int(h - m.outAck) // uint32 arithmetic wraps as XEP-0198 says
	if n <= 0 || n > len(m.unacked) {
		if n > len(m.unacked) {
			n = len(m.unacked)
		} else {
			return nil
		}
	}
	var ids []string
	for _, o := range m.unacked[:n] {
		if o.id != "" && !o.ticked {
			ids = append(ids, o.id)
		}
	}
	m.unacked = append(m.unacked[:0], m.unacked[n:]...)
	m.ticked = max(m.ticked-n, 0)
	m.outAck = h
	return ids
}

// tick marks the message id as acknowledged explicitly; false when it was
// already (or is not in flight: its stream-management ack came first).
func (m *smState) tick(id string) bool {
	o := m.untickedMessage(id)
	if o == nil {
		return false
	}
	o.ticked = true
	m.advanceTicked()
	return true
}

// refused marks the message id, in flight, as refused by the server: the
// ack that covers it gives no Sent tick, and a fresh login does not send
// it again. False when no such message is in flight: an error for a
// message the server already acknowledged (which a contact can send with
// any id it saw) or that is not ours says nothing of what we sent.
func (m *smState) refused(id string) bool {
	o := m.untickedMessage(id)
	if o == nil {
		return false
	}
	o.ticked, o.refused = true, true
	m.advanceTicked()
	return true
}

// untickedMessage is the message id in flight whose tick is still to
// give, or nil.
func (m *smState) untickedMessage(id string) *outbound {
	if id == "" {
		return nil
	}
	// Every entry before m.ticked is ticked or has no tick to give.
	for i := m.ticked; i < len(m.unacked); i++ {
		if o := &m.unacked[i]; o.id == id && !o.ticked {
			return o
		}
	}
	return nil
}

// advanceTicked moves ticked past the front entries that need no tick.
func (m *smState) advanceTicked() {
	for m.ticked < len(m.unacked) && (m.unacked[m.ticked].ticked || m.unacked[m.ticked].id == "") {
		m.ticked++
	}
}

// takeUnacked empties the unacked list, returning what is to be sent again
// (the send path tracks each again): all but the messages the server
// refused.
func (m *smState) takeUnacked() []*stanza.Element {
	out := make([]*stanza.Element, 0, len(m.unacked))
	for _, o := range m.unacked {
		if !o.refused {
			out = append(out, o.el)
		}
	}
	m.unacked, m.ticked = nil, 0
	return out
}

// ackElement encodes an <a/> with our h, or nothing when SM is off.
func (m *smState) ackElement(c codec) []byte {
	if !m.enabled {
		return nil
	}
	return c.appendStanza(nil, stanza.NewElement(stanza.NSSM, "a").SetAttr("h", strconv.FormatUint(uint64(m.inbound), 10)))
}

func countsForSM(el *stanza.Element) bool {
	return el.Space == stanza.NSClient && (el.Name == "message" || el.Name == "presence" || el.Name == "iq")
}
