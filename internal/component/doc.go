// Package component is Parley's side of the Jabber Component Protocol
// (XEP-0114): external services (a push gateway, a bot, a gateway to
// another network) connect over TCP, authenticate with the handshake and
// then exchange stanzas with the server as if they were a domain of it.
//
// Handshake: the component opens a stream in jabber:component:accept to
// its domain; an unknown domain gets host-unknown. The server answers with
// a stream header carrying a fresh stream id; the component sends
// <handshake> with the lower-case hex SHA-1 of the stream id followed by
// the domain's shared secret; a wrong digest gets not-authorized (and a
// delay), a right one an empty <handshake/>. A second connection for a
// connected domain replaces the first (conflict), so a component that lost
// its connection can come back at once.
//
// Stanzas: what a component sends must be from its domain or a subdomain
// of it (otherwise invalid-from ends the stream); it is handed to the
// router (Config.Router) in jabber:client, and a routing error goes back to
// the component. Stanzas the router gives to Server.Route for a connected
// component's domain (or a subdomain) are queued on the connection's
// bounded outbound queue and written by its writer goroutine; a full queue
// or no connection is a stanza error for the sender, never a wait.
//
// Concurrency: one reader and one writer goroutine per connection (there
// are few components); Server.mu guards the domain -> connection map. The
// listener is closed by Shutdown, which also ends every connection with
// system-shutdown. Secrets are never logged.
package component
