// Package jid parses, normalizes and formats XMPP addresses (RFC 7622):
// local@domain/resource.
//
// A JID is an immutable value type; every JID returned by this package is
// normalized (localpart and domainpart case-folded with PRECIS, resourcepart
// with OpaqueString), so two JIDs are equal exactly when their String forms
// are equal and when == on the values holds. Plain ASCII addresses take a fast
// path that avoids the PRECIS machinery. The package imports nothing internal
// and is safe for concurrent use.
package jid
