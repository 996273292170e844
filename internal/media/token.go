package media

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// signer makes and checks the HMAC-SHA-256 signatures of slot URLs.
type signer struct{ key []byte }

func (s signer) mac(parts ...string) string {
	m := hmac.New(sha256.New, s.key)
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	return hex.EncodeToString(m.Sum(nil))
}

// userHash names an uploader in keys and URLs without revealing the JID.
func (s signer) userHash(bareJID string) string { return s.mac("user", bareJID)[:32] }

// putClaims are what a PUT URL carries, all covered by its signature.
type putClaims struct {
	user, slot, name, ctype string
	size                    int64
	sha                     string // hex, "" when the client declared none
	exp                     int64  // unix seconds
}

func (c putClaims) sign(s signer) string {
	return s.mac("put", c.user, c.slot, c.name, c.ctype, strconv.FormatInt(c.size, 10), c.sha, strconv.FormatInt(c.exp, 10))
}

// getClaims are what a GET URL carries.
type getClaims struct {
	user, slot string
	exp        int64
}

func (c getClaims) sign(s signer) string {
	return s.mac("get", c.user, c.slot, strconv.FormatInt(c.exp, 10))
}

// newSlotID returns 128 random bits in hex and the slot's size.
func newSlotID(size int64) string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return hex.EncodeToString(b[:]) + "-" + strconv.FormatInt(size, 10)
}

var (
	userRe = regexp.MustCompile(`^[0-9a-f]{32}$`)
	slotRe = regexp.MustCompile(`^[0-9a-f]{32}-([0-9]{1,19})$`)
	shaRe  = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// slotSize returns the size encoded in a slot id, or -1 if it is not one.
func slotSize(slot string) int64 {
	m := slotRe.FindStringSubmatch(slot)
	if m == nil {
		return -1
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return -1
	}
	return n
}

// Errors of URL checking; each maps to an HTTP status and a rejection reason.
var (
	errMalformed = errors.New("malformed upload URL")
	errSignature = errors.New("invalid signature")
	errExpired   = errors.New("URL expired")
)

// signature is the request's signature: the Authorization bearer token (as
// the slot's PUT header says) or the sig query parameter.
func signature(r *http.Request) string {
	if a := r.Header.Get("Authorization"); strings.HasPrefix(a, "Bearer ") {
		return strings.TrimPrefix(a, "Bearer ")
	}
	return r.URL.Query().Get("sig")
}

// parsePut checks the signed URL of an upload request.
func parsePut(s signer, r *http.Request, now time.Time) (putClaims, error) {
	q := r.URL.Query()
	c := putClaims{user: r.PathValue("user"), slot: r.PathValue("slot"), name: r.PathValue("name"),
		ctype: q.Get("type"), sha: q.Get("sha256")}
	var err1, err2 error
	c.size, err1 = strconv.ParseInt(q.Get("size"), 10, 64)
	c.exp, err2 = strconv.ParseInt(q.Get("exp"), 10, 64)
	if err1 != nil || err2 != nil || !userRe.MatchString(c.user) || slotSize(c.slot) != c.size ||
		(c.sha != "" && !shaRe.MatchString(c.sha)) {
		return c, errMalformed
	}
	if !hmac.Equal([]byte(signature(r)), []byte(c.sign(s))) {
		return c, errSignature
	}
	if now.Unix() > c.exp {
		return c, errExpired
	}
	return c, nil
}

// parseGet checks the signed URL of a download request.
func parseGet(s signer, r *http.Request, now time.Time) (getClaims, error) {
	c := getClaims{user: r.PathValue("user"), slot: r.PathValue("slot")}
	exp, err := strconv.ParseInt(r.URL.Query().Get("exp"), 10, 64)
	if err != nil || !userRe.MatchString(c.user) || slotSize(c.slot) < 0 {
		return c, errMalformed
	}
	c.exp = exp
	if !hmac.Equal([]byte(r.URL.Query().Get("sig")), []byte(c.sign(s))) {
		return c, errSignature
	}
	if now.Unix() > c.exp {
		return c, errExpired
	}
	return c, nil
}

// putURL and getURL build the slot's URLs under base.
func putURL(base string, c putClaims) string {
	q := url.Values{"size": {strconv.FormatInt(c.size, 10)}, "type": {c.ctype}, "exp": {strconv.FormatInt(c.exp, 10)}}
	if c.sha != "" {
		q.Set("sha256", c.sha)
	}
	return base + "/upload/" + c.user + "/" + c.slot + "/" + url.PathEscape(c.name) + "?" + q.Encode()
}

func getURL(base, name string, c getClaims, sig string) string {
	q := url.Values{"exp": {strconv.FormatInt(c.exp, 10)}, "sig": {sig}}
	return base + "/media/" + c.user + "/" + c.slot + "/" + url.PathEscape(name) + "?" + q.Encode()
}
