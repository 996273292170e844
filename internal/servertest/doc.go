// Package servertest starts a real Parley server on ephemeral loopback
// ports for tests outside package server (the client library, the load
// generator, end-to-end tests), and creates accounts on it.
package servertest
