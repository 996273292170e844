// Package xmpptest is a small XMPP client for Parley's end-to-end tests:
// it negotiates a real stream over a real socket (STARTTLS or direct TLS,
// SASL PLAIN or SCRAM, resource binding, stream management) and offers
// transcript-style helpers (send, expect). It is test support, not the
// public client library (that is package client).
//
// A Client is used by one test goroutine; a background reader collects
// incoming elements.
package xmpptest
