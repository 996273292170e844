// Package extdisco is XEP-0215 external service discovery: it tells a
// client which STUN and TURN relays to use for calls, with short-lived TURN
// credentials (the scheme of internal/turn, issued by a function the
// server gives it, so the feature never sees the shared secret).
//
// <services/> lists every service, TURN ones with credentials already
// (restricted='1'), as Conversations expects; <credentials/> answers for
// one service. Both are iq get requests to the server's domain.
//
// The feature holds no mutable state; it is safe for concurrent use.
package extdisco
