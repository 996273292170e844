package media

import "net/http"

// CORS: the web client (internal/webui) is served by the chat server's
// HTTP listener, another origin than the media listener, and uploads and
// downloads with fetch(). Every media URL is a signed capability and no
// request uses cookies or other ambient credentials, so a page of any
// origin can do no more with a URL than curl can: the media server allows
// every origin ("*", never with credentials).

// setCORS adds the headers a cross-origin fetch needs to read the answer.
func setCORS(h http.Header) {
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Expose-Headers", "ETag, Upload-Offset, Upload-Complete, Content-Range, Content-Length")
}

// preflight answers a CORS preflight (OPTIONS with
// Access-Control-Request-Method): the methods and headers the media API
// takes. It reports false for other requests.
func preflight(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodOptions || r.Header.Get("Access-Control-Request-Method") == "" {
		return false
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Methods", "GET, HEAD, PUT")
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Content-Range, Range, If-None-Match")
	h.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
	return true
}
