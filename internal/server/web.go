package server

import (
	"net/http"
	"strings"

	"github.com/parley-im/parley/internal/config"
	"github.com/parley-im/parley/internal/webui"
)

// webClient is the embedded web client served at "/" (internal/webui).
func (s *Server) webClient() http.Handler {
	media := config.MediaBaseURL(s.cfg)
	if s.media != nil {
		media = s.media.BaseURL() // with the port the system chose
	}
	return webui.New(webui.Options{Domain: s.cfg.Domain, MediaURL: media})
}

// checkOrigin guards a WebSocket endpoint against cross-site use from a
// browser: a request with an Origin header (every browser sends one on a
// WebSocket upgrade) must come from the listener's own origin (the Host it
// was asked for) or one of --web-origins; others get 403 with the reason.
// Clients without Origin (apps, the Go client, bots) are not browsers a
// page can drive, and pass.
func (s *Server) checkOrigin(next http.Handler) http.Handler {
	allowed := config.WebOriginList(s.cfg)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o := strings.ToLower(r.Header.Get("Origin"))
		if o == "" || originAllowed(o, strings.ToLower(r.Host), allowed) {
			next.ServeHTTP(w, r)
			return
		}
		s.log.Debug("websocket upgrade refused: origin not allowed", "origin", o, "host", r.Host)
		http.Error(w, "origin "+o+" is not allowed to open this WebSocket (same origin or --web-origins only)", http.StatusForbidden)
	})
}

func originAllowed(origin, host string, allowed []string) bool {
	if host != "" && (origin == "http://"+host || origin == "https://"+host) {
		return true
	}
	for _, a := range allowed {
		if origin == a {
			return true
		}
	}
	return false
}
