// Package router holds the registry of connected devices and the routing
// rules of RFC 6121 section 8: where a stanza addressed to a local user goes
// (one device, all available devices, the offline queue, or back to the
// sender as an error).
//
// Store-and-forward: a storable message (chat or normal with a body, a
// receipt or a marker) is first appended to the recipient's durable queue,
// stamped with a server stanza-id (XEP-0359), and only then handed to the
// recipient's available devices with its queue position. The device deletes
// it from the queue when the client acknowledges it (XEP-0198), so a
// message is erased once delivered and survives any crash before that. The
// sender's "sent" tick (its stream-management ack) is given after Route
// returns, that is after the sync.
//
// A service's own durable log (the groups' outbox) is routed by
// RouteLogged: a user whose devices are live and local is handed the
// entries with their log positions and no queue copy; the router tracks
// them until a device acknowledges them, and writes what no device
// acknowledged into the user's queue, in log order (logs.go).
//
// The Registry is sharded by user; all methods are safe for concurrent use.
// Route runs on the sender's goroutine and never blocks on a recipient:
// Device.Deliver only enqueues to the device's bounded mailbox.
package router
