package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"encoding/base64"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/parley-im/parley/internal/store"
)

// cbTLSExporter is the only channel binding type Parley accepts (RFC 9266):
// tls-unique is unsafe with TLS 1.3 and tls-server-end-point binds only the
// certificate.
const cbTLSExporter = "tls-exporter"

// scramState is the part of a Negotiation that lives between client-first
// and client-final.
type scramState struct {
	keys        store.SCRAMKeys
	found       bool   // real credentials (false: fake ones for an unknown user)
	gs2Header   string // as the client sent it ("n,,", "p=tls-exporter,,", ...)
	clientFirst string // client-first-message-bare
	serverFirst string
	nonce       string // the combined nonce sent in server-first
}

// scramFirst handles client-first-message (RFC 5802 section 7):
//
//	gs2-header = gs2-cbind-flag "," [ authzid ] ","
//	client-first-message-bare = [reserved-mext ","] username "," nonce ["," extensions]
//
// It validates everything itself (so each problem gets its RFC 6120
// condition), looks the user up and answers server-first:
//
//	r=<client nonce><server nonce>,s=<salt, base64>,i=<iterations>
func (n *Negotiation) scramFirst(ctx context.Context, msg []byte) ([]byte, error) {
	if !utf8.Valid(msg) {
		return nil, fail(CondMalformedRequest, "client-first-message is not UTF-8")
	}
	s := string(msg)
	flag, rest, ok1 := strings.Cut(s, ",")
	authzField, bare, ok2 := strings.Cut(rest, ",")
	if !ok1 || !ok2 {
		return nil, fail(CondMalformedRequest, "missing gs2 header")
	}
	if err := n.checkCBFlag(flag); err != nil {
		return nil, err
	}
	var authzid string
	if authzField != "" {
		v, ok := strings.CutPrefix(authzField, "a=")
		if !ok {
			return nil, fail(CondMalformedRequest, "bad authzid in gs2 header")
		}
		if authzid, ok = decodeSASLName(v); !ok || authzid == "" {
			return nil, fail(CondMalformedRequest, "bad authzid encoding")
		}
	}

	fields := strings.Split(bare, ",")
	if len(fields) < 2 {
		return nil, fail(CondMalformedRequest, "client-first-message needs n= and r=")
	}
	if strings.HasPrefix(fields[0], "m=") {
		return nil, fail(CondMalformedRequest, "SCRAM mandatory extensions are not supported")
	}
	rawUser, ok := strings.CutPrefix(fields[0], "n=")
	if !ok {
		return nil, fail(CondMalformedRequest, "missing username (n=)")
	}
	username, ok := decodeSASLName(rawUser)
	if !ok || username == "" {
		return nil, fail(CondMalformedRequest, "bad username encoding")
	}
	cnonce, ok := strings.CutPrefix(fields[1], "r=")
	if !ok || !validNonce(cnonce) {
		return nil, fail(CondMalformedRequest, "missing or bad client nonce (r=)")
	}
	for _, ext := range fields[2:] {
		if !validExtension(ext) {
			return nil, fail(CondMalformedRequest, "bad attribute in client-first-message")
		}
	}

	user, valid := n.resolveUser(username)
	if err := checkAuthzid(authzid, user, valid); err != nil {
		return nil, err
	}
	keys, found, err := n.keys(ctx, user, valid, username, n.hash)
	if err != nil {
		return nil, err
	}
	nonce := cnonce + n.serverNonce()
	serverFirst := "r=" + nonce + ",s=" + base64.StdEncoding.EncodeToString(keys.Salt) +
		",i=" + strconv.Itoa(keys.Iterations)
	n.scram = &scramState{keys: keys, found: found, gs2Header: flag + "," + authzField + ",",
		clientFirst: bare, serverFirst: serverFirst, nonce: nonce}
	n.user = user
	n.state = stateFinal
	return []byte(serverFirst), nil
}

// checkCBFlag applies RFC 5802 section 6 to the gs2-cbind-flag.
func (n *Negotiation) checkCBFlag(flag string) error {
	switch {
	case flag == "n" || flag == "y":
		if n.plus {
			return fail(CondMalformedRequest, n.mech+" requires channel binding (p=tls-exporter)")
		}
		// "y" (client supports binding, thinks we don't) is accepted even
		// when we offered -PLUS. RFC 5802 calls that a downgrade, but on
		// TLS 1.3 it is what every client that knows only tls-unique
		// (undefined for TLS 1.3, RFC 9266) must send: slixmpp, older
		// Smack and Gajim. Refusing would lock them out or push them to
		// PLAIN. The certificate check, not the flag, is what stops a man
		// in the middle here; -PLUS clients still get full binding.
		return nil
	case strings.HasPrefix(flag, "p="):
		name := flag[2:]
		if !validCBName(name) {
			return fail(CondMalformedRequest, "bad channel binding type name")
		}
		if !n.plus {
			return fail(CondMalformedRequest, "channel binding requires a -PLUS mechanism")
		}
		if name != cbTLSExporter {
			return fail(CondMalformedRequest, "unsupported channel binding type; this server supports tls-exporter")
		}
		return nil
	}
	return fail(CondMalformedRequest, "bad gs2 channel binding flag")
}

// scramFinal handles client-final-message:
//
//	channel-binding "," nonce ["," extensions] "," proof
func (n *Negotiation) scramFinal(msg []byte) error {
	st := n.scram
	s := string(msg)
	fields := strings.Split(s, ",")
	if len(fields) < 3 {
		return fail(CondMalformedRequest, "client-final-message needs c=, r= and p=")
	}
	c, ok := strings.CutPrefix(fields[0], "c=")
	if !ok {
		return fail(CondMalformedRequest, "missing channel binding (c=)")
	}
	cbind, err := base64.StdEncoding.DecodeString(c)
	if err != nil {
		return fail(CondMalformedRequest, "bad base64 in c=")
	}
	r, ok := strings.CutPrefix(fields[1], "r=")
	if !ok {
		return fail(CondMalformedRequest, "missing nonce (r=)")
	}
	if r != st.nonce {
		return fail(CondMalformedRequest, "nonce does not match")
	}
	for _, ext := range fields[2 : len(fields)-1] {
		if !validExtension(ext) {
			return fail(CondMalformedRequest, "bad attribute in client-final-message")
		}
	}
	p, ok := strings.CutPrefix(fields[len(fields)-1], "p=")
	if !ok {
		return fail(CondMalformedRequest, "missing proof (p=)")
	}
	proof, err := base64.StdEncoding.DecodeString(p)
	if err != nil || len(proof) != n.hash.size() {
		return fail(CondMalformedRequest, "bad proof (p=)")
	}

	if string(cbind) != n.expectedCBind(st) {
		if n.plus {
			return fail(CondNotAuthorized, "channel binding mismatch")
		}
		return fail(CondMalformedRequest, "c= does not repeat the gs2 header")
	}
	authMessage := st.clientFirst + "," + st.serverFirst + "," + s[:strings.LastIndexByte(s, ',')]
	// The proof is checked for fake keys too: the time taken must not
	// tell whether the user exists.
	if valid := n.proofValid(st.keys, authMessage, proof); !valid || !st.found {
		return errNotAuthorized()
	}
	serverSignature := hmacSum(n.hash.newHash(), st.keys.ServerKey, []byte(authMessage))
	serverFinal := "v=" + base64.StdEncoding.EncodeToString(serverSignature)
	n.success = []byte(serverFinal)
	n.scram = nil
	n.state = stateDone
	return nil
}

// serverNonce is the server's part of the combined nonce: 24 random bytes
// in base64 (the test hook's, when set).
func (n *Negotiation) serverNonce() string {
	if n.a.nonce != nil {
		return n.a.nonce()
	}
	var b [24]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return base64.StdEncoding.EncodeToString(b[:])
}

// expectedCBind is what c= must decode to (RFC 5802 section 7,
// cbind-input): the gs2 header, then with p= the channel binding data.
func (n *Negotiation) expectedCBind(st *scramState) string {
	if strings.HasPrefix(st.gs2Header, "p=") {
		return st.gs2Header + string(n.cbData)
	}
	return st.gs2Header
}

// proofValid checks a client's proof (RFC 5802 section 3): ClientKey is
// the proof XOR HMAC(StoredKey, AuthMessage), and H(ClientKey) must be
// StoredKey.
func (n *Negotiation) proofValid(k store.SCRAMKeys, authMessage string, proof []byte) bool {
	newHash := n.hash.newHash()
	clientKey := hmacSum(newHash, k.StoredKey, []byte(authMessage))
	for i := range clientKey {
		clientKey[i] ^= proof[i]
	}
	h := newHash()
	h.Write(clientKey)
	return hmac.Equal(h.Sum(nil), k.StoredKey)
}

// decodeSASLName undoes the saslname escaping (RFC 5802 section 5.1): "=2C"
// is ',' and "=3D" is '='; any other '=' is an error.
func decodeSASLName(s string) (string, bool) {
	if strings.IndexByte(s, '=') < 0 {
		return s, true
	}
	var b strings.Builder
	b.Grow(len(s))
	for {
		i := strings.IndexByte(s, '=')
		if i < 0 {
			b.WriteString(s)
			return b.String(), true
		}
		b.WriteString(s[:i])
		switch {
		case strings.HasPrefix(s[i:], "=2C"):
			b.WriteByte(',')
		case strings.HasPrefix(s[i:], "=3D"):
			b.WriteByte('=')
		default:
			return "", false
		}
		s = s[i+3:]
	}
}

// validNonce: printable ASCII except ',' (RFC 5802 section 7), non-empty.
func validNonce(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c > 0x7e || c == ',' {
			return false
		}
	}
	return true
}

// validCBName: 1*(ALPHA / DIGIT / "." / "-") (RFC 5056 section 7).
func validCBName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// validExtension: attr-val = ALPHA "=" value (unknown extensions are
// ignored, RFC 5802 section 5.1).
func validExtension(s string) bool {
	if len(s) < 2 || s[1] != '=' {
		return false
	}
	c := s[0]
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
