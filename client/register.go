package client

import (
	"context"
	"crypto/tls"
	"net"
	"time"

	"github.com/parley-im/parley/internal/stanza"
)

// Register creates the account o.JID with o.Password on the server by
// in-band registration (XEP-0077), before any login: the server must allow
// it (Parley: --allow-registration). It returns a *IQError when the server
// refuses, for example "conflict" when the name is taken.
func Register(ctx context.Context, o Options) error {
	a, err := o.normalize()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, o.DialTimeout)
	defer cancel()
	conn, err := dialAny(ctx, &o)
	if err != nil {
		return err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	w, features, err := secureStream(conn, &o, a)
	if err != nil {
		return err
	}
	if features.Child(stanza.NSRegisterFeature, "register") == nil {
		return &IQError{Condition: "service-unavailable", Text: "the server does not offer in-band registration"}
	}
	q := stanza.NewElement(stanza.NSRegister, "query")
	for _, f := range [][2]string{{"username", a.local}, {"password", o.Password}} {
		el := stanza.NewElement(stanza.NSRegister, f[0])
		el.Text = f[1]
		q.AddChild(el)
	}
	iq := stanza.NewElement(stanza.NSClient, "iq").SetAttr("type", "set").SetAttr("id", "reg1")
	iq.AddChild(q)
	if err := w.send(iq); err != nil {
		return err
	}
	res, err := w.read()
	if err != nil {
		return err
	}
	if res.Type() != "result" {
		return iqError(res)
	}
	w.out = w.codec.appendClose(w.out[:0])
	_ = conn.SetWriteDeadline(time.Now().Add(time.Second))
	_, _ = w.conn.Write(w.out)
	return nil
}

// secureStream opens a stream and brings it to TLS as the transport says,
// returning the features offered on the secured stream.
func secureStream(conn net.Conn, o *Options, a account) (*wire, *stanza.Element, error) {
	w, err := secureWire(conn, o, a)
	if err != nil {
		return nil, nil, err
	}
	features, err := openStream(w, a.domain)
	if err != nil {
		return nil, nil, err
	}
	return w, features, nil
}

// secureWire brings a connection to TLS as the transport says (for
// STARTTLS, a first stream and its handshake); the caller opens the stream
// that SASL then runs on.
func secureWire(conn net.Conn, o *Options, a account) (*wire, error) {
	if o.Transport == DirectTLS {
		conn = tls.Client(conn, o.tlsConfig(a.domain))
	}
	var c codec = newXMLCodec()
	if o.Encoding == Binary {
		bc, err := newBinaryCodec(a.domain)
		if err != nil {
			return nil, err
		}
		c = bc
	}
	w := &wire{conn: conn, codec: c, buf: make([]byte, 16<<10)}
	if o.Transport != STARTTLS {
		return w, nil
	}
	features, err := openStream(w, a.domain)
	if err != nil {
		return nil, err
	}
	if err := startTLS(w, o, a, features); err != nil {
		return nil, err
	}
	return w, nil
}
