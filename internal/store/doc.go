// Package store declares Parley's storage contracts: one small interface per
// domain (accounts, roster, offline queue, last activity, blocking, message
// archive), the
// records they hold, and the errors they return. Backends (store/pebble,
// store/postgres) implement all of them; features depend only on the narrow
// interface they use. The shared conformance suite in store/storetest runs
// against every backend.
//
// Keys: users are identified by their bare JID in canonical form
// ("alice@example.org"), as produced by package jid.
//
// Durability contract: a method documented as "durable" has reached stable
// storage when it returns (backends group-commit concurrent callers into one
// sync). Other writes may be lost in a crash but never reordered with a
// later durable write by the same caller.
//
// Values: times are kept to the microsecond at least (PostgreSQL; Pebble
// keeps nanoseconds), so callers must not rely on finer precision; they
// come back in UTC. Strings must not contain NUL bytes; nil and empty
// byte slices and string lists are not distinguished. Records passed in
// and returned are copies: neither side's later changes affect the other.
//
// All implementations are safe for concurrent use.
package store
