package push

import (
	"strconv"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store"
)

// Namespaces of the feature.
const (
	NS               = "urn:xmpp:push:0"       // XEP-0357
	NSSummary        = "urn:xmpp:push:summary" // the notification form's FORM_TYPE
	NSData           = "jabber:x:data"         // XEP-0004
	NSPubSub         = "http://jabber.org/protocol/pubsub"
	NSPublishOptions = "http://jabber.org/protocol/pubsub#publish-options"
)

// Limits on what a client may register.
const (
	maxRegistrations = 20   // per account
	maxFields        = 20   // publish-options fields
	maxValueBytes    = 4096 // all of a registration's option values together
	maxAttrBytes     = 1023 // node, and the service JID
)

// parseEnable reads an <enable/> element: the app server's JID, the node
// and the publish options (nil when none).
func parseEnable(el *stanza.Element) (store.PushRegistration, *stanza.Error) {
	service, err := jid.Parse(el.Attr("jid"))
	node := el.Attr("node")
	switch {
	case err != nil || el.Attr("jid") == "":
		return store.PushRegistration{}, stanza.NewError(stanza.JIDMalformed, "the app server's jid is missing or invalid")
	case node == "":
		return store.PushRegistration{}, stanza.NewError(stanza.BadRequest, "the node is missing")
	case len(node) > maxAttrBytes:
		return store.PushRegistration{}, stanza.NewError(stanza.NotAcceptable, "the node is too long")
	}
	r := store.PushRegistration{Service: service.String(), Node: node}
	x := el.Child(NSData, "x")
	if x == nil {
		return r, nil
	}
	opts, serr := parseOptions(x)
	r.Options = opts
	return r, serr
}

// parseOptions reads the publish-options form: a FORM_TYPE of
// pubsub#publish-options (or none) and at most maxFields fields.
func parseOptions(x *stanza.Element) ([]store.PushField, *stanza.Error) {
	if t := x.Attr("type"); t != "submit" && t != "" {
		return nil, stanza.NewError(stanza.BadRequest, "publish options are a form of type submit")
	}
	var out []store.PushField
	size := 0
	for _, f := range x.Children {
		if f.Space != NSData || f.Name != "field" {
			continue
		}
		field := store.PushField{Var: f.Attr("var")}
		for _, v := range f.Children {
			if v.Space == NSData && v.Name == "value" {
				field.Values = append(field.Values, v.Text)
				size += len(v.Text)
			}
		}
		if field.Var == "FORM_TYPE" && (len(field.Values) != 1 || field.Values[0] != NSPublishOptions) {
			return nil, stanza.NewError(stanza.BadRequest, "the form's FORM_TYPE must be "+NSPublishOptions)
		}
		if field.Var == "" {
			return nil, stanza.NewError(stanza.BadRequest, "a form field without var")
		}
		out = append(out, field)
	}
	if len(out) > maxFields || size > maxValueBytes {
		return nil, stanza.NewError(stanza.NotAcceptable, "the publish options are too large")
	}
	return out, nil
}

// publishIQ builds the pubsub publish of one notification to the app
// server (XEP-0357 section 6), from the user's bare JID, without an id
// (the sender assigns one).
func publishIQ(r store.PushRegistration, n notice, includeBody bool) *stanza.Element {
	iq := stanza.NewElement(stanza.NSClient, stanza.KindIQ, "type", "set", "from", n.user, "to", r.Service)
	pubsub := stanza.NewElement(NSPubSub, "pubsub")
	item := stanza.NewElement(NSPubSub, "item").AddChild(
		stanza.NewElement(NS, "notification").AddChild(summaryForm(n, includeBody)))
	pubsub.AddChild(stanza.NewElement(NSPubSub, "publish", "node", r.Node).AddChild(item))
	if len(r.Options) > 0 {
		pubsub.AddChild(stanza.NewElement(NSPubSub, "publish-options").AddChild(optionsForm(r.Options)))
	}
	return iq.AddChild(pubsub)
}

// summaryForm is the notification's urn:xmpp:push:summary form: the
// message count and the last sender, and the last body only when asked.
func summaryForm(n notice, includeBody bool) *stanza.Element {
	x := stanza.NewElement(NSData, "x", "type", "submit")
	x.AddChild(field("FORM_TYPE", NSSummary))
	x.AddChild(field("message-count", strconv.Itoa(n.count)))
	if n.sender != "" {
		x.AddChild(field("last-message-sender", n.sender))
	}
	if includeBody && n.body != "" {
		x.AddChild(field("last-message-body", n.body))
	}
	return x
}

// optionsForm writes the registration's publish options back as a form.
func optionsForm(opts []store.PushField) *stanza.Element {
	x := stanza.NewElement(NSData, "x", "type", "submit")
	for _, f := range opts {
		x.AddChild(field(f.Var, f.Values...))
	}
	return x
}

func field(name string, values ...string) *stanza.Element {
	f := stanza.NewElement(NSData, "field", "var", name)
	for _, v := range values {
		f.AddChild(&stanza.Element{Space: NSData, Name: "value", Text: v})
	}
	return f
}

// important reports whether a message is worth waking a device for: a
// chat or normal message, or a group's post (groupchat, which routed only
// sees when the groups service stored it for the user), with a body or an
// end-to-end encrypted payload (OMEMO), not a receipt, marker or chat
// state alone.
func important(m *stanza.Element) bool {
	switch m.Type() {
	case "", "normal", "chat", "groupchat":
	default:
		return false
	}
	for _, c := range m.Children {
		switch {
		case c.Space == stanza.NSClient && c.Name == "body",
			c.Name == "encrypted" && (c.Space == "eu.siacs.conversations.axolotl" || c.Space == "urn:xmpp:omemo:2"):
			return true
		}
	}
	return false
}

// storedFor reports whether the router stored m for user (it carries a
// stanza-id by user's bare JID): it waits in the offline queue until a
// device acknowledges it. A group post (stanza.NewPost) stands for the
// user's copy, which the group's log keeps until a device acknowledges
// it (and whose own stanza-id is by the user).
func storedFor(m *stanza.Element, user string) bool {
	if stanza.IsPost(m) {
		return true
	}
	for _, c := range m.Children {
		if c.Space == stanza.NSSID && c.Name == "stanza-id" && c.Attr("by") == user {
			return true
		}
	}
	return false
}
