package client

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

// TestMediaHelpers: errors never carry a URL's signature; aesgcm:// URLs
// are fetched over https except from loopback; slot names are random and
// keep only a plain extension.
func TestMediaHelpers(t *testing.T) {
	err := redact(&url.Error{Op: "Get", URL: "http://h/media/u/s/f.jpg?exp=1&sig=SECRET", Err: errors.New("reset")})
	if strings.Contains(err.Error(), "SECRET") || !strings.Contains(err.Error(), "http://h/media/u/s/f.jpg") {
		t.Fatalf("redacted error %q", err)
	}
	for u, want := range map[string]string{
		"aesgcm://media.example.org/p#x": "https", "aesgcm://127.0.0.1:5281/p#x": "http",
		"aesgcm://localhost/p#x": "http", "aesgcm://[::1]:5281/p#x": "http", "aesgcm://10.0.0.1/p": "https",
	} {
		if got := fetchScheme(u); got != want {
			t.Errorf("fetchScheme(%q) = %q, want %q", u, got, want)
		}
	}
	a, b := slotName("Holiday.JPG"), slotName("Holiday.JPG")
	if a == b || !strings.HasSuffix(a, ".jpg") || strings.Contains(a, "oliday") || len(a) != 20 {
		t.Fatalf("slot names %q %q", a, b)
	}
	for _, name := range []string{"x.tar.gz/../../x", "a.ex e", "noext", "a.verylongextension"} {
		if got := slotName(name); !strings.HasSuffix(got, ".bin") && !strings.HasSuffix(got, ".gz") {
			t.Errorf("slotName(%q) = %q", name, got)
		}
	}
}
