package client

import (
	"strconv"
	"strings"

	"github.com/parley-im/parley/internal/stanza"
)

// Namespaces of file messages.
const (
	nsOOB    = "jabber:x:oob"           // XEP-0066
	nsUpload = "urn:xmpp:http:upload:0" // XEP-0363
	nsHashes = "urn:xmpp:hashes:2"      // XEP-0300
)

// Attachment is a file sent in a message: where to fetch it and what it is.
//
// For a file Parley encrypted (UploadFile), URL is XEP-0454's
// aesgcm://host/path#<iv><key> form: the fragment holds the file's key and
// IV and is the only place the key appears; the server keeps only
// ciphertext. The message carrying the URL is not end-to-end encrypted
// here, so the chat server (which routes the message) can read the URL and
// so the key; WhatsApp-style end-to-end encrypted chats are out of scope.
type Attachment struct {
	URL       string // aesgcm://... (encrypted) or https://... (a plain file from another app)
	Size      int64  // bytes of the file (the plaintext); 0 if unknown
	MediaType string // MIME type, "image/jpeg"
	Name      string // the file's name as the sender had it
	// SHA256 is the hex SHA-256 of the bytes stored on the server (the
	// ciphertext, tag included, for an aesgcm:// URL); "" if unknown.
	SHA256 string
	// Thumbnail is a small JPEG preview of an image (at most 2 KiB),
	// base64; "" for other files.
	Thumbnail string
}

// Encrypted reports whether the file is encrypted (an aesgcm:// URL).
func (a Attachment) Encrypted() bool {
	return len(a.URL) > 9 && strings.EqualFold(a.URL[:9], "aesgcm://")
}

// appendAttachment adds the file elements to message m: the URL in the
// body (what XEP-0454 apps look for), XEP-0066 out-of-band data with the
// caption as its description, and Parley's <file/> with the metadata.
func appendAttachment(m *stanza.Element, a Attachment, caption string) {
	body := stanza.NewElement(stanza.NSClient, "body")
	body.Text = a.URL
	oob := stanza.NewElement(nsOOB, "x")
	u := stanza.NewElement(nsOOB, "url")
	u.Text = a.URL
	oob.AddChild(u)
	if caption != "" {
		d := stanza.NewElement(nsOOB, "desc")
		d.Text = caption
		oob.AddChild(d)
	}
	m.AddChild(body).AddChild(oob).AddChild(fileElement(a))
}

// fileElement is <file xmlns='urn:parley:0' size media-type name sha256>
// with an optional <thumbnail> (base64 JPEG). It never holds the key.
func fileElement(a Attachment) *stanza.Element {
	f := stanza.NewElement(stanza.NSParley, "file", "size", strconv.FormatInt(a.Size, 10))
	for _, kv := range [][2]string{{"media-type", a.MediaType}, {"name", a.Name}, {"sha256", a.SHA256}} {
		if kv[1] != "" {
			f.SetAttr(kv[0], kv[1])
		}
	}
	if a.Thumbnail != "" {
		t := stanza.NewElement(stanza.NSParley, "thumbnail")
		t.Text = a.Thumbnail
		f.AddChild(t)
	}
	return f
}

// parseAttachment reads a message's file, if it has one: from Parley's
// <file/> and XEP-0066 (the URL), or from a body that is only an
// aesgcm:// URL (XEP-0454 apps that send no out-of-band element). It
// returns the caption too.
func parseAttachment(el *stanza.Element) (*Attachment, string) {
	a := &Attachment{}
	var caption string
	if oob := el.Child(nsOOB, "x"); oob != nil {
		a.URL = oob.ChildText(nsOOB, "url")
		caption = oob.ChildText(nsOOB, "desc")
	}
	body := el.ChildText(stanza.NSClient, "body")
	if a.URL == "" && (Attachment{URL: body}).Encrypted() {
		a.URL = body
	}
	if a.URL == "" {
		return nil, ""
	}
	if f := el.Child(stanza.NSParley, "file"); f != nil {
		a.Size, _ = strconv.ParseInt(f.Attr("size"), 10, 64)
		a.MediaType, a.Name, a.SHA256 = f.Attr("media-type"), f.Attr("name"), f.Attr("sha256")
		a.Thumbnail = f.ChildText(stanza.NSParley, "thumbnail")
	}
	if a.Name == "" {
		a.Name = nameFromURL(a.URL)
	}
	return a, caption
}
