package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"image"
	pngenc "image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rsc.io/qr"

	"github.com/parley-im/parley/client"
)

// TestLinkFromImage: a new device shows its code as a QR code; "parley
// link --image" reads it from the picture and links the device, which
// gets its credential. A picture without a code, or an image and a
// payload together, are refused with a clear message.
func TestLinkFromImage(t *testing.T) {
	srv := chatServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := client.StartPairing(ctx, "localhost", client.Options{Addr: srv.Native, Encoding: client.Binary,
		TLS: &tls.Config{InsecureSkipVerify: true}})
	if err != nil {
		t.Fatal(err)
	}
	code := <-p.Codes
	img, err := qr.Encode(code, qr.L)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pic := filepath.Join(dir, "qr.png")
	if err := os.WriteFile(pic, img.PNG(), 0o644); err != nil {
		t.Fatal(err)
	}
	blank := filepath.Join(dir, "blank.png")
	blankImg, _ := qr.Encode("x", qr.L)
	png := blankImg.PNG()
	if err := os.WriteFile(blank, png[:len(png)/2], 0o644); err != nil { // a truncated picture
		t.Fatal(err)
	}

	white := image.NewGray(image.Rect(0, 0, 120, 120))
	for i := range white.Pix {
		white.Pix[i] = 0xff
	}
	var wb bytes.Buffer
	if err := pngenc.Encode(&wb, white); err != nil {
		t.Fatal(err)
	}
	noCode := filepath.Join(dir, "white.png")
	if err := os.WriteFile(noCode, wb.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	o, alice := login(srv, "alice")
	fails(t, o, 2, "no readable QR code", append([]string{"link", "--image", noCode}, alice...)...)
	fails(t, o, 2, "not a PNG, JPEG or GIF image", append([]string{"link", "--image", "qrimage_test.go"}, alice...)...)
	fails(t, o, 2, "either PAYLOAD or --image", append([]string{"link", "--image", pic}, append(alice, code)...)...)
	fails(t, o, 2, "cannot read the picture", append([]string{"link", "--image", blank}, alice...)...)
	r := ok(t, o, append([]string{"link", "--name", "from a picture", "--image", pic}, alice...)...)
	if !strings.HasPrefix(r.stdout, "linked dev-") {
		t.Fatalf("link printed %q", r.stdout)
	}
	cred, err := p.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if id := strings.Fields(r.stdout)[1]; cred.DeviceID != id {
		t.Fatalf("the device got credential %q, link printed %s", cred.DeviceID, id)
	}
}

// TestDecodeWebClientScreenshot: the decoder reads the code off a
// screenshot of the whole pairing page of the web client, as Chromium
// draws it (test/web takes these).
func TestDecodeWebClientScreenshot(t *testing.T) {
	got, err := decodeQRImage("testdata/webclient-pairing-page.png")
	if err != nil {
		t.Fatal(err)
	}
	const want = "parley-link:1:qX0q5NDMcPZme21m_ZVhqw:mm9QGOiXOplbT_W4JJMTSAYAKRuAp6xKK_oqZFyh_Ac"
	if got != want {
		t.Fatalf("decoded %q, want %q", got, want)
	}
}

// FuzzDecodeQR: any bytes give a text or an error, never a panic or a hang
// (seeds in testdata/fuzz/FuzzDecodeQR: a QR code, a screenshot, broken
// pictures).
func FuzzDecodeQR(f *testing.F) {
	code, _ := qr.Encode("parley-link:1:q2Xo1hT6bC8jW4mN0aR5sA:3p6aJ1Z", qr.L)
	f.Add(code.PNG())
	f.Add([]byte("GIF89a"))
	f.Fuzz(func(t *testing.T, data []byte) {
		text, err := decodeQR(bytes.NewReader(data))
		if err == nil && text == "" {
			t.Fatal("no error and no text")
		}
	})
}
