// Package register implements in-band registration (XEP-0077): creating an
// account before authentication, and, for a logged-in user, changing the
// password and removing the account.
//
// The server loads the feature only when registration is allowed
// (--allow-registration); otherwise nothing here runs, the server does not
// announce jabber:iq:register, and requests are answered with
// service-unavailable by the core. Before authentication the connection
// layer hands jabber:iq:register requests to Registrar (only over TLS);
// account creation is limited per client address by a Limiter. Passwords
// are never stored: the Credentials function turns them into SCRAM keys.
//
// Feature and Registrar are safe for concurrent use; they hold no mutable
// state of their own (the Limiter guards its own).
package register
