package admin

import (
	"bufio"
	"errors"
)

// MaxRequestBytes is the largest request line the server reads.
const MaxRequestBytes = 64 << 10

// maxResponseBytes bounds a response line (a user list can be long).
const maxResponseBytes = 64 << 20

// Operations.
const (
	opPing   = "ping"
	opAdd    = "user.add"
	opDel    = "user.del"
	opPasswd = "user.passwd"
	opList   = "user.list"
	opBackup = "store.backup"
	opInfo   = "server.info"
	opUpgr   = "server.upgrade"
)

// Error codes on the wire.
const (
	codeExists   = "exists"
	codeNotFound = "not_found"
	codeInvalid  = "invalid"
	codeInternal = "internal"
)

// request is one line from the client.
type request struct {
	Op       string `json:"op"`
	JID      string `json:"jid,omitempty"`
	Password string `json:"password,omitempty"`
	Domain   string `json:"domain,omitempty"`
	Dir      string `json:"dir,omitempty"` // store.backup: where the snapshot goes (absolute)
}

// response is one line from the server: OK, or Error with Code.
type response struct {
	OK    bool     `json:"ok,omitempty"`
	Users []string `json:"users,omitempty"`
	// server.info: this process; server.upgrade: the new process.
	PID     int    `json:"pid,omitempty"`
	Version string `json:"version,omitempty"`
	Error   string `json:"error,omitempty"`
	Code    string `json:"code,omitempty"`
}

// errTooLong is returned by readLine for a line longer than its limit.
var errTooLong = errors.New("line too long")

// readLine reads one '\n'-terminated line of at most max bytes (without the
// newline), which it strips.
func readLine(r *bufio.Reader, max int) ([]byte, error) {
	var line []byte
	for {
		chunk, err := r.ReadSlice('\n')
		if len(line)+len(chunk) > max+1 {
			return nil, errTooLong
		}
		line = append(line, chunk...)
		if err == nil {
			return line[:len(line)-1], nil
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return nil, err
		}
	}
}

// codeOf maps an error kind to its wire code.
func codeOf(err error) string {
	switch {
	case errors.Is(err, ErrUserExists):
		return codeExists
	case errors.Is(err, ErrNoSuchUser):
		return codeNotFound
	case errors.Is(err, ErrInvalid):
		return codeInvalid
	}
	return codeInternal
}

// kindOf maps a wire code back to an error kind.
func kindOf(code string) error {
	switch code {
	case codeExists:
		return ErrUserExists
	case codeNotFound:
		return ErrNoSuchUser
	case codeInvalid:
		return ErrInvalid
	}
	return nil
}
