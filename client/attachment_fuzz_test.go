package client

import (
	"testing"

	"github.com/parley-im/parley/internal/stanza"
)

// FuzzAttachment: whatever a sender puts in the file elements, parsing
// never panics, and the metadata Parley sends comes back unchanged.
func FuzzAttachment(f *testing.F) {
	f.Add("aesgcm://h/p/cat.jpg?sig=x#00", int64(12), "image/jpeg", "cat.jpg", "ab12", "/9j/", "caption")
	f.Add("https://h/f", int64(0), "", "", "", "", "")
	f.Add("", int64(-1), "x", "../../etc/passwd", "", "", "")
	f.Fuzz(func(t *testing.T, url string, size int64, mediaType, name, sum, thumb, caption string) {
		a := Attachment{URL: url, Size: size, MediaType: mediaType, Name: name, SHA256: sum, Thumbnail: thumb}
		m := stanza.NewElement(stanza.NSClient, "message")
		appendAttachment(m, a, caption)
		got, gotCaption := parseAttachment(m)
		if url == "" {
			if got != nil {
				t.Fatalf("an attachment without a URL: %+v", got)
			}
			return
		}
		if name == "" {
			a.Name = nameFromURL(url)
		}
		if got == nil || *got != a || gotCaption != caption {
			t.Fatalf("parsed %+v %q, sent %+v %q", got, gotCaption, a, caption)
		}
		// A message with only a body and a stray <file/> must not panic either.
		m2 := stanza.NewElement(stanza.NSClient, "message")
		b := stanza.NewElement(stanza.NSClient, "body")
		b.Text = url
		m2.AddChild(b).AddChild(fileElement(a))
		parseAttachment(m2)
	})
}
