// Package admin is Parley's local administration API: account management
// (add, delete, change password, list) over a unix socket in the data
// directory, so that "parley user ..." works while "parley serve" holds the
// store's lock.
//
// # Protocol
//
// Newline-delimited JSON on a unix socket created with mode 0600 (Listen):
// the client writes one request per line and reads one response per line,
// in order, on the same connection.
//
//	{"op":"user.add","jid":"alice@localhost","password":"..."}   -> {"ok":true}
//	{"op":"user.del","jid":"alice@localhost"}                     -> {"ok":true}
//	{"op":"user.passwd","jid":"alice@localhost","password":"..."} -> {"ok":true}
//	{"op":"user.list","domain":"localhost"}                       -> {"ok":true,"users":["alice@localhost"]}
//	{"op":"ping"}                                                 -> {"ok":true}
//	failure                                  -> {"error":"user alice@localhost already exists","code":"exists"}
//
// Codes are "exists", "not_found", "invalid" and "internal"; the Client maps
// them back to ErrUserExists, ErrNoSuchUser and ErrInvalid. A request line
// is at most MaxRequestBytes; a longer one is answered with an error and
// the connection closed. Only the owner of the socket can connect: there is
// no authentication beyond the file's permissions.
//
// Passwords travel only inside requests; the server never logs them and no
// error message contains them.
//
// # Concurrency
//
// Server serves each connection on its own goroutine and may serve several
// listeners; its Accounts must be safe for concurrent use. Close stops every
// listener and connection and waits for operations in flight, so the caller
// may close the store afterwards. A Client is safe for concurrent use (calls
// are serialized on its one connection).
package admin
