package client

import (
	"bytes"
	"encoding/base64"
	"image"
	"image/color"
	_ "image/gif" // decoders for thumbnails
	"image/jpeg"
	_ "image/png"
	"io"
	"strings"
)

// Thumbnail limits.
const (
	maxThumbBytes  = 2 << 10    // the JPEG, before base64
	maxThumbSide   = 64         // pixels, first try
	maxThumbSource = 25_000_000 // pixels of a source image we decode (memory: up to 4 bytes each)
)

// thumbnail returns a small base64 JPEG of an image, or "" for anything
// else, an image too large to decode in bounded memory, or an error.
func thumbnail(rs io.ReadSeeker, mediaType string) string {
	if !strings.HasPrefix(mediaType, "image/") {
		return ""
	}
	if _, err := rs.Seek(0, io.SeekStart); err != nil {
		return ""
	}
	cfg, _, err := image.DecodeConfig(rs)
	if err != nil || cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > maxThumbSource {
		return ""
	}
	if _, err := rs.Seek(0, io.SeekStart); err != nil {
		return ""
	}
	img, _, err := image.Decode(rs)
	if err != nil {
		return ""
	}
	for side, quality := maxThumbSide, 60; side >= 8; side, quality = side*3/4, max(quality-10, 30) {
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, shrink(img, side), &jpeg.Options{Quality: quality}); err != nil {
			return ""
		}
		if buf.Len() <= maxThumbBytes {
			return base64.StdEncoding.EncodeToString(buf.Bytes())
		}
	}
	return ""
}

// shrink scales img to fit side×side, averaging up to 4×4 samples of the
// source per pixel.
func shrink(img image.Image, side int) image.Image {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	tw, th := side, side
	if w > h {
		th = max(1, h*side/w)
	} else {
		tw = max(1, w*side/h)
	}
	tw, th = min(tw, w), min(th, h)
	dst := image.NewRGBA(image.Rect(0, 0, tw, th))
	for y := range th {
		for x := range tw {
			dst.Set(x, y, average(img, b.Min.X+x*w/tw, b.Min.Y+y*h/th, max(1, w/tw), max(1, h/th)))
		}
	}
	return dst
}

// average is the mean color of a cell of the source, sampled on a 4×4 grid.
func average(img image.Image, x0, y0, cw, ch int) color.Color {
	var r, g, bl, n uint32
	for sy := range 4 {
		for sx := range 4 {
			cr, cg, cb, _ := img.At(x0+sx*cw/4, y0+sy*ch/4).RGBA()
			r, g, bl, n = r+cr>>8, g+cg>>8, bl+cb>>8, n+1
		}
	}
	return color.RGBA{R: uint8(r / n), G: uint8(g / n), B: uint8(bl / n), A: 255}
}
