// Package lastactivity implements "last seen": XEP-0012 Last Activity for
// offline contacts (seconds since they went offline and the status they left
// with) and for the server (uptime).
//
// The live value is kept in memory: a connected device's liveness comes from
// its traffic and keep-alive pulses (tracked by its session), and only the
// moment a user's last device goes away is recorded. Records are written to
// the store in batches by Flush (called periodically and at shutdown), so a
// pulse every 5 s from a million devices costs no store write at all.
//
// Only a contact subscribed to the user's presence (or the user) may ask.
// All methods are safe for concurrent use.
package lastactivity
