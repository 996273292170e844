package webui

import (
	"embed"
	"encoding/json"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
)

//go:embed static
var static embed.FS

// Options describe the deployment the page talks to.
type Options struct {
	// Domain is the XMPP domain the page logs in to.
	Domain string
	// MediaURL is the media server's public base URL (config.MediaBaseURL);
	// its origin is allowed in the page's connect-src (uploads and
	// downloads). Empty: the page may only connect to its own origin.
	MediaURL string
}

// Handler serves the web client.
type Handler struct {
	files  http.Handler
	csp    string
	config []byte
}

// New returns the handler of the embedded web client.
func New(o Options) *Handler {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic("webui: embedded files missing: " + err.Error()) // a build error, not input
	}
	cfg, _ := json.Marshal(map[string]string{"domain": o.Domain, "mediaOrigin": origin(o.MediaURL)})
	return &Handler{files: http.FileServerFS(sub), csp: CSP(o.MediaURL), config: cfg}
}

// CSP is the Content-Security-Policy of every response: scripts, styles
// and images from the page's own origin only (no inline script, no eval),
// connections to the own origin (the WebSocket) and the media server,
// decrypted images as blob: URLs, no framing, no plugins, no forms.
func CSP(mediaURL string) string {
	connect := "'self'"
	if o := origin(mediaURL); o != "" {
		connect += " " + o
	}
	return "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; " +
		"connect-src " + connect + "; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}

// origin returns scheme://host[:port] of u, or "" when u is not an http(s) URL.
func origin(u string) string {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return ""
	}
	return p.Scheme + "://" + p.Host
}

// contentType is set explicitly so that no system MIME table changes what
// a script is served as (a module must be JavaScript).
func contentType(ext string) string {
	switch ext {
	case ".html":
		return "text/html; charset=utf-8"
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".png":
		return "image/png"
	case ".json":
		return "application/json"
	}
	return ""
}

// ServeHTTP serves GET and HEAD of the static files, "/" as index.html,
// and /config.json (the domain and the media origin).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", h.csp)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Cache-Control", "no-cache")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hd.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed: the web client's files are read-only", http.StatusMethodNotAllowed)
		return
	}
	if r.URL.Path == "/config.json" {
		hd.Set("Content-Type", "application/json")
		_, _ = w.Write(h.config)
		return
	}
	name := r.URL.Path
	if strings.HasSuffix(name, "/") {
		name += "index.html"
	}
	if ct := contentType(path.Ext(name)); ct != "" {
		hd.Set("Content-Type", ct)
	}
	h.files.ServeHTTP(w, r)
}
