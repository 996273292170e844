package admin

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// idleTimeout closes a connection that sends no request for this long.
const idleTimeout = 2 * time.Minute

// Server serves the admin protocol (see the package documentation).
type Server struct {
	accounts Accounts
	backup   func(ctx context.Context, dir string) error // nil: no online backups
	info     Info                                        // server.info
	upgrade  func() (pid int, err error)                 // nil: no live upgrades
	log      *slog.Logger
	ctx      context.Context // cancelled by Close: operations in flight stop
	cancel   context.CancelFunc

	mu        sync.Mutex
	closed    bool                      // guarded by mu
	listeners map[net.Listener]struct{} // guarded by mu
	conns     map[net.Conn]bool         // true while it handles a request; guarded by mu
	wg        sync.WaitGroup            // connection handlers; Add under mu while !closed
}

// NewServer returns a server performing requests on accounts. log receives
// one line per operation (never a password); nil discards.
func NewServer(accounts Accounts, log *slog.Logger) *Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{accounts: accounts, log: log, ctx: ctx, cancel: cancel,
		listeners: make(map[net.Listener]struct{}), conns: make(map[net.Conn]bool)}
}

// WithBackup lets the server take online backups (store.backup) with fn,
// which writes a consistent snapshot of the store to dir. Call it before
// Serve.
func (s *Server) WithBackup(fn func(ctx context.Context, dir string) error) *Server {
	s.backup = fn
	return s
}

// Info describes the serving process (server.info).
type Info struct {
	PID     int
	Version string
}

// WithInfo sets what server.info answers. Call it before Serve.
func (s *Server) WithInfo(i Info) *Server {
	s.info = i
	return s
}

// WithUpgrade lets the server start a live upgrade (server.upgrade) with
// fn, which returns the new process's pid once it is ready. Call it before
// Serve.
func (s *Server) WithUpgrade(fn func() (pid int, err error)) *Server {
	s.upgrade = fn
	return s
}

// Serve accepts connections on l until Close, then returns ErrServerClosed.
// It closes l when it returns. It may be called for several listeners.
func (s *Server) Serve(l net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = l.Close()
		return ErrServerClosed
	}
	s.listeners[l] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, l)
		s.mu.Unlock()
		_ = l.Close()
	}()

	var backoff time.Duration
	for {
		conn, err := l.Accept()
		if err != nil {
			if s.isClosed() {
				return ErrServerClosed
			}
			if errors.Is(err, net.ErrClosed) {
				return err
			}
			// Out of file descriptors or the like: wait and retry.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.log.Warn("admin: accept failed; retrying", "err", err, "in", backoff)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		if !s.track(conn) {
			_ = conn.Close()
			return ErrServerClosed
		}
		go s.serveConn(conn)
	}
}

// Close stops every listener and connection, then waits for the operations
// in flight to finish. Later calls do nothing.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.cancel()
	for l := range s.listeners {
		_ = l.Close()
	}
	for c, busy := range s.conns {
		if !busy { // a busy one answers first (an upgrade's new pid), then closes
			_ = c.Close()
		}
	}
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// track registers a new connection; false if the server is closed.
func (s *Server) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[c] = false
	s.wg.Add(1)
	return true
}

// setBusy marks c as handling a request or not; false when the server is
// closed (the connection ends).
func (s *Server) setBusy(c net.Conn, busy bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.conns[c] = busy
	return !s.closed
}

func (s *Server) untrack(c net.Conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	_ = c.Close()
	s.wg.Done()
}

// serveConn answers the requests of one connection, in order.
func (s *Server) serveConn(c net.Conn) {
	defer s.untrack(c)
	r := bufio.NewReaderSize(c, 4096)
	enc := json.NewEncoder(c)
	for {
		_ = c.SetReadDeadline(time.Now().Add(idleTimeout))
		line, err := readLine(r, MaxRequestBytes)
		if errors.Is(err, errTooLong) {
			s.log.Warn("admin: request too large; closing the connection", "limit", MaxRequestBytes)
			_ = enc.Encode(response{Error: fmt.Sprintf("request larger than %d bytes", MaxRequestBytes), Code: codeInvalid})
			return
		}
		if err != nil {
			return // EOF, idle timeout, or Close
		}
		if !s.setBusy(c, true) {
			return
		}
		resp := s.handle(line)
		_ = c.SetWriteDeadline(time.Now().Add(idleTimeout))
		if err := enc.Encode(resp); err != nil || !s.setBusy(c, false) {
			return
		}
	}
}

// handle performs one request line.
func (s *Server) handle(line []byte) response {
	var req request
	if err := json.Unmarshal(line, &req); err != nil {
		s.log.Warn("admin: malformed request")
		return response{Error: "malformed request: want one JSON object per line", Code: codeInvalid}
	}
	ctx := s.ctx
	var users []string
	var err error
	switch req.Op {
	case opPing:
		return response{OK: true}
	case opInfo:
		return response{OK: true, PID: s.info.PID, Version: s.info.Version}
	case opUpgr:
		return s.doUpgrade()
	case opAdd:
		err = s.accounts.CreateUser(ctx, req.JID, req.Password)
	case opDel:
		err = s.accounts.DeleteUser(ctx, req.JID)
	case opPasswd:
		err = s.accounts.SetPassword(ctx, req.JID, req.Password)
	case opList:
		users, err = s.accounts.ListUsers(ctx, req.Domain)
	case opBackup:
		err = s.doBackup(ctx, req.Dir)
	default:
		s.log.Warn("admin: unknown operation", "op", req.Op)
		return response{Error: fmt.Sprintf("unknown operation %q", req.Op), Code: codeInvalid}
	}
	// Log the operation and the account, never the password.
	attrs := []any{"op", req.Op}
	if req.JID != "" {
		attrs = append(attrs, "jid", req.JID)
	}
	if req.Op == opList {
		attrs = append(attrs, "domain", req.Domain, "users", len(users))
	}
	if req.Dir != "" {
		attrs = append(attrs, "dir", req.Dir)
	}
	if err != nil {
		code := codeOf(err)
		if code == codeInternal {
			s.log.Error("admin: operation failed", append(attrs, "err", err)...)
		} else {
			s.log.Info("admin: operation refused", append(attrs, "err", err)...)
		}
		return response{Error: err.Error(), Code: code}
	}
	s.log.Info("admin: operation done", attrs...)
	return response{OK: true, Users: users}
}

// Listen creates the admin socket at path, readable and writable by its
// owner only (mode 0600). A socket file left behind by a process that died
// is replaced; a socket that still answers is an error, and so is a file
// that is not a socket.
func Listen(path string) (net.Listener, error) {
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("admin socket %s: exists and is not a socket", path)
		}
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			_ = c.Close()
			return nil, fmt.Errorf("admin socket %s: another process is listening on it", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("admin socket %s: removing the stale socket: %w", path, err)
		}
	}
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("admin socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		_ = l.Close()
		return nil, fmt.Errorf("admin socket: %w", err)
	}
	return l, nil
}

// doUpgrade starts a live upgrade and answers with the new process's pid.
func (s *Server) doUpgrade() response {
	if s.upgrade == nil {
		return response{Error: "this server was started without live upgrade support", Code: codeInvalid}
	}
	s.log.Info("admin: live upgrade requested")
	pid, err := s.upgrade()
	if err != nil {
		s.log.Error("admin: live upgrade failed", "err", err)
		return response{Error: err.Error(), Code: codeInternal}
	}
	return response{OK: true, PID: pid}
}

func (s *Server) doBackup(ctx context.Context, dir string) error {
	switch {
	case s.backup == nil:
		return fmt.Errorf("%w: this server's store takes no online backups (PostgreSQL: use pg_dump)", ErrInvalid)
	case !filepath.IsAbs(dir):
		return fmt.Errorf("%w: the backup directory must be an absolute path", ErrInvalid)
	}
	return s.backup(ctx, dir)
}
