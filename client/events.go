package client

import "time"

// Event is something the server sent, or a change of the connection:
// one of *Message, *Receipt, *Marker, *ChatState, *Presence, *Sent,
// *MessageFailed, *OfflinePreview, *OfflineDone, *Connected, *Disconnected,
// *CallEvent.
type Event interface{ event() }

// Message is an incoming chat message.
type Message struct {
	ID       string // the sender's id (XEP-0359 origin-id when present)
	StanzaID string // the id the server stamped (XEP-0359 stanza-id)
	From, To string
	Type     string // chat, normal, ...
	Body     string
	// Delayed is when the server stored it, for a message delivered from
	// the offline queue (XEP-0203); zero for a live one.
	Delayed time.Time
	// WantsReceipt: the sender asked for a delivery receipt (XEP-0184).
	WantsReceipt bool
	// Markable: the sender wants read markers (XEP-0333).
	Markable bool
	// Attachment is the file the message carries (XEP-0066 out-of-band
	// data, Parley's <file/>, or an aesgcm:// body), nil for a text
	// message; Caption is its description. Fetch it with
	// DownloadAttachment.
	Attachment *Attachment
	Caption    string
	// Carbon is "sent" for a copy of what another device of the account
	// sent (From is then that device), "received" for a copy of what
	// another device of the account received (XEP-0280); "" otherwise.
	// Linked devices get carbons by default.
	Carbon string
	// Group is the group's address for a group message (type
	// groupchat), Sender the bare JID of the member who posted it ("" for
	// a system message, whose GroupEvent is then added, removed, left,
	// joined, promoted, demoted, created or configured).
	Group, Sender, GroupEvent string
	// MissedCall is the call's id when this is the "missed call" entry
	// the server leaves in the chat (docs/calls.md).
	MissedCall string
}

// Receipt says that the recipient's device got messages (XEP-0184): the
// "delivered" tick.
type Receipt struct {
	From string
	IDs  []string
}

// Marker is a chat marker (XEP-0333): "displayed" is the "seen" tick.
type Marker struct {
	From string
	Kind string // received, displayed or acknowledged
	ID   string
	// Carbon is "sent" when another device of the account sent this
	// marker (to To): a chat read on the phone is read here too (XEP-0280
	// copy; linked devices get them by default); "received" for a copy of
	// one another device of the account received; "" otherwise.
	Carbon, To string
}

// ChatState is a typing notification (XEP-0085).
type ChatState struct {
	From  string
	State string // active, composing, paused, inactive, gone
}

// Presence is a contact's availability.
type Presence struct {
	From     string
	Type     string // "" (available), unavailable, subscribe, subscribed, ...
	Show     string // away, chat, dnd, xa
	Status   string
	Priority int
}

// Sent is the "sent" tick: the server has durably accepted the message with
// this id. Over the binary protocol the server acks each message
// explicitly, with the id it gave the recipient's copy and its time; over
// XMPP the tick comes from stream management and carries only the ID. A
// message the server refuses gets a MessageFailed instead.
type Sent struct {
	ID       string
	StanzaID string    // the server's id for the message (binary protocol)
	Time     time.Time // when the server stored it (binary protocol)
}

// MessageFailed says that the server refused a message this device sent:
// it answered with a stanza error (RFC 6120 8.3) and keeps no copy, so no
// Sent tick, Receipt or Marker will follow. Condition is
// service-unavailable for an account that does not exist (or blocks this
// one, XEP-0191: the two look the same on purpose), remote-server-not-found
// for another server's address (Parley talks to no other server).
type MessageFailed struct {
	ID        string // the message's id, as SendMessage returned it
	To        string // the address the message was for
	Condition string // the stanza error condition: service-unavailable, ...
	Text      string // the server's explanation, often ""
}

// OfflinePreview announces, at login over the binary protocol, how many
// stored messages are about to arrive (they follow, then OfflineDone).
type OfflinePreview struct{ Count int }

// OfflineDone marks the end of the stored messages delivered at login.
type OfflineDone struct{}

// Connected reports a (re)established session.
type Connected struct {
	JID     string // the full JID bound
	Resumed bool   // the previous session was resumed: nothing was missed
	// Attempts is how many connection attempts a reconnect took (1: the
	// first succeeded); 0 for the first login.
	Attempts int
}

// Disconnected reports a lost connection. With Options.Reconnect the client
// is already redialing; otherwise Err is final.
type Disconnected struct{ Err error }

func (*Message) event()        {}
func (*Receipt) event()        {}
func (*Marker) event()         {}
func (*ChatState) event()      {}
func (*Presence) event()       {}
func (*Sent) event()           {}
func (*MessageFailed) event()  {}
func (*OfflinePreview) event() {}
func (*OfflineDone) event()    {}
func (*Connected) event()      {}
func (*Disconnected) event()   {}
