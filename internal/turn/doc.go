// Package turn is Parley's TURN/STUN relay (RFC 8656, RFC 8489) for calls,
// built on pion/turn, and the issuing of its credentials.
//
// Credentials follow the "TURN REST API" scheme coturn implements
// (use-auth-secret): the username is "expiry:user", expiry in Unix seconds,
// and the password is base64(HMAC-SHA1(secret, username)). A chat server
// hands them out (XEP-0215) and the relay checks them with nothing but the
// shared secret, so relays can run anywhere ("parley turn") without access
// to the accounts.
//
// The Relay enforces a per-user allocation quota (keyed by the user part of
// the username), a bandwidth limit per allocation (packets over it are
// dropped, as a traffic shaper would), a relay port range, and refuses
// peers in address classes other than public ones unless the relay address
// is in the same class (a loopback relay for development may reach loopback
// peers; a public relay never reaches the operator's private network).
//
// Concurrency: a Relay is safe for concurrent use; pion runs one read loop
// per listener and one per allocation; the quota and metrics are guarded by
// their own locks or atomics. Close stops the listeners and every
// allocation. The shared secret is never logged.
package turn
