// Package devices implements linked devices (docs/protocol/devices.md):
// QR-code pairing of a new device, and the list and revocation of an
// account's linked devices, in namespace urn:parley:devices:0.
//
// Pairing has two halves. The new device's half runs on its
// unauthenticated stream: the c2s layer hands it <pair/> through
// [Feature.StartPairing] (c2s.Pairer), and a goroutine per pairing pushes
// a fresh reference every Options.Rotation and, once a logged-in device
// confirmed, the device credential sealed to the new device's X25519 key
// (package devicelink). The confirming half is the <link/> iq of a
// logged-in session. The two meet in a map of pending references, in
// memory on this node: in a cluster both devices must reach the same node
// (a documented limitation).
//
// Only password logins may link or revoke devices; any session of the
// account may list them. Revoking deletes the record (the credential can
// never match again) and closes the device's sessions at once with a
// not-authorized stream error (module.DeviceDisconnecter).
//
// Concurrency: the pending map is guarded by mu; each pairing's goroutine
// owns its pairing's rotation and exits when the stream's context ends, the
// credential was pushed, or the pairing expired. Safe for concurrent use.
package devices
