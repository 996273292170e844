package client

import "github.com/parley-im/parley/internal/stanza"

// SendAttachment sends a file uploaded with Upload or UploadFile to to,
// with an optional caption, and returns the message id (its ticks follow
// as for SendMessage).
//
// The message is what XEP-0454 apps expect: the aesgcm:// URL as the whole
// body and in XEP-0066 out-of-band data (the caption as its description),
// plus Parley's <file xmlns='urn:parley:0'/> with the size, media type,
// name, SHA-256 of the ciphertext and thumbnail. The key is only in the
// URL's fragment. The chat server routes (and may store) the message, so
// it can read the URL: see Attachment.
func (c *Client) SendAttachment(to string, a Attachment, caption string) (string, error) {
	id := newID()
	m := stanza.NewElement(stanza.NSClient, "message").SetAttr("to", to).SetAttr("type", "chat").SetAttr("id", id)
	appendAttachment(m, a, caption)
	m.AddChild(stanza.NewElement(stanza.NSReceipts, "request"))
	m.AddChild(stanza.NewElement(stanza.NSMarkers, "markable"))
	m.AddChild(stanza.NewElement(stanza.NSSID, "origin-id").SetAttr("id", id))
	return id, c.sendElement(m)
}
