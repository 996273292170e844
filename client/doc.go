// Package client is Parley's Go client library: it connects a device to a
// Parley server (or any XMPP server) and sends and receives messages,
// delivery receipts, read markers, typing notifications and presence.
//
// A [Client] holds one long-lived connection, as a phone does: it dials
// (TCP with STARTTLS, direct TLS, or plain TCP on loopback for benchmarks),
// authenticates with SCRAM-SHA-256, SCRAM-SHA-1 or PLAIN, binds a resource
// and enables stream management (XEP-0198), so that every message gets a
// "sent" tick ([Sent]) once the server has stored it durably. With
// [Options].Reconnect it redials after a lost connection with exponential
// backoff and jitter, resumes the stream when the server still holds it, and
// re-sends whatever the server had not acknowledged: nothing is lost.
//
// Everything the server sends arrives as an [Event] on [Client.Events]:
// [*Message], [*Receipt], [*Marker], [*ChatState], [*Presence], [*Sent],
// [*MessageFailed] (the server refused a message: no such account, another
// server's address), [*Connected] and [*Disconnected]. Pings from the
// server are answered by the library.
//
// Files (photos, voice notes, documents) travel outside the chat
// connection, as in WhatsApp: [Client.UploadFile] encrypts a file on this
// device with a fresh key (AES-256-GCM in XEP-0454's aesgcm:// form, which
// OMEMO apps open too), streams it to the server's media service through an
// XEP-0363 slot (resuming broken uploads), and returns an [Attachment];
// [Client.SendAttachment] sends it; a [Message] that carries a file has it
// in Message.Attachment; [Client.DownloadAttachment] fetches (resuming with
// Range), checks the SHA-256 and the tag, and decrypts. Memory stays flat
// whatever the file size. The HTTP side uses Options.HTTPClient.
//
// Linked devices (docs/protocol/devices.md): a new device calls
// [StartPairing], shows the QR payloads it yields as the server rotates
// them, and gets a [DeviceCredential] once a logged-in device confirmed
// with [Client.Link]; it then logs in with Options.Device instead of a
// password. [Client.Devices] lists the account's linked devices and
// [Client.RevokeDevice] unlinks one. Linked devices get carbons of the
// account's other devices by default ([Message].Carbon).
//
// The wire encoding is behind a small internal codec interface: XMPP's XML
// today; Parley's binary encoding plugs in beside it.
package client
