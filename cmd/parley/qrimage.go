package main

import (
	"fmt"
	"image"
	_ "image/gif" // decoders for image.Decode
	_ "image/jpeg"
	_ "image/png"
	"io"
	"os"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
)

// maxQRImagePixels bounds the pictures "parley link --image" decodes (a
// 4K screenshot is 8.3 million pixels, a 5K one 14.7).
const maxQRImagePixels = 16 << 20

// decodeQRImage returns the text of the QR code in an image file (PNG,
// JPEG or GIF): a screenshot of the code the web client shows, say.
func decodeQRImage(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	text, err := decodeQR(f)
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return text, nil
}

// decodeQR reads a picture and the QR code in it. A malformed picture is
// an error, never a panic (the image and QR decoders are not ours: a panic
// in them is turned into an error too).
func decodeQR(r io.ReadSeeker) (text string, err error) {
	defer func() {
		if p := recover(); p != nil {
			text, err = "", fmt.Errorf("cannot read the picture (decoder failure: %v)", p)
		}
	}()
	cfg, _, err := image.DecodeConfig(r)
	if err != nil {
		return "", fmt.Errorf("not a PNG, JPEG or GIF image (%v)", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > maxQRImagePixels {
		return "", fmt.Errorf("%dx%d pixels is no size for a QR code picture", cfg.Width, cfg.Height)
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	img, _, err := image.Decode(r)
	if err != nil {
		return "", fmt.Errorf("cannot read the picture (%v)", err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		return "", fmt.Errorf("cannot read the picture (%v)", err)
	}
	hints := map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, hints)
	if err != nil {
		return "", fmt.Errorf("no readable QR code in the picture (%v)", err)
	}
	return res.GetText(), nil
}
