package upload

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"

	"github.com/parley-im/parley/internal/jid"
	"github.com/parley-im/parley/internal/module"
	"github.com/parley-im/parley/internal/stanza"
)

// Namespaces.
const (
	NS       = "urn:xmpp:http:upload:0" // XEP-0363
	nsHashes = "urn:xmpp:hashes:2"      // XEP-0300
	nsData   = "jabber:x:data"          // XEP-0004
)

// Request is a slot request, checked.
type Request struct {
	User        jid.JID // the requester's bare JID
	Filename    string
	Size        int64
	ContentType string
	SHA256      []byte // nil when the client declared no hash
}

// Slot is what the client gets.
type Slot struct {
	PutURL, GetURL string
	PutHeaders     map[string]string
}

// Errors a Slotter returns for refusals the client can act on.
var (
	ErrTooLarge = errors.New("upload: file too large")
	ErrQuota    = errors.New("upload: quota exceeded")
)

// Slotter makes upload slots (the media server).
type Slotter interface {
	Slot(ctx context.Context, r Request) (Slot, error)
}

// Feature is the HTTP File Upload module.
type Feature struct {
	slots   Slotter
	maxSize int64
}

// New returns the feature; maxSize is the per-file limit it announces.
func New(slots Slotter, maxSize int64) *Feature { return &Feature{slots: slots, maxSize: maxSize} }

// Name implements module.Feature.
func (f *Feature) Name() string { return "upload" }

// Register implements module.Feature.
func (f *Feature) Register(h module.Host) error {
	ext, ok := h.(module.DiscoExtender)
	if !ok {
		return errors.New("upload: the host cannot announce a disco identity and form (module.DiscoExtender)")
	}
	h.AddDiscoFeature(NS)
	ext.AddDiscoIdentity(module.DiscoIdentity{Category: "store", Type: "file", Name: "HTTP File Upload"})
	ext.AddDiscoForm(f.form())
	return h.HandleIQ(NS, module.ToServer, f.request)
}

// form is the XEP-0128 form announcing the size limit.
func (f *Feature) form() *stanza.Element {
	x := stanza.NewElement(nsData, "x", "type", "result")
	field := func(name, value string, hidden bool) {
		fe := stanza.NewElement(nsData, "field", "var", name)
		if hidden {
			fe.SetAttr("type", "hidden")
		}
		v := stanza.NewElement(nsData, "value")
		v.Text = value
		x.AddChild(fe.AddChild(v))
	}
	field("FORM_TYPE", NS, true)
	field("max-file-size", strconv.FormatInt(f.maxSize, 10), false)
	return x
}

func (f *Feature) request(ctx context.Context, iq *stanza.Element) (*stanza.Element, error) {
	req, serr := parseRequest(iq)
	if serr != nil {
		return nil, serr
	}
	slot, err := f.slots.Slot(ctx, req)
	switch {
	case errors.Is(err, ErrTooLarge):
		return f.tooLarge(iq), nil
	case errors.Is(err, ErrQuota):
		return nil, stanza.NewError(stanza.ResourceConstraint, "Quota exceeded: delete or wait for older files to expire")
	case err != nil:
		return nil, err
	}
	return stanza.Result(iq).AddChild(slotElement(slot)), nil
}

// parseRequest reads <request filename size content-type/> and its
// optional <hash algo='sha-256'/>.
func parseRequest(iq *stanza.Element) (Request, *stanza.Error) {
	if iq.Type() != "get" {
		return Request{}, stanza.NewError(stanza.BadRequest, "slot requests are of type get")
	}
	el := iq.Children[0]
	from, err := iq.From()
	if el.Name != "request" || err != nil {
		return Request{}, stanza.NewError(stanza.BadRequest, "")
	}
	size, err := strconv.ParseInt(el.Attr("size"), 10, 64)
	if err != nil || size < 0 {
		return Request{}, stanza.NewError(stanza.BadRequest, "size must be a number of bytes")
	}
	if el.Attr("filename") == "" {
		return Request{}, stanza.NewError(stanza.BadRequest, "filename is required")
	}
	r := Request{User: from.Bare(), Filename: el.Attr("filename"), Size: size, ContentType: el.Attr("content-type")}
	if h := el.Child(nsHashes, "hash"); h != nil {
		sum, err := base64.StdEncoding.DecodeString(h.Text)
		if h.Attr("algo") != "sha-256" || err != nil || len(sum) != 32 {
			return Request{}, stanza.NewError(stanza.BadRequest, "only a base64 sha-256 hash is understood")
		}
		r.SHA256 = sum
	}
	return r, nil
}

// tooLarge is the file-too-large error of XEP-0363 section 4.
func (f *Feature) tooLarge(iq *stanza.Element) *stanza.Element {
	reply := stanza.ErrorReply(iq, stanza.NewError(stanza.NotAcceptable,
		fmt.Sprintf("File too large. The maximum file size is %d bytes", f.maxSize)))
	limit := stanza.NewElement(NS, "max-file-size")
	limit.Text = strconv.FormatInt(f.maxSize, 10)
	if e := reply.Child(stanza.NSClient, "error"); e != nil {
		e.AddChild(stanza.NewElement(NS, "file-too-large").AddChild(limit))
	}
	return reply
}

func slotElement(s Slot) *stanza.Element {
	put := stanza.NewElement(NS, "put", "url", s.PutURL)
	for _, name := range []string{"Authorization", "Cookie", "Expires"} { // the headers XEP-0363 allows
		if v, ok := s.PutHeaders[name]; ok {
			h := stanza.NewElement(NS, "header", "name", name)
			h.Text = v
			put.AddChild(h)
		}
	}
	return stanza.NewElement(NS, "slot").AddChild(put).AddChild(stanza.NewElement(NS, "get", "url", s.GetURL))
}
