// Package ping answers XMPP pings (XEP-0199) addressed to the server or to
// the sender's own account. (The server's own keep-alive pings to quiet
// clients are sent by the session and the keep-alive sweep.)
package ping
