package turn

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // the TURN REST API scheme is defined with HMAC-SHA1
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Errors of credential checks.
var (
	ErrMalformed = errors.New("turn: username is not expiry:user")
	ErrExpired   = errors.New("turn: credential expired")
)

// Credential is a short-lived TURN credential.
type Credential struct {
	Username string    // "expiry:user"
	Password string    // base64(HMAC-SHA1(secret, Username))
	Expires  time.Time // when the relay stops accepting it
}

// Issue derives a credential for user valid for ttl from now.
func Issue(secret []byte, user string, ttl time.Duration, now time.Time) Credential {
	exp := now.Add(ttl).Truncate(time.Second)
	name := strconv.FormatInt(exp.Unix(), 10) + ":" + user
	return Credential{Username: name, Password: password(secret, name), Expires: exp}
}

// password is base64(HMAC-SHA1(secret, username)).
func password(secret []byte, username string) string {
	mac := hmac.New(sha1.New, secret)
	mac.Write([]byte(username))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Check parses a username of the scheme and, if it has not expired at now,
// returns the password it must come with and its user part.
func Check(secret []byte, username string, now time.Time) (pass, user string, err error) {
	exp, user, ok := strings.Cut(username, ":")
	if !ok || user == "" {
		return "", "", ErrMalformed
	}
	t, perr := strconv.ParseInt(exp, 10, 64)
	if perr != nil || t <= 0 {
		return "", "", ErrMalformed
	}
	if now.Unix() >= t {
		return "", "", ErrExpired
	}
	return password(secret, username), user, nil
}

// UserOf returns the user part of a username of the scheme ("" when it has
// none).
func UserOf(username string) string {
	_, user, _ := strings.Cut(username, ":")
	return user
}
