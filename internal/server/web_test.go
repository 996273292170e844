package server

// The web client on the HTTP listener: the page and its security headers,
// the Origin check on both WebSocket endpoints, and CORS on the media
// listener (the page uploads there from another origin).
//
// Run: go test -run 'Web' -v ./internal/server/

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/parley-im/parley/internal/config"
)

func TestWebClientPageAndHeaders(t *testing.T) {
	ts := startServer(t, nil)
	base := "http://" + ts.addrs.HTTP
	for path, wantType := range map[string]string{"/": "text/html", "/js/main.js": "text/javascript", "/app.css": "text/css",
		"/vendor/qrcode-generator-2.0.4/qrcode.mjs": "text/javascript", "/config.json": "application/json"} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), wantType) {
			t.Fatalf("GET %s: %d %q", path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		csp := resp.Header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "script-src 'self';", "connect-src 'self' http://" + ts.addrs.Media + ";", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, want) {
				t.Fatalf("GET %s: CSP %q lacks %q", path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe") {
			t.Fatalf("CSP allows unsafe sources: %q", csp)
		}
		if path == "/config.json" && !strings.Contains(string(body), `"domain":"localhost"`) {
			t.Fatalf("config.json: %s", body)
		}
		if path == "/" && strings.Contains(string(body), "<script>") {
			t.Fatal("the page has an inline script")
		}
	}
	resp, err := http.Post(base+"/", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("POST /: %d", resp.StatusCode)
	}
	if resp, _ := http.Get(base + "/nope.js"); resp.StatusCode != 404 {
		t.Fatalf("GET /nope.js: %d", resp.StatusCode)
	}
}

// upgrade sends a WebSocket upgrade request with origin ("" = none) and
// returns the status and body.
func upgrade(t *testing.T, url, proto, origin string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Sec-WebSocket-Version", "13")
	req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	req.Header.Set("Sec-WebSocket-Protocol", proto)
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusSwitchingProtocols {
		return resp.StatusCode, ""
	}
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestWebSocketOriginCheck(t *testing.T) {
	ts := startServer(t, func(c *config.Config) { c.WebOrigins = "https://chat.example.org, http://127.0.0.2:8080" })
	for _, ep := range []struct{ path, proto string }{{"/ws", "parley"}, {"/xmpp-websocket", "xmpp"}} {
		url := "http://" + ts.addrs.HTTP + ep.path
		for origin, want := range map[string]int{
			"":                              101, // not a browser
			"http://" + ts.addrs.HTTP:       101, // the page served here
			"https://chat.example.org":      101, // --web-origins
			"HTTP://127.0.0.2:8080":         101, // origins are case-insensitive
			"https://evil.example":          403,
			"http://" + ts.addrs.HTTP + "1": 403,
			"null":                          403,
		} {
			got, body := upgrade(t, url, ep.proto, origin)
			if got != want {
				t.Fatalf("%s with Origin %q: %d %q, want %d", ep.path, origin, got, body, want)
			}
			if got == 403 && !strings.Contains(body, "not allowed") {
				t.Fatalf("403 without a reason: %q", body)
			}
		}
	}
}

func TestWebOriginsValidation(t *testing.T) {
	c := config.Default()
	c.Data = t.TempDir()
	c.WebOrigins = "https://ok.example, ftp://x, https://a.example/path"
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), `"ftp://x" is not an origin`) || !strings.Contains(err.Error(), "a.example/path") {
		t.Fatalf("Validate: %v", err)
	}
}

func TestMediaCORS(t *testing.T) {
	ts := startServer(t, nil)
	req, _ := http.NewRequest("OPTIONS", "http://"+ts.addrs.Media+"/upload/alice/slot/x.bin", nil)
	req.Header.Set("Origin", "http://"+ts.addrs.HTTP)
	req.Header.Set("Access-Control-Request-Method", "PUT")
	req.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	h := resp.Header
	if resp.StatusCode != 204 || h.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(h.Get("Access-Control-Allow-Methods"), "PUT") ||
		!strings.Contains(h.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Fatalf("preflight: %d %v", resp.StatusCode, h)
	}
	resp, err = http.Get("http://" + ts.addrs.Media + "/media/alice/slot/x.bin")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 && resp.StatusCode != 403 && resp.StatusCode != 404 || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("GET without signature: %d, CORS %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
	}
}
