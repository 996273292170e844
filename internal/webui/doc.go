// Package webui is Parley's web client: static files (plain ES modules, no
// build step) embedded in the binary and served by `parley serve` at "/" on
// the HTTP listener, with a strict Content-Security-Policy.
//
// The page speaks the binary protocol over the WebSocket at /ws
// (docs/protocol/binary.md), pairs by QR code as a linked device
// (docs/protocol/devices.md) and logs in with X-PARLEY-DEVICE; see
// docs/web.md. The JavaScript codec is checked against the Go codec's
// golden vectors by this package's tests (they run node).
//
// A Handler is immutable after New and safe for concurrent use.
package webui
