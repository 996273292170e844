package client

import (
	"encoding/base64"
	"errors"
	"fmt"
	"slices"

	"github.com/xdg-go/scram"

	"github.com/parley-im/parley/internal/stanza"
)

// loginSASL2 opens the stream and logs in with Extensible SASL (XEP-0388)
// and Bind 2 (XEP-0386), enabling stream management inline: no stream
// restart, no separate bind or enable (Options.SASL2). With a known
// mechanism and Pipeline the <authenticate/> goes with the stream open.
//
// With Pipeline, initial (Options.Available's presence) goes with the last
// write: the SCRAM response, or the <authenticate/> of the others.
func loginSASL2(w *wire, o *Options, a account, initial *stanza.Element) (*session, error) {
	w.queueOpen(a.domain)
	mech := ""
	if !o.pipelines() {
		initial = nil
	} else {
		mech = o.Mechanism
	}
	var conv *scram.ClientConversation
	var err error
	if mech != "" {
		if conv, err = queueAuthenticate(w, o, a, mech, initial); err != nil {
			return nil, err
		}
	}
	if err := w.flush(); err != nil {
		return nil, err
	}
	features, err := readFeatures(w)
	if err != nil {
		return nil, err
	}
	offered, ok := sasl2Mechanisms(features)
	switch {
	case !ok:
		return nil, errors.New("the server does not offer SASL2 (XEP-0388)")
	case mech != "" && !slices.Contains(offered, mech):
		return nil, fmt.Errorf("the server does not offer %s (it offers %v)", mech, offered)
	case mech == "":
		if mech, err = chooseMechanism(o, offered); err != nil {
			return nil, err
		}
		if conv, err = queueAuthenticate(w, o, a, mech, initial); err != nil {
			return nil, err
		}
		if err := w.flush(); err != nil {
			return nil, err
		}
	}
	s, err := sasl2Exchange(w, conv, initial)
	if s != nil {
		s.initialSent = initial != nil
	}
	return s, err
}

// sasl2Mechanisms returns the mechanisms of the SASL2 stream feature; ok
// is false when the server does not offer SASL2 with Bind 2 inline.
func sasl2Mechanisms(features *stanza.Element) (mechs []string, ok bool) {
	a := features.Child(stanza.NSSASL2, "authentication")
	if a == nil {
		return nil, false
	}
	inline := a.Child(stanza.NSSASL2, "inline")
	if inline == nil || inline.Child(stanza.NSBind2, "bind") == nil {
		return nil, false
	}
	for _, c := range a.Children {
		if c.Space == stanza.NSSASL2 && c.Name == "mechanism" {
			mechs = append(mechs, c.Text)
		}
	}
	return mechs, true
}

// queueAuthenticate queues SASL2's <authenticate/> of mech with its
// initial response and Bind 2's <bind/>, stream management's enable
// inside it; then initial, if any, when the mechanism has no further step
// (not SCRAM).
func queueAuthenticate(w *wire, o *Options, a account, mech string, initial *stanza.Element) (*scram.ClientConversation, error) {
	conv, first, err := initialResponse(o, a, mech)
	if err != nil {
		return nil, err
	}
	auth := stanza.NewElement(stanza.NSSASL2, "authenticate").SetAttr("mechanism", mech)
	ir := stanza.NewElement(stanza.NSSASL2, "initial-response")
	ir.Text = base64.StdEncoding.EncodeToString([]byte(first))
	auth.AddChild(ir)
	tag := stanza.NewElement(stanza.NSBind2, "tag")
	tag.Text = a.resource
	if tag.Text == "" {
		tag.Text = "parley"
	}
	bind := stanza.NewElement(stanza.NSBind2, "bind")
	bind.AddChild(tag)
	bind.AddChild(enableElement())
	auth.AddChild(bind)
	w.queue(auth)
	if conv == nil && initial != nil {
		w.queue(initial)
	}
	return conv, nil
}

// sasl2Exchange answers the server's challenges until its success (the
// bound session) or failure. SCRAM's response to the server's first
// message is its last: initial goes with it.
func sasl2Exchange(w *wire, conv *scram.ClientConversation, initial *stanza.Element) (*session, error) {
	for {
		el, err := w.read()
		if err != nil {
			return nil, err
		}
		if el.Space != stanza.NSSASL2 {
			return nil, fmt.Errorf("unexpected <%s> during authentication", el.Name)
		}
		switch el.Name {
		case "challenge":
			if err := answerChallenge(w, conv, el.Text, initial); err != nil {
				return nil, err
			}
			initial = nil // sent once
		case "success":
			return sasl2Success(w, conv, el)
		case "failure":
			return nil, authFailure(el)
		default:
			return nil, fmt.Errorf("unexpected <%s> during authentication", el.Name)
		}
	}
}

func answerChallenge(w *wire, conv *scram.ClientConversation, text string, initial *stanza.Element) error {
	if conv == nil {
		return errors.New("unexpected SASL challenge")
	}
	data, err := base64.StdEncoding.DecodeString(text)
	if err != nil {
		return errors.New("bad base64 from the server in <challenge>")
	}
	resp, err := conv.Step(string(data))
	if err != nil {
		return fmt.Errorf("SCRAM: %w", err)
	}
	r := stanza.NewElement(stanza.NSSASL2, "response")
	r.Text = base64.StdEncoding.EncodeToString([]byte(resp))
	w.queue(r)
	if initial != nil {
		w.queue(initial)
	}
	return w.flush()
}

// sasl2Success checks the server's SCRAM signature and returns the
// session Bind 2 bound.
func sasl2Success(w *wire, conv *scram.ClientConversation, el *stanza.Element) (*session, error) {
	if conv != nil && !conv.Done() {
		data, err := base64.StdEncoding.DecodeString(el.ChildText(stanza.NSSASL2, "additional-data"))
		if err != nil {
			return nil, errors.New("bad base64 from the server in <additional-data>")
		}
		if _, err := conv.Step(string(data)); err != nil || !conv.Valid() {
			return nil, errors.New("the server's SCRAM signature is wrong: not the real server")
		}
	}
	bound := el.Child(stanza.NSBind2, "bound")
	if bound == nil {
		return nil, errors.New("the server did not bind a resource (Bind 2)")
	}
	s := &session{w: w, jid: el.ChildText(stanza.NSSASL2, "authorization-identifier")}
	if en := bound.Child(stanza.NSSM, "enabled"); en != nil {
		s.smID = en.Attr("id")
	}
	return s, nil
}

// authFailure is the AuthError of a SASL <failure/> (either version).
func authFailure(el *stanza.Element) *AuthError {
	f := &AuthError{Condition: "not-authorized", Text: el.ChildText(el.Space, "text")}
	for _, c := range el.Children {
		if c.Name != "text" {
			f.Condition = c.Name
			break
		}
	}
	return f
}
