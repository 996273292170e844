package client

import (
	"context"
	"strconv"
	"time"

	"github.com/parley-im/parley/internal/stanza"
)

// nsExtDisco is XEP-0215 external service discovery.
const nsExtDisco = "urn:xmpp:extdisco:2"

// RelayService is a STUN or TURN server for calls, as the chat server
// announces it (XEP-0215); TURN ones carry a short-lived credential.
type RelayService struct {
	Type      string // stun, turn or turns (TURN over TLS)
	Host      string
	Port      int
	Transport string // udp or tcp
	Username  string
	Password  string
	Expires   time.Time
}

// URL is the service as a WebRTC ICE server URL (turn:host:port?transport=udp).
func (s RelayService) URL() string {
	u := s.Type + ":" + s.Host + ":" + strconv.Itoa(s.Port)
	if s.Type != "stun" {
		u += "?transport=" + s.Transport
	}
	return u
}

// RelayServices asks the server for its STUN and TURN services with fresh
// credentials (XEP-0215 <services/>).
func (c *Client) RelayServices(ctx context.Context) ([]RelayService, error) {
	res, err := c.call(ctx, c.account.domain, stanza.NewElement(nsExtDisco, "services"))
	if err != nil {
		return nil, err
	}
	q := res.Child(nsExtDisco, "services")
	if q == nil {
		return nil, nil
	}
	var out []RelayService
	for _, el := range q.Children {
		if el.Space != nsExtDisco || el.Name != "service" {
			continue
		}
		s := RelayService{Type: el.Attr("type"), Host: el.Attr("host"), Transport: el.Attr("transport"),
			Username: el.Attr("username"), Password: el.Attr("password")}
		s.Port, _ = strconv.Atoi(el.Attr("port"))
		s.Expires, _ = time.Parse(time.RFC3339, el.Attr("expires"))
		out = append(out, s)
	}
	return out, nil
}
