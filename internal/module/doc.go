// Package module is the API between Parley's core and its features.
//
// A feature (package internal/feature/<name>) is a value implementing
// Feature. At start-up the server calls Register once with a Host, on which
// the feature registers what it owns: iq handlers by payload namespace,
// presence handling, event hooks (a device became available or went away)
// and the disco features it offers. Features never import each other, the
// session, the router or a concrete store: they talk to the rest of Parley
// only through Host, Session and the narrow store interfaces they declare.
//
// Concurrency: handlers and hooks are called from session goroutines, many at
// once; a feature guards its own state. A handler must not block for long
// (a store call is fine; waiting on another session is not): it runs on the
// calling device's actor.
package module
