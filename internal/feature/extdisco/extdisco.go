package extdisco

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/parley-im/parley/internal/module"
	"github.com/parley-im/parley/internal/stanza"
)

// NS is XEP-0215's namespace.
const NS = "urn:xmpp:extdisco:2"

// Service is one external service: Type stun, turn or turns (TURN over
// TLS), Transport udp or tcp.
type Service struct {
	Type, Host, Transport string
	Port                  int
}

// Credential is what Options.Issue returns for a user.
type Credential struct {
	Username, Password string
	Expires            time.Time
}

// Options configure the feature.
type Options struct {
	Services []Service
	// Issue derives a TURN credential for user (a bare JID).
	Issue func(user string) Credential
}

// Feature is the XEP-0215 module.
type Feature struct{ opts Options }

// New returns the feature.
func New(opts Options) (*Feature, error) {
	if len(opts.Services) == 0 || opts.Issue == nil {
		return nil, errors.New("extdisco: no services or no credential issuer")
	}
	return &Feature{opts: opts}, nil
}

// Name implements module.Feature.
func (f *Feature) Name() string { return "extdisco" }

// Register implements module.Feature.
func (f *Feature) Register(h module.Host) error {
	h.AddDiscoFeature(NS)
	return h.HandleIQ(NS, module.ToServer, f.answer)
}

func (f *Feature) answer(_ context.Context, iq *stanza.Element) (*stanza.Element, error) {
	from, err := iq.From()
	if err != nil || from.Local() == "" {
		return nil, stanza.NewError(stanza.Forbidden, "only accounts of this server get relay credentials")
	}
	q := iq.Children[0]
	if iq.Type() != "get" {
		return nil, stanza.NewError(stanza.BadRequest, "send <services/> or <credentials/> in an iq get")
	}
	user := from.Bare().String()
	switch q.Name {
	case "services":
		return f.services(iq, user, q.Attr("type")), nil
	case "credentials":
		return f.credentials(iq, user, q)
	}
	return nil, stanza.NewError(stanza.BadRequest, "send <services/> or <credentials/>")
}

// services lists the services of typ ("" for all), TURN with credentials.
func (f *Feature) services(iq *stanza.Element, user, typ string) *stanza.Element {
	out := stanza.NewElement(NS, "services")
	if typ != "" {
		out.SetAttr("type", typ)
	}
	var cred *Credential
	for _, s := range f.opts.Services {
		if typ != "" && s.Type != typ {
			continue
		}
		if s.Type != "stun" && cred == nil {
			c := f.opts.Issue(user)
			cred = &c
		}
		out.AddChild(element(s, cred))
	}
	return stanza.Result(iq).AddChild(out)
}

// credentials answers for the services named in q (by host and type).
func (f *Feature) credentials(iq *stanza.Element, user string, q *stanza.Element) (*stanza.Element, error) {
	out := stanza.NewElement(NS, "credentials")
	c := f.opts.Issue(user)
	for _, want := range q.Children {
		if want.Space != NS || want.Name != "service" {
			continue
		}
		found := false
		for _, s := range f.opts.Services {
			if s.Host == want.Attr("host") && (want.Attr("type") == "" || s.Type == want.Attr("type")) &&
				(want.Attr("port") == "" || want.Attr("port") == strconv.Itoa(s.Port)) {
				out.AddChild(element(s, &c))
				found = true
			}
		}
		if !found {
			return nil, stanza.NewError(stanza.ItemNotFound, "no such service here: "+want.Attr("host"))
		}
	}
	if len(out.Children) == 0 {
		return nil, stanza.NewError(stanza.BadRequest, "name a <service host='...' type='...'/>")
	}
	return stanza.Result(iq).AddChild(out), nil
}

// element renders one service; TURN ones carry the credential.
func element(s Service, c *Credential) *stanza.Element {
	el := stanza.NewElement(NS, "service", "type", s.Type, "host", s.Host, "port", strconv.Itoa(s.Port),
		"transport", s.Transport)
	if s.Type != "stun" && c != nil {
		el.SetAttr("username", c.Username).SetAttr("password", c.Password).SetAttr("restricted", "1").
			SetAttr("expires", c.Expires.UTC().Format(time.RFC3339))
	}
	return el
}
