// Package media is Parley's media server: an HTTP API for content-addressed
// uploads and downloads of files that travel outside the chat connection
// (photos, voice notes, videos, documents), as in WhatsApp.
//
// The chat server hands a client an upload slot (XEP-0363, see
// internal/feature/upload) made by Service.NewSlot: a PUT URL and a GET URL,
// both carrying an expiring HMAC-SHA-256 signature made with a secret that
// the chat servers and the media servers share (and nothing else). So a
// media server needs no connection to the chat servers: "parley media" runs
// it alone, with the secret and the blob store.
//
// Storage (blob.Store, keys chosen by the server only):
//
//	blobs/<aa>/<sha256 hex>          the bytes (aa: the first two hex digits), stored once whatever the number of uploads
//	slots/<user hash>/<slot id>      a JSON record per completed upload: hash, size, type, name, time
//
// The user hash is an HMAC of the uploader's bare JID (it links files of one
// uploader, but does not reveal the JID). A slot id is 128 random bits and
// the slot's size; the size in it lets the quota be counted from a listing.
// Partial uploads live in a local staging directory (<user hash>-<slot id>),
// never under blobs/ or slots/, so a crash in the middle of an upload leaves
// no partial blob visible; a resumed upload continues from the staged bytes.
// The quota counts a user's records and staged uploads, each at its slot's
// size.
//
// Concurrency: a Service is safe for concurrent use. Uploads to one slot are
// serialized by an in-process lock (a second concurrent PUT gets 409); a
// user's quota checks, with the staging or storing each allows, run one at
// a time; the sweeper's delete phase excludes upload completions of this
// process, and it keeps the blobs of the uploads this process stored while
// it ran (its listing of the records may have missed them).
package media
