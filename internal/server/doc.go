// Package server wires Parley together: it opens the store, builds the
// router, the session configuration and the features, starts the
// listeners (XMPP over TCP with STARTTLS, direct TLS, WebSocket; HTTP for
// /healthz and /metrics; the local admin socket), runs the keep-alive sweep,
// and shuts everything down cleanly.
//
// The Hub is the core's side of the module API: it dispatches stanzas from
// sessions (iq handlers by namespace, presence handling, routing), runs
// event hooks and keeps the stream-management resumption index. It is the
// only place that knows both sessions and features.
package server
